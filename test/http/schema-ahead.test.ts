// A daemon left running while a newer Supervisor sharing its PostgreSQL migrates the database
// says so: /readyz refuses (a load balancer takes it out), `daemon status` gives the reason, and
// the log says it once, also when nothing asks /readyz.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { SchemaWatch } from '../../src/core/schema-watch.js';
import { skipReason } from '../helpers/db.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { capturedLogLines } from '../helpers/services.js';
import { assertCliBuilt, cliEnv, describeResult, parseJson, runCli } from '../cli/run-cli.js';

const skip = await skipReason('postgres');
let daemon: TestDaemon;

before(async () => {
  if (skip) return;
  assertCliBuilt();
  daemon = await startTestDaemon('postgres');
});
after(async () => {
  await daemon?.close();
});

const FUTURE = '209912010000_from_a_newer_build';
const newerLines = () => capturedLogLines.filter((line) => line.includes(FUTURE));

test('once a newer build has migrated the database, /readyz answers 503 naming its migrations, status says why, and the log says it once', { skip }, async () => {
  const ready = await fetch(`${daemon.url}/readyz`);
  assert.equal(ready.status, 200);
  assert.equal(((await ready.json()) as { status: string }).status, 'ready');

  // What a newer daemon's start leaves behind: a migration this daemon's code does not have.
  await daemon.services.db.query('INSERT INTO domain_migrations (domain, name) VALUES ($1, $2)', ['core', FUTURE]);
  for (let i = 0; i < 2; i++) {
    const refused = await fetch(`${daemon.url}/readyz`);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '5', 'as every unavailable answer');
    const { error } = (await refused.json()) as { error: { code: string; message: string; details: Record<string, unknown> } };
    assert.equal(error.code, 'unavailable');
    assert.deepEqual(error.details, { database: 'postgres', unknown: [`core/${FUTURE}`] });
    assert.match(error.message, new RegExp(`migrated by a newer Supervisor \\(core/${FUTURE} unknown to this daemon's code\\): stop this daemon and start it from the new version`));
  }
  assert.equal(newerLines().length, 1, 'logged once, not at every look');
  assert.match(newerLines()[0]!, /"level":50/);

  // Exit 1, as for a daemon that does not answer: a monitor reading the code sees it.
  const status = await runCli(['daemon', 'status', '--json'], { env: cliEnv(daemon.home) });
  assert.equal(status.code, 1, describeResult(status));
  const json = parseJson(status);
  assert.equal(json.ready, false);
  assert.equal(json.database, 'postgres');
  assert.match(String(json.notReady), /migrated by a newer Supervisor/);
  const human = await runCli(['daemon', 'status'], { env: cliEnv(daemon.home) });
  assert.match(human.stdout, /^status: +running, not ready: the database was migrated by a newer Supervisor \(core\/209912010000/m);
  const field = await runCli(['daemon', 'status', '-f', 'notReady'], { env: cliEnv(daemon.home) });
  assert.match(field.stdout, /^the database was migrated by a newer Supervisor/);

  await daemon.services.db.query('DELETE FROM domain_migrations WHERE name = $1', [FUTURE]);
  assert.equal((await fetch(`${daemon.url}/readyz`)).status, 200);
  assert.equal((await runCli(['daemon', 'status'], { env: cliEnv(daemon.home) })).code, 0);
  // The end is logged, and a second upgrade under it is logged again.
  assert.equal(capturedLogLines.filter((line) => line.includes('all known to this daemon')).length, 1);
  await daemon.services.db.query('INSERT INTO domain_migrations (domain, name) VALUES ($1, $2)', ['core', FUTURE]);
  assert.equal((await fetch(`${daemon.url}/readyz`)).status, 503);
  assert.equal(newerLines().length, 2);
  await daemon.services.db.query('DELETE FROM domain_migrations WHERE name = $1', [FUTURE]);
  assert.equal((await fetch(`${daemon.url}/readyz`)).status, 200);
});

test('the watch looks by itself: the log says it without anyone asking /readyz', async () => {
  const said: Array<{ fields: unknown; message: string }> = [];
  let unknown: string[] = [];
  const watch = new SchemaWatch(async () => unknown, { error: (fields: unknown, message: string) => said.push({ fields, message }), info: () => undefined } as never);
  watch.start(5);
  try {
    await delay(30);
    assert.equal(said.length, 0, 'nothing to say while the schema is known');
    unknown = ['core/209912010000_x'];
    for (let i = 0; i < 100 && said.length === 0; i++) await delay(10);
    await delay(30);
    assert.equal(said.length, 1);
    assert.deepEqual(said[0]!.fields, { unknown: ['core/209912010000_x'] });
  } finally {
    watch.stop();
  }
});
