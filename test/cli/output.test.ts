/**
 * What `supervisor` prints for people and for scripts, on a seeded database:
 * aligned tables with the columns a person needs (every field with --wide),
 * one object as key: value lines with local and relative times, expired items
 * marked; --json; --field for one raw value; --all to the last page.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adminPrincipal } from '../../src/core/principal.js';
import { describeResult, parseJson, runCli, useCliDaemon } from './run-cli.js';

const admin = adminPrincipal('test-setup');
const SNAPSHOT = join(dirname(fileURLToPath(import.meta.url)), '__snapshots__', 'tables.txt');

/** A table with what changes from run to run (relative times, random ids) replaced, re-aligned. */
function normalise(text: string): string {
  return text
    .replace(/\b(\d+(y|mo|d|h|m|s) ago|in \d+(y|mo|d|h|m|s)|now)\b/g, '<when>')
    .replace(/\b[a-f0-9]{12,16}\b/g, "<id>")
    .split('\n')
    .map((line) => line.split(/ {2,}/).join(' | ').trimEnd())
    .join('\n');
}

describe('CLI output', () => {
  const t = useCliDaemon();
  let env: Record<string, string>;

  before(async () => {
    env = { ...t.env, TZ: 'UTC' };
    const { secrets, ports, projects } = t.daemon.services;
    await projects.add('test', { name: 'shop', description: 'The shop', directory: '/srv/shop' });
    await secrets.set(admin, { path: 'project/shop/database_url', value: 'postgres://shop', tags: ['db', 'prod'], description: 'main database' });
    // The test daemon's clock is 2026-11-23 10:00 UTC, so this one has expired by now.
    await secrets.set(admin, { path: 'project/shop/api_key', value: 'k1', expiresAt: new Date('2026-11-24T00:00:00.000Z') });
    await secrets.set(admin, { path: 'project/shop/api_key', value: 'k2', expiresAt: new Date('2026-11-24T00:00:00.000Z') });
    for (let i = 0; i < 5; i++) await secrets.set(admin, { path: `project/shop/many/key${i}`, value: `v${i}` });
    await ports.allocate(admin, { project: 'shop', service: 'api', hostname: 'api.shop.example.com' });
    await ports.allocate(admin, { project: 'shop', service: 'worker' });
    await secrets.grant('test', { project: 'shop', prefix: 'meta/shared-db/', access: 'read' });
  });

  test('list commands print tables; the snapshot holds each one (UPDATE_SNAPSHOTS=1 rewrites it)', async () => {
    const commands = [
      ['secrets', 'list', 'project/shop/', '--no-recursive'],
      ['secrets', 'history', 'project/shop/api_key'],
      ['secrets', 'due'],
      ['project', 'list'],
      ['port', 'list', 'shop'],
      ['port', 'summary', 'shop'],
      ['keys', 'list'],
      ['secrets', 'grants'],
      ['token', 'list'],
      ['audit', 'list', '--limit', '4'],
      ['tunnel', 'routes'],
      ['cloudflare', 'changes'],
    ];
    const sections: string[] = [];
    for (const args of commands) {
      const r = await runCli(args, { env });
      assert.equal(r.code, 0, describeResult(r));
      sections.push(`$ supervisor ${args.join(' ')}\n${normalise(r.stdout)}`);
    }
    const actual = sections.join('\n');
    if (process.env.UPDATE_SNAPSHOTS) {
      await mkdir(dirname(SNAPSHOT), { recursive: true });
      await writeFile(SNAPSHOT, actual);
    }
    assert.equal(actual, await readFile(SNAPSHOT, 'utf8'), 'run with UPDATE_SNAPSHOTS=1 if the change is deliberate');
  });

  test('columns line up: every cell starts where its header does', async () => {
    const r = await runCli(['port', 'list', 'shop'], { env });
    const [header, ...rows] = r.stdout.trimEnd().split('\n');
    const starts = [...header!.matchAll(/\S+( \S+)*/g)].map((m) => m.index);
    for (const row of rows) for (const start of starts.slice(1)) assert.equal(row[start! - 1], ' ', `${row}\n${header}`);
  });

  test('an expired secret is marked, in a table and on its own', async () => {
    const list = await runCli(['secrets', 'list', 'project/shop/', '--no-recursive'], { env });
    assert.match(list.stdout, /^project\/shop\/api_key +2 +- +\d+d ago +EXPIRED \d+d ago$/m);
    const one = await runCli(['secrets', 'get', 'project/shop/api_key'], { env });
    assert.match(one.stdout, /^expiresAt: +EXPIRED 2026-11-24 00:00:00 \(\d+d ago\)$/m);
    assert.match(one.stdout, /^value: +k2$/m);
  });

  test('a listing that includes deleted secrets marks them in a DELETED AT column; without one, no such column', async () => {
    await t.daemon.services.secrets.set(admin, { path: 'project/shop/old/token', value: 'gone' });
    await t.daemon.services.secrets.delete(admin, { path: 'project/shop/old/token' });
    const listed = await runCli(['secrets', 'list', 'project/shop/old/', '--include-deleted'], { env });
    assert.equal(listed.code, 0, describeResult(listed));
    assert.match(listed.stdout, /^PATH +VERSION +TAGS +UPDATED AT +EXPIRES AT +DELETED AT$/m);
    assert.match(listed.stdout, /^project\/shop\/old\/token +1 +- +\d+d ago +- +\d+d ago$/m);
    const live = await runCli(['secrets', 'list', 'project/shop/', '--no-recursive', '--include-deleted'], { env });
    assert.doesNotMatch(live.stdout, /DELETED AT/);
  });

  test('ports on another host: a HOST column tells them from this host\'s (none while every port is local)', async () => {
    const local = await runCli(['port', 'list', 'shop'], { env });
    assert.doesNotMatch(local.stdout, /HOST\b(?! ?NAME)/);
    await t.daemon.services.ports.allocate(admin, { project: 'shop', service: 'api', host: 'build-vm' });
    const both = await runCli(['port', 'list', 'shop'], { env });
    assert.match(both.stdout, /^PROJECT +SERVICE +PORT +PROTOCOL +HOSTNAME +STATUS +HOST$/m);
    assert.match(both.stdout, /^shop +api +\d+ +tcp +- +\S+ +build-vm$/m);
    assert.match(both.stdout, /^shop +api +\d+ +tcp +api\.shop\.example\.com +\S+ +local$/m);
    await t.daemon.services.ports.release(admin, { project: 'shop', service: 'api', host: 'build-vm' });
  });

  test('--wide shows every field with absolute times', async () => {
    const r = await runCli(['secrets', 'list', 'project/shop/', '--no-recursive', '--wide'], { env });
    assert.match(r.stdout.split('\n').find((l) => l.startsWith('PATH')) ?? '', /^PATH +VERSION +DESCRIPTION +TAGS +EXPIRES AT +ROTATION INTERVAL DAYS +VALUE CHANGED AT +CREATED AT +UPDATED AT +DELETED AT +LAST READ AT +READ COUNT$/);
    assert.match(r.stdout, /project\/shop\/database_url +1 +main database +db,prod +- +- +2026-11-23 10:00:00/);
  });

  test('--field prints one value raw (no newline when piped), or that field of every item', async () => {
    const value = await runCli(['secrets', 'get', 'project/shop/database_url', '-f', 'value'], { env });
    assert.equal(value.code, 0, describeResult(value));
    assert.equal(value.stdout, 'postgres://shop');
    const long = await runCli(['secrets', 'get', 'project/shop/database_url', '--field=version'], { env });
    assert.equal(long.stdout, '1');
    const paths = await runCli(['secrets', 'list', 'project/shop/many/', '--field', 'path'], { env });
    assert.equal(paths.stdout, [0, 1, 2, 3, 4].map((i) => `project/shop/many/key${i}\n`).join(''));
    const bad = await runCli(['secrets', 'get', 'project/shop/database_url', '-f', 'password'], { env });
    assert.equal(bad.code, 2, describeResult(bad));
    assert.match(bad.stderr, /--field password: the answer has no such field; it has path, version, .*value/);
  });

  test('--field with --json is refused (exit 2) before anything is called, for an operation and for daemon status', async () => {
    for (const args of [['secrets', 'get', 'project/shop/database_url', '-f', 'value', '--json'], ['--json', 'daemon', 'status', '--field', 'pid']]) {
      const both = await runCli(args, { env });
      assert.equal(both.code, 2, describeResult(both));
      assert.equal(both.stdout, '');
      assert.match(both.stderr, /--field and --json: choose one/);
    }
  });

  test('--all follows nextCursor to the end; without it the next page is hinted on stderr', async () => {
    const page = await runCli(['secrets', 'list', 'project/shop/many/', '--limit', '2', '-f', 'path'], { env });
    assert.equal(page.stdout.split('\n').filter(Boolean).length, 2);
    const first = await runCli(['secrets', 'list', 'project/shop/many/', '--limit', '2'], { env });
    assert.match(first.stderr, /^more results: add --all, or --cursor \S+\n$/);
    const all = await runCli(['secrets', 'list', 'project/shop/many/', '--limit', '2', '--all', '--json'], { env });
    assert.equal(all.code, 0, describeResult(all));
    const answer = parseJson(all);
    assert.deepEqual((answer.items as Array<{ path: string }>).map((i) => i.path), [0, 1, 2, 3, 4].map((i) => `project/shop/many/key${i}`));
    assert.equal(answer.nextCursor, null);
    assert.equal(all.stderr, '');
  });

  test('--json: the answer on stdout; an operation error as {"error":…} on stderr with exit 1, its message in CLI terms', async () => {
    const r = await runCli(['secrets', 'get', 'project/shop/nope', '--json'], { env });
    assert.equal(r.code, 1, describeResult(r));
    assert.equal(r.stdout, '');
    // The message names the command to run, as the line a person reads does: not the MCP tool.
    assert.deepEqual(JSON.parse(r.stderr), { error: { code: 'not_found', message: 'no secret at project/shop/nope; `supervisor secrets list` shows the paths that exist', details: {} } });
  });

  test('instructions regenerate --all is the command\'s own flag, not pagination', async () => {
    const r = await runCli(['instructions', 'regenerate', '--all', '--json'], { env });
    // A project here has no checkout, so the run reports a failure (exit 1); what counts is that it ran for all.
    assert.equal(r.code, 1, describeResult(r));
    assert.deepEqual([parseJson(r).ok, Array.isArray(parseJson(r).results)], [false, true]);
  });
});
