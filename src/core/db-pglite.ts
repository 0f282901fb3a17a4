import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { PGlite, types } from '@electric-sql/pglite';
import { PGLITE_CONF, PGLITE_WASM_TIERING_BUDGET } from './pglite-conf.js';
import type { Db, QueryResult, Tx } from './db.js';
import { parseInt8, toBuffer } from './db.js';
import { LocalLocks } from './local-locks.js';
import type { DomainMigrations } from './migrate.js';
import { hasCluster } from './datadir.js';

export interface PgliteOptions {
  /** Folder for the database files; omitted means in memory (tests). */
  dataDir?: string;
  /** A tarball from `dumpDataDir` to start from (tests reuse one migrated image). */
  loadDataDir?: Blob;
  /**
   * The domains whose migrations a new cluster gets before it is put in place: applied by the
   * child that creates it (see initCluster), so the process that opens it does not keep the
   * memory they took inside PostgreSQL (~20 MB of a first start's RSS).
   */
  migrations?: readonly DomainMigrations[];
  /** Create a missing cluster in this process: only the init child itself (pglite-init.ts). */
  createHere?: boolean;
  /**
   * The work PostgreSQL's background processes would do, which single-user mode (PGlite) has none
   * of, done while the database is open (the daemon's): a CHECKPOINT every `everyMs`, so the
   * write-ahead log is recycled instead of growing with every write; and a VACUUM (ANALYZE) at the
   * first of them and then every `vacuumEveryMs`, so rows deleted (call records past their
   * retention) or updated (read counts) are reclaimed and the planner's statistics follow the data.
   */
  maintenance?: { everyMs: number; vacuumEveryMs: number };
}

/**
 * The loader flags of this process (tsx under tests), for a child running a module of
 * ours: nothing else — not `-e` and its code, not a debugger's port.
 */
function loaderFlags(execArgv: string[]): string[] {
  const out: string[] = [];
  const withValue = ['--import', '--require', '-r', '--loader', '--experimental-loader'];
  for (let i = 0; i < execArgv.length; i++) {
    const flag = execArgv[i]!;
    if (withValue.some((f) => flag.startsWith(`${f}=`))) out.push(flag);
    else if (withValue.includes(flag) && i + 1 < execArgv.length) out.push(flag, execArgv[++i]!);
  }
  return out;
}

/**
 * Creates the cluster in `dataDir` if it has none, in a child process (pglite-init.ts)
 * and in a temp folder renamed into place once complete: a crash midway leaves no
 * half-made cluster, only a temp folder removed at the next start.
 */
async function initCluster(dataDir: string, migrations: readonly DomainMigrations[]): Promise<void> {
  if (hasCluster(dataDir)) return;
  // An empty folder may stand where the cluster goes; anything else there is not ours to replace.
  if (existsSync(dataDir) && (await readdir(dataDir)).length > 0) {
    throw new Error(`${dataDir} holds files but no database cluster (no PG_VERSION); move it away and start again`);
  }
  const parent = dirname(dataDir);
  const prefix = `.${basename(dataDir)}.init-`;
  for (const name of await readdir(parent)) if (name.startsWith(prefix)) await rm(join(parent, name), { recursive: true, force: true });
  const temp = join(parent, `${prefix}${process.pid}`);
  const here = fileURLToPath(import.meta.url);
  // Compiled, this is dist/core/db-pglite.js; under tsx (tests) it is the .ts source.
  const script = join(dirname(here), `pglite-init${extname(here)}`);
  try {
    const domains = JSON.stringify(migrations.map((d) => ({ id: d.id, migrations: d.migrations?.href })));
    await promisify(execFile)(process.execPath, [...loaderFlags(process.execArgv), script, temp, domains], { timeout: 5 * 60_000 });
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw new Error(`could not create the embedded database in ${dataDir}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`, { cause: err });
  }
  await rm(dataDir, { recursive: true, force: true });
  await rename(temp, dataDir);
}

export async function openPglite(options: PgliteOptions = {}): Promise<Db & { dump(compression?: 'none' | 'gzip'): Promise<Blob> }> {
  if (options.dataDir && !options.createHere) await initCluster(options.dataDir, options.migrations ?? []);
  // Read when the module is instantiated (below), so it applies to this database; the process has no other sizeable WebAssembly.
  setFlagsFromString(`--wasm-tiering-budget=${PGLITE_WASM_TIERING_BUDGET}`);
  const pglite = await PGlite.create({
    dataDir: options.dataDir,
    loadDataDir: options.loadDataDir,
    postgresqlconf: PGLITE_CONF,
    parsers: {
      [types.INT8]: parseInt8,
      [types.BYTEA]: (value: string) => toBuffer(types.parsers[types.BYTEA]!(value, types.BYTEA)),
    },
  });

  const run = async <T>(q: Pick<PGlite, 'query'>, sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> => {
    const res = await q.query<T>(sql, params as unknown[] | undefined);
    // PGlite says 0 affected rows for a SELECT; pg counts the rows it returned, and so does Db.
    return { rows: res.rows, rowCount: res.affectedRows || res.rows.length };
  };

  const locks = new LocalLocks();
  let maintaining: Promise<void> | undefined;
  let vacuumedAt = Number.NEGATIVE_INFINITY;
  const maintain = (vacuumEveryMs: number) => {
    const vacuum = Date.now() - vacuumedAt >= vacuumEveryMs;
    if (vacuum) vacuumedAt = Date.now();
    // A failed run (the disk full) leaves the database as it was; the writes failing beside it are what is reported.
    // Two statements sent apart: VACUUM refuses to run in the implicit transaction of a multi-statement string.
    const run = async () => {
      if (vacuum) await pglite.exec('VACUUM (ANALYZE)');
      await pglite.exec('CHECKPOINT');
    };
    maintaining ??= run().catch(() => undefined).finally(() => (maintaining = undefined));
  };
  const { maintenance: every } = options;
  const maintenance = every ? setInterval(() => maintain(every.vacuumEveryMs), every.everyMs).unref() : undefined;
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
    exclusive: (name, fn) => locks.exclusive(name, { query: async (sql, params) => void (await run(pglite, sql, params)) }, fn),
    tryHold: async (name) => locks.tryHold(name),
    isHeld: async (name) => locks.isHeld(name),
    async close() {
      clearInterval(maintenance);
      await maintaining;
      await pglite.close();
    },
    dump: (compression: 'none' | 'gzip' = 'none') => pglite.dumpDataDir(compression),
  };
}
