/**
 * Both storage backends answer the same way: the row count of a statement is what pg
 * reports — rows returned for a SELECT, rows changed for a write.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Db } from '../../src/core/db.js';
import { openTestDb, skipReason, testBackends } from '../helpers/db.js';

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
