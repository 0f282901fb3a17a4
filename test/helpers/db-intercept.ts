import type { Db, QueryResult } from '../../src/core/db.js';

/** Runs a statement: `run` sends it on; an interceptor may count, hold, fail or time it. */
export type Around = <T>(sql: string, params: readonly unknown[] | undefined, run: () => Promise<QueryResult<T>>) => Promise<QueryResult<T>>;

/**
 * The database with every statement (in transactions too; migrations' `exec`
 * scripts aside) passed through `around`; everything else is the database's own.
 * `keepOpen` leaves the database open on close (another daemon starts on it next).
 */
export function interceptStatements(db: Db, around: Around, options: { keepOpen?: boolean } = {}): Db {
  return {
    ...db,
    kind: db.kind,
    query: (sql, params) => around(sql, params, () => db.query(sql, params)),
    transaction: (fn, options) => db.transaction((tx) => fn({ query: (sql, params) => around(sql, params, () => tx.query(sql, params)), exec: (sql) => tx.exec(sql) }), options),
    close: options.keepOpen ? async () => undefined : () => db.close(),
  };
}

/** The same database, left open when the daemon using it closes. */
export const keepOpen = (db: Db): Db => ({ ...db, kind: db.kind, close: async () => undefined });
