import type { Db } from '../../src/core/db.js';

/**
 * The server process holding the cross-daemon lock `name` of `db`'s installation (its schema),
 * if any. Matched by the lock's key, not by who holds some lock: tests in other schemas on the
 * same server hold locks of their own at the same time.
 */
export async function lockHolderPid(db: Db, name: string): Promise<number | undefined> {
  const { rows } = await db.query<{ pid: number }>(
    `SELECT pid FROM pg_locks
     WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND ((classid::bigint << 32) | objid::bigint) = hashtextextended(current_schema() || ':' || $1::text, 0)`,
    [name],
  );
  return rows[0]?.pid;
}
