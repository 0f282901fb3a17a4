/**
 * copyDatabase moves a table in batches (500 rows each); rows of a table whose places
 * have holes and moved rows (deleted and updated rows) must all arrive, once each.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Db, Queryable } from '../../src/core/db.js';
import { copyDatabase } from '../../src/core/db-copy.js';
import { openTestDb, skipReason, type Backend } from '../helpers/db.js';

const migrate = async (db: Db) => {
  await db.query('CREATE TABLE IF NOT EXISTS items (id int PRIMARY KEY, body text NOT NULL, blob bytea)');
};

const contents = async (q: Queryable) => (await q.query<{ j: string }>('SELECT row_to_json(i)::text AS j FROM items i ORDER BY id')).rows.map((r) => r.j);

const pairs: Array<[Backend, Backend]> = [
  ['postgres', 'pglite'],
  ['pglite', 'postgres'],
];

for (const [from, to] of pairs) {
  describe(`copying a table of several batches, ${from} → ${to}`, { skip: await skipReason('postgres') }, () => {
    test('every row arrives once, with holes and moved rows in the source table', async (t) => {
      const source = await openTestDb(from, { empty: true });
      t.after(() => source.close());
      const target = await openTestDb(to, { empty: true });
      t.after(() => target.close());
      await migrate(source);
      await source.query(`INSERT INTO items SELECT n, 'row ' || n, CASE WHEN n % 7 = 0 THEN decode(md5(n::text), 'hex') END FROM generate_series(1, 1600) n`);
      // Holes where rows were deleted, and updated rows moved to the end of the table.
      await source.query('DELETE FROM items WHERE id % 5 = 0');
      await source.query("UPDATE items SET body = body || ' (changed)' WHERE id % 3 = 0");
      const outcome = await copyDatabase(source, target, { force: false, migrate });
      assert.deepEqual(outcome.tables, [{ table: 'items', rows: 1280 }]);
      const copied = await contents(target);
      assert.equal(new Set(copied).size, 1280);
      assert.deepEqual(copied, await contents(source));
    });
  });
}
