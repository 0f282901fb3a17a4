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

const migrateNotes = async (db: Db) => {
  await db.query(
    `CREATE TABLE IF NOT EXISTS notes (id bigserial PRIMARY KEY, body text NOT NULL,
       search tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED)`,
  );
};

for (const [from, to] of pairs) {
  describe(`copying generated columns and sequences, ${from} → ${to}`, { skip: await skipReason('postgres') }, () => {
    test('a generated column is computed by the target, and ids deleted before the copy are not handed out again', async (t) => {
      const source = await openTestDb(from, { empty: true });
      t.after(() => source.close());
      const target = await openTestDb(to, { empty: true });
      t.after(() => target.close());
      await migrateNotes(source);
      await source.query("INSERT INTO notes (body) SELECT 'note ' || n FROM generate_series(1, 5) n");
      await source.query('DELETE FROM notes WHERE id >= 4');
      await copyDatabase(source, target, { force: false, migrate: migrateNotes });
      const found = await target.query<{ id: string }>("SELECT id FROM notes WHERE search @@ to_tsquery('simple', '3')");
      assert.deepEqual(found.rows.map((r) => Number(r.id)), [3], 'the search vector was computed on the target');
      const next = await target.query<{ id: string }>("INSERT INTO notes (body) VALUES ('after the copy') RETURNING id");
      assert.equal(Number(next.rows[0]!.id), 6, 'ids 4 and 5 were handed out by the source');
      // A table whose every row was deleted continues too.
      await source.query('DELETE FROM notes');
      await copyDatabase(source, target, { force: true, migrate: migrateNotes });
      assert.equal(Number((await target.query<{ id: string }>("INSERT INTO notes (body) VALUES ('x') RETURNING id")).rows[0]!.id), 6);
    });
  });
}
