/**
 * A pooled PostgreSQL connection that goes silent (a NAT or firewall drops its packets,
 * nobody is told) fails the statement waiting on it as unavailable within the statement
 * limit, instead of holding it (and the request behind it) for as long as TCP retransmits;
 * the connection is discarded and the pool carries on with a new one.
 */
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { Db } from '../../src/core/db.js';
import { openPostgres } from '../../src/core/db-postgres.js';
import { openTestDb, skipReason, TEST_DATABASE_URL } from '../helpers/db.js';
import { isError } from '../helpers/errors.js';
import { startSilencingProxy, type SilencingProxy } from '../helpers/tcp-proxy.js';

/** The statement limit of the database under test: short, so a silent connection costs the test about a second. */
const LIMIT_MS = 1_000;

/** What `statement` settles to (its rows or its error), or 'still waiting' after `ms`. */
function settled(statement: Promise<unknown>, ms: number): Promise<unknown> {
  return Promise.race([statement.then((answer) => answer, (err: unknown) => err), new Promise((resolve) => setTimeout(resolve, ms, 'still waiting'))]);
}

const silentFailure = isError('unavailable', /did not answer a statement within 1\.1 s, so its connection was dropped/);

describe('a pooled connection that goes silent [postgres]', { skip: await skipReason('postgres') }, () => {
  let owner: Db;
  let proxy: SilencingProxy;
  let db: Db;
  before(async () => {
    owner = await openTestDb('postgres');
    await owner.query('CREATE TABLE silent_rows (v int)');
    proxy = await startSilencingProxy();
    const schema = (await owner.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s;
    // One connection: a silent one kept in the pool would be the next statement's too.
    db = await openPostgres({ connectionString: proxy.url, schema, maxConnections: 1, statementTimeoutMs: LIMIT_MS });
  });
  after(async () => {
    // The proxy first: its close ends the silenced sessions, and their locks, on the server.
    await proxy?.close();
    await db?.close().catch(() => undefined);
    await owner?.close();
  });

  const backendPid = async (q: Pick<Db, 'query'>) => (await q.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

  test('a statement on it fails as unavailable within the limit, and the next one gets a new connection and its own answer', async () => {
    const silenced = await backendPid(db);
    await proxy.silence(silenced);
    const started = Date.now();
    assert.ok(silentFailure(await settled(db.query('SELECT 1'), 5_000)));
    assert.ok(Date.now() - started < 3_000, `failed after ${Date.now() - started} ms`);
    const { rows } = await db.query<{ pid: number; mine: string }>('SELECT pg_backend_pid() AS pid, $1::text AS mine', ['second']);
    assert.notEqual(rows[0]!.pid, silenced, 'the silent connection was dropped, not reused');
    assert.equal(rows[0]!.mine, 'second');
  });

  test('a transaction whose connection goes silent fails as unavailable, commits nothing, and the pool carries on', async () => {
    const outcome = db.transaction(async (tx) => {
      await tx.query('INSERT INTO silent_rows VALUES (1)');
      await proxy.silence(await backendPid(tx));
      await tx.query('INSERT INTO silent_rows VALUES (2)');
    });
    assert.ok(silentFailure(await settled(outcome, 5_000)));
    assert.equal((await owner.query('SELECT v FROM silent_rows')).rowCount, 0);
    await db.transaction((tx) => tx.query('INSERT INTO silent_rows VALUES (3)'));
    assert.deepEqual((await owner.query<{ v: number }>('SELECT v FROM silent_rows')).rows, [{ v: 3 }]);
  });

  test("the server probes every pooled connection, so a silent client's session and locks go within ~25 s, not hours", async () => {
    const { rows } = await db.query<{ idle: string; interval: string; count: string }>(
      "SELECT current_setting('tcp_keepalives_idle') AS idle, current_setting('tcp_keepalives_interval') AS interval, current_setting('tcp_keepalives_count') AS count",
    );
    assert.deepEqual(rows[0], { idle: '10', interval: '5', count: '3' });
  });

  test('new connections are readied without sending a statement while another runs (pg warns of that on the daemon\'s stderr)', async () => {
    // In a process of its own: Node says a deprecation once per process, and this one has used pools already.
    const script = `
      const { openPostgres } = await import(${JSON.stringify(new URL('../../src/core/db-postgres.ts', import.meta.url).href)});
      const db = await openPostgres({ connectionString: ${JSON.stringify(TEST_DATABASE_URL)}, maxConnections: 4 });
      await Promise.all(Array.from({ length: 8 }, (_, i) => db.query('SELECT $1::int AS i', [i])));
      await db.close();`;
    const { stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
    assert.equal(stderr, '');
  });

  test('a statement that takes most of the limit still answers', async () => {
    assert.equal((await db.query<{ done: string }>("SELECT pg_sleep(0.7), 'done' AS done")).rows[0]!.done, 'done');
  });

  test('a statement that runs past the limit is stopped by the server too, not only given up on', async () => {
    const outcome = await settled(db.query('SELECT pg_sleep(30) AS overlong'), 5_000);
    assert.ok(isError('unavailable')(outcome));
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    try {
      const { rowCount } = await admin.query("SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%AS overlong' AND pid <> pg_backend_pid()");
      assert.equal(rowCount, 0, 'the server still runs the statement');
    } finally {
      await admin.end();
    }
  });

  test('an unbounded transaction (migrations) may run past the limit; the limit holds again after it', async () => {
    const slept = await db.transaction((tx) => tx.query<{ done: string }>("SELECT pg_sleep(1.5), 'done' AS done"), { unbounded: true });
    assert.equal(slept.rows[0]!.done, 'done');
    assert.equal((await db.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0]!.statement_timeout, '1s');
  });
});
