import type { Queryable } from './db.js';

/** Rows one statement deletes at most. */
const BATCH = 5000;

/**
 * Deletes the rows of `table` whose `at` is before `before`, a bounded batch per statement. A
 * table that fell far behind (a retention shortened, a daemon stopped for weeks) would otherwise
 * be one statement that runs past PostgreSQL's statement limit, is cancelled, and is tried again
 * and cancelled at every prune after, the table growing meanwhile. Each batch stands alone: a
 * prune cut short leaves the rest to the next one.
 */
export async function deleteOlderThan(q: Queryable, table: string, before: Date): Promise<number> {
  if (!/^[a-z_]+$/.test(table)) throw new Error(`not a table name: ${table}`);
  let deleted = 0;
  for (;;) {
    const { rowCount } = await q.query(`DELETE FROM ${table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${table} WHERE at < $1 LIMIT ${BATCH}))`, [before]);
    deleted += rowCount;
    if (rowCount < BATCH) return deleted;
  }
}
