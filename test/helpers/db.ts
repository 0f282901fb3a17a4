import { createHash, randomBytes } from 'node:crypto';
import { existsSync, openAsBlob, readdirSync, readFileSync } from 'node:fs';
import { link, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Db } from '../../src/core/db.js';
import { openPglite } from '../../src/core/db-pglite.js';
import { openPostgres } from '../../src/core/db-postgres.js';
import { CORE_MIGRATIONS, migrate, MIGRATIONS_DIR } from '../../src/core/migrate.js';
import { DOMAINS } from '../../src/app.js';

export type Backend = 'pglite' | 'postgres';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Backends to run storage suites on: both unless SUPERVISOR_TEST_BACKENDS narrows it. */
export function testBackends(): Backend[] {
  const wanted = process.env.SUPERVISOR_TEST_BACKENDS?.split(',').map((s) => s.trim()) ?? ['pglite', 'postgres'];
  return wanted.filter((b): b is Backend => b === 'pglite' || b === 'postgres');
}

/** The same database as a second daemon sees it: PGlite has one process, PostgreSQL a second pool on the schema. */
export async function secondHandle(db: Db): Promise<{ db: Db; close(): Promise<void> }> {
  if (db.kind === 'pglite') return { db, close: async () => undefined };
  const schema = (await db.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s;
  const other = await openTestDb('postgres', { schema });
  return { db: other, close: () => other.close() };
}

/** Ends a PostgreSQL server process from outside, as an operator's kill or a lost client host ends it. */
export async function terminateBackend(pid: number): Promise<void> {
  const killer = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await killer.connect();
  try {
    await killer.query('SELECT pg_terminate_backend($1)', [pid]);
  } finally {
    await killer.end();
  }
}

let pgReachable: Promise<string | undefined> | undefined;
/** undefined when PostgreSQL answers, else why not. */
export function postgresUnavailable(): Promise<string | undefined> {
  pgReachable ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return undefined;
    } catch (err) {
      return `PostgreSQL at ${TEST_DATABASE_URL} is not reachable (${(err as Error).message})`;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return pgReachable;
}

/**
 * Why a backend's suite cannot run, or undefined. In CI a missing PostgreSQL is a
 * failure, not a skip: the suite throws instead.
 */
export async function skipReason(backend: Backend): Promise<string | undefined> {
  // The runner's counting pass (scripts/count-skipped.mjs) registers the tests of skipped suites without running them.
  if (backend === 'pglite' || process.env.SUPERVISOR_TEST_COUNT_ONLY) return undefined;
  const reason = await postgresUnavailable();
  if (reason && process.env.CI) throw new Error(`${reason}; CI must run the PostgreSQL suites`);
  return reason;
}

/** Every migration folder: the baseline and each domain's. */
const migrationDirs = () => [MIGRATIONS_DIR, ...[CORE_MIGRATIONS, ...DOMAINS].flatMap((d) => (d.migrations ? [fileURLToPath(d.migrations)] : []))].filter((dir) => existsSync(dir));

const migrationsHash = () => {
  const h = createHash('sha256');
  for (const dir of migrationDirs()) for (const f of readdirSync(dir).sort()) h.update(f).update(readFileSync(join(dir, f)));
  return h.digest('hex').slice(0, 16);
};

/**
 * A migrated PGlite image shared by every test process: initdb costs seconds,
 * loading the image a fraction of one.
 */
async function pgliteTemplate(): Promise<Blob> {
  const file = join(tmpdir(), `supervisor-test-pglite-${migrationsHash()}.tar`);
  if (!existsSync(file)) {
    const db = await openPglite();
    await migrate(db, DOMAINS);
    const dump = await db.dump();
    await db.close();
    // Linked in place whole, and never over one another process made meanwhile: that one may be reading it.
    const made = `${file}.${process.pid}`;
    await writeFile(made, Buffer.from(await dump.arrayBuffer()), { mode: 0o644 });
    await link(made, file).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    await rm(made, { force: true });
  }
  // Read by PGlite as it unpacks the 40 MB image, not copied into memory first: ~0.3 s of CPU less per database.
  return openAsBlob(file);
}

/**
 * A fresh database: in-memory PGlite, or a new schema in the test PostgreSQL database
 * (dropped on close); migrated unless `empty` (upgrade tests run older migrations first).
 * `schema` joins an existing schema instead (another daemon on the same database): its
 * owner drops it; `url` reaches it another way (through a proxy that injects faults).
 */
export async function openTestDb(backend: Backend, options: { empty?: boolean; schema?: string; url?: string } = {}): Promise<Db> {
  if (backend === 'pglite') return options.empty ? openPglite() : openPglite({ loadDataDir: await pgliteTemplate() });
  if (options.schema) return openPostgres({ connectionString: options.url ?? TEST_DATABASE_URL, schema: options.schema, maxConnections: 25 });
  const schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const db = await openPostgres({ connectionString: TEST_DATABASE_URL, schema, maxConnections: 25 });
  if (!options.empty) await migrate(db, DOMAINS);
  return {
    ...db,
    kind: db.kind,
    async close() {
      await db.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
      await db.close();
    },
  };
}
