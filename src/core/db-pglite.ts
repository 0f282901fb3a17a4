import { PGlite, types } from '@electric-sql/pglite';
import type { Db, QueryResult, Tx } from './db.js';
import { parseInt8, toBuffer } from './db.js';
import { LocalLocks } from './local-locks.js';

export interface PgliteOptions {
  /** Folder for the database files; omitted means in memory (tests). */
  dataDir?: string;
  /** A tarball from `dumpDataDir` to start from (tests reuse one migrated image). */
  loadDataDir?: Blob;
}

export async function openPglite(options: PgliteOptions = {}): Promise<Db & { dump(): Promise<Blob> }> {
  const pglite = await PGlite.create({
    dataDir: options.dataDir,
    loadDataDir: options.loadDataDir,
    parsers: {
      [types.INT8]: parseInt8,
      [types.BYTEA]: (value: string) => toBuffer(types.parsers[types.BYTEA]!(value, types.BYTEA)),
    },
  });

  const run = async <T>(q: Pick<PGlite, 'query'>, sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> => {
    const res = await q.query<T>(sql, params as unknown[] | undefined);
    return { rows: res.rows, rowCount: res.affectedRows ?? res.rows.length };
  };

  const locks = new LocalLocks();
  return {
    kind: 'pglite',
    query: (sql, params) => run(pglite, sql, params),
    transaction: (fn) =>
      pglite.transaction((t) => {
        const tx: Tx = {
          query: (sql, params) => run(t, sql, params),
          exec: async (sql) => void (await t.exec(sql)),
        };
        return fn(tx);
      }),
    async listen(_channel, handlers) {
      handlers.state(true);
      return { backendPid: () => undefined, stop: async () => undefined };
    },
    exclusive: (name, fn) => locks.exclusive(name, fn),
    tryHold: async (name) => locks.tryHold(name),
    close: () => pglite.close(),
    dump: () => pglite.dumpDataDir('none'),
  };
}
