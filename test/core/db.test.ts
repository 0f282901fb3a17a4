/**
 * Both storage backends answer the same way: the row count of a statement is what pg
 * reports — rows returned for a SELECT, rows changed for a write.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { Db } from '../../src/core/db.js';
import { openPostgres } from '../../src/core/db-postgres.js';
import { openTestDb, skipReason, TEST_DATABASE_URL, testBackends } from '../helpers/db.js';
import { isError } from '../helpers/errors.js';
import { startSilencingProxy } from '../helpers/tcp-proxy.js';
import { within } from '../helpers/wait.js';

for (const backend of testBackends()) {
  describe(`Db results [${backend}]`, { skip: await skipReason(backend) }, () => {
    let db: Db;
    before(async () => {
      db = await openTestDb(backend);
      await db.query('CREATE TABLE counted (v int)');
    });
    after(() => db?.close());

    test('rowCount: rows returned by a SELECT, rows changed by a write, 0 when none', async () => {
      assert.equal((await db.query('INSERT INTO counted SELECT g FROM generate_series(1, 3) g')).rowCount, 3);
      assert.equal((await db.query('SELECT v FROM counted WHERE v > $1', [1])).rowCount, 2);
      assert.equal((await db.query('SELECT v FROM counted WHERE v > $1', [9])).rowCount, 0);
      assert.equal((await db.query('UPDATE counted SET v = v + 10 WHERE v < $1', [3])).rowCount, 2);
      assert.equal((await db.query('DELETE FROM counted WHERE v > $1 RETURNING v', [100])).rowCount, 0);
    });
  });
}

describe('a pooled connection lost mid-statement [postgres]', { skip: await skipReason('postgres') }, () => {
  let db: Db;
  before(async () => {
    db = await openTestDb('postgres');
  });
  after(() => db?.close());

  /** What `statement` (which must contain `tag`) throws when its server process is terminated while it runs. */
  async function terminatedDuring(tag: string, statement: Promise<unknown>): Promise<unknown> {
    const outcome = statement.then(() => undefined, (err: unknown) => err);
    const killer = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await killer.connect();
    try {
      await within(5_000, 'the statement runs', async () => {
        const { rowCount } = await killer.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()', [`%${tag}%`]);
        return (rowCount ?? 0) > 0;
      });
    } finally {
      await killer.end();
    }
    return outcome;
  }

  test('a transaction whose connection is terminated fails, the process lives on, and the next statement gets a new connection', async () => {
    const err = await terminatedDuring('lost_tx', db.transaction((tx) => tx.query('SELECT pg_sleep(5) AS lost_tx')));
    assert.ok(err instanceof Error, 'the transaction failed');
    assert.equal((await db.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one, 1);
  });

  test('a lost connection is unavailable (503, try again), not an internal error', async () => {
    const lost = isError('unavailable', /lost the connection to PostgreSQL/);
    assert.ok(lost(await terminatedDuring('lost_query', db.query('SELECT pg_sleep(5) AS lost_query'))));
    assert.ok(lost(await terminatedDuring('lost_in_tx', db.transaction((tx) => tx.query('SELECT pg_sleep(5) AS lost_in_tx')))));
  });
});

describe('a database that stops answering new connections [postgres]', { skip: await skipReason('postgres') }, () => {
  test('a statement that needs a new connection fails as unavailable after the connect timeout instead of waiting for ever', async () => {
    const owner = await openTestDb('postgres');
    const proxy = await startSilencingProxy();
    const schema = (await owner.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s;
    const db = await openPostgres({ connectionString: proxy.url, schema, connectTimeoutMs: 300 });
    try {
      proxy.silenceNew(true);
      // The pool's one connection is busy: the second statement needs another.
      const busy = db.query('SELECT pg_sleep(0.5)');
      const answer = await Promise.race([db.query('SELECT 1').then(() => 'answered', (err: unknown) => err), new Promise((resolve) => setTimeout(resolve, 3_000, 'still waiting'))]);
      assert.ok(isError('unavailable', /lost the connection to PostgreSQL \(timeout/)(answer));
      await busy;
    } finally {
      await proxy.close();
      await db.close().catch(() => undefined);
      await owner.close();
    }
  });
});
