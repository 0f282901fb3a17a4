// A daemon whose database connection goes silent answers 503 (try again) within its statement
// limit instead of holding the request, and answers as before once it has reconnected.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/app.js';
import { ManualClock } from '../../src/core/clock.js';
import type { Db } from '../../src/core/db.js';
import { openPostgres } from '../../src/core/db-postgres.js';
import { createLogger } from '../../src/core/log.js';
import { startDaemon, type RunningDaemon } from '../../src/daemon.js';
import { openTestDb, skipReason } from '../helpers/db.js';
import { captureStream } from '../helpers/services.js';
import { startSilencingProxy, type SilencingProxy } from '../helpers/tcp-proxy.js';

const skip = await skipReason('postgres');
let owner: Db;
let proxy: SilencingProxy;
let home: string;
let daemon: RunningDaemon;
/** The daemon's pool (one connection). */
let db: Db;

before(async () => {
  if (skip) return;
  owner = await openTestDb('postgres');
  proxy = await startSilencingProxy();
  const schema = (await owner.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s;
  // One pooled connection, so the test knows which to silence; a statement limit of 1 s.
  db = await openPostgres({ connectionString: proxy.url, schema, maxConnections: 1, statementTimeoutMs: 1_000 });
  home = await mkdtemp(join(tmpdir(), 'supervisor-daemon-'));
  const config = loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_PORT: '0', SUPERVISOR_LOG_LEVEL: 'warn' });
  daemon = await startDaemon(config, { db, log: createLogger('warn', captureStream()), clock: new ManualClock(new Date('2026-11-23T10:00:00Z')) });
});
after(async () => {
  if (skip) return;
  // The proxy first: a silenced connection would keep the daemon waiting for its goodbye.
  await proxy?.close();
  await daemon?.close();
  await owner?.close();
  await rm(home, { recursive: true, force: true });
});

test('a request whose database connection goes silent is answered 503 within the statement limit, and the next one as before', { skip }, async () => {
  const secrets = () => fetch(`${daemon.url}/api/v1/secrets`, { headers: { authorization: `Bearer ${daemon.initialAdminToken}` }, signal: AbortSignal.timeout(10_000) });
  assert.equal((await secrets()).status, 200);
  await proxy.silence((await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
  const started = Date.now();
  const answer = await secrets();
  assert.equal(answer.status, 503);
  const { error } = (await answer.json()) as { error: { code: string; message: string } };
  assert.equal(error.code, 'unavailable');
  assert.match(error.message, /^PostgreSQL did not answer a statement within 1\.1 s/);
  assert.ok(Date.now() - started < 5_000, `answered after ${Date.now() - started} ms`);
  assert.equal((await secrets()).status, 200);
});

test('/readyz answers 503 within its own limit when the database is silent, not after the statement limit', { skip }, async () => {
  const quiet = await startSilencingProxy();
  const slow = await openPostgres({ connectionString: quiet.url, schema: (await owner.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s, maxConnections: 1, statementTimeoutMs: 30_000 });
  // A second daemon of the same data dir (its master key), whose statements may take 30 s.
  const patient = await startDaemon(loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_PORT: '0', SUPERVISOR_LOG_LEVEL: 'warn' }), { db: slow, log: createLogger('warn', captureStream()), clock: new ManualClock(new Date('2026-11-23T10:00:00Z')) }).catch(async (err: unknown) => {
    await slow.close();
    await quiet.close();
    throw err;
  });
  try {
    const ready = () => fetch(`${patient.url}/readyz`, { signal: AbortSignal.timeout(20_000) });
    assert.equal((await ready()).status, 200);
    await quiet.silence((await slow.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
    const answer = await ready();
    assert.equal(answer.status, 503);
    assert.equal(answer.headers.get('retry-after'), '5');
    assert.deepEqual(await answer.json(), { error: { code: 'unavailable', message: 'database did not answer within 2 s', details: { database: 'postgres' } } });
  } finally {
    // The proxy first: a silenced connection would keep the daemon waiting for its goodbye.
    await quiet.close();
    await patient.close();
  }
});
