import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Db, Queryable, Tx } from './db.js';
import { SupervisorError } from './errors.js';
import { schemaLockKey } from './schema-lock.js';

/** Shared by every process that migrates the same database, so two starting at once take turns. */
const MIGRATION_LOCK = schemaLockKey('migrations');

/**
 * The baseline: the numbered migrations written before domains had their own
 * folders (tracked in schema_migrations by number). New migrations live in their
 * domain's folder instead, named `<YYYYMMDDHHMM>_<name>.sql`, so two domains written
 * at once never pick the same name; they are tracked by (domain, name).
 */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

const BASELINE_FILE = /^\d{4}_[a-z0-9_]+\.sql$/;
const DOMAIN_FILE = /^\d{12}_[a-z0-9_]+\.sql$/;

interface Migration {
  name: string;
  sql: string;
}

/** A domain's migrations: its id and the folder they are in. */
export interface DomainMigrations {
  id: string;
  migrations?: URL;
}

async function loadDir(dir: string, pattern: RegExp): Promise<Migration[]> {
  if (!existsSync(dir)) return [];
  const files = (await readdir(dir)).filter((f) => pattern.test(f)).sort();
  return Promise.all(files.map(async (file) => ({ name: file.replace(/\.sql$/, ''), sql: await readFile(`${dir}/${file}`, 'utf8') })));
}

/** The migrations this build has: the baseline's, and each domain's. */
export interface KnownMigrations {
  baseline: Migration[];
  domains: Array<{ id: string; files: Migration[] }>;
}

/**
 * Core's own tables (the audit log, call records, settings) changed after the baseline: their
 * migrations live in src/core/migrations/ and apply first, tracked as the domain `core`.
 */
export const CORE_MIGRATIONS: DomainMigrations = { id: 'core', migrations: new URL('./migrations/', import.meta.url) };

/**
 * This build's migrations, read from its files: once per start, for migrating and for the
 * check a running daemon makes later (an upgrade replaces the files under it, not its code).
 */
export async function knownMigrations(domains: readonly DomainMigrations[] = [], baselineDir: string = MIGRATIONS_DIR): Promise<KnownMigrations> {
  return {
    baseline: await loadDir(baselineDir, BASELINE_FILE),
    domains: await Promise.all([CORE_MIGRATIONS, ...domains].map(async (d) => ({ id: d.id, files: d.migrations ? await loadDir(fileURLToPath(d.migrations), DOMAIN_FILE) : [] }))),
  };
}

const versionOf = (m: Migration) => Number(m.name.slice(0, 4));

/** What the database has applied: baseline versions (with their names), and names per domain. */
interface Applied {
  baseline: Map<number, string>;
  domains: Map<string, Set<string>>;
}

async function readApplied(tx: Queryable): Promise<Applied> {
  const { rows: baseline } = await tx.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
  const { rows } = await tx.query<{ domain: string; name: string }>('SELECT domain, name FROM domain_migrations ORDER BY domain, name');
  const domains = new Map<string, Set<string>>();
  for (const r of rows) domains.set(r.domain, (domains.get(r.domain) ?? new Set()).add(r.name));
  return { baseline: new Map(baseline.map((r) => [r.version, r.name])), domains };
}

/**
 * Migrations the database has and this build does not (of the baseline, and of the domains
 * it runs): a newer Supervisor migrated it, and this older one would read and write tables
 * it does not know the shape of.
 */
function unknownApplied(known: KnownMigrations, applied: Applied): string[] {
  const versions = new Set(known.baseline.map(versionOf));
  const unknown = [...applied.baseline].filter(([version]) => !versions.has(version)).map(([, name]) => name);
  for (const domain of known.domains) {
    const names = new Set(domain.files.map((m) => m.name));
    unknown.push(...[...(applied.domains.get(domain.id) ?? [])].filter((name) => !names.has(name)).map((name) => `${domain.id}/${name}`));
  }
  return unknown;
}

async function applyBaseline(tx: Tx, files: Migration[], done: Applied['baseline']): Promise<string[]> {
  const applied: string[] = [];
  for (const m of files) {
    const version = versionOf(m);
    if (done.has(version)) continue;
    await tx.exec(m.sql);
    await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [version, m.name]);
    applied.push(m.name);
  }
  return applied;
}

async function applyDomain(tx: Tx, domain: KnownMigrations['domains'][number], done: ReadonlySet<string>): Promise<string[]> {
  const applied: string[] = [];
  for (const m of domain.files) {
    if (done.has(m.name)) continue;
    await tx.exec(m.sql);
    await tx.query('INSERT INTO domain_migrations (domain, name) VALUES ($1, $2)', [domain.id, m.name]);
    applied.push(`${domain.id}/${m.name}`);
  }
  return applied;
}

/**
 * Applies pending migrations — the baseline, then each domain's in domain order —
 * in one transaction under an advisory lock, so a half-applied schema is
 * impossible and concurrent starts are safe. Refused (nothing applied) when the database
 * holds migrations this build does not know. Returns the names applied by this call.
 * Unbounded (no statement time limit): the lock waits for another daemon's whole migration,
 * and a migration may rewrite or index a big table; a limit would fail the start every time.
 */
export async function migrate(db: Db, domains: readonly DomainMigrations[] = [], baselineDir: string = MIGRATIONS_DIR): Promise<string[]> {
  return migrateKnown(db, await knownMigrations(domains, baselineDir));
}

/** migrate, with the build's migrations already read. */
export function migrateKnown(db: Db, known: KnownMigrations): Promise<string[]> {
  return applyAll(db, known).catch(async (err: unknown) => Promise.reject(await withoutRights(db, err)));
}

/** PostgreSQL's codes for a role that may not create here: no CREATE on the schema, or no schema to create in. */
const NO_RIGHTS = new Set(['42501', '3F000']);

/**
 * A migration refused for the role's rights is a setting to fix, not an internal error: said
 * with the role, the schema it tried, and the two ways out (a grant, or a schema of its own).
 */
async function withoutRights(db: Db, err: unknown): Promise<unknown> {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (db.kind !== 'postgres' || typeof code !== 'string' || !NO_RIGHTS.has(code)) return err;
  const { rows } = await db.query<{ role: string; schema: string | null; path: string }>('SELECT current_user AS role, current_schema() AS schema, current_setting($1) AS path', ['search_path']);
  const { role, schema, path } = rows[0]!;
  const where = schema ? `schema ${schema}` : `any schema of its search_path (${path})`;
  return new SupervisorError(
    'not_configured',
    `PostgreSQL role ${role} may not create the install's tables in ${where} (${(err as Error).message}): ` +
      `grant it (GRANT CREATE ON SCHEMA ${schema ?? '<schema>'} TO ${role}), or point DATABASE_URL at a schema it owns (?options=-c%20search_path%3D<schema>)`,
    { role, schema, searchPath: path },
  );
}

/**
 * Migrations the database has and `known` (read at start) does not: a newer daemon sharing the
 * database migrated it under this one, still running the older code.
 */
export async function unknownMigrations(db: Db, known: KnownMigrations): Promise<string[]> {
  return unknownApplied(known, await readApplied(db));
}

function applyAll(db: Db, known: KnownMigrations): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    await tx.exec(`CREATE TABLE IF NOT EXISTS domain_migrations (
      domain text NOT NULL,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (domain, name)
    )`);
    const done = await readApplied(tx);
    const unknown = unknownApplied(known, done);
    if (unknown.length > 0) {
      throw new SupervisorError(
        'conflict',
        `the database was migrated by a newer Supervisor (${unknown.join(', ')} unknown to this one): run the newer version here too; an older daemon would misread tables whose shape changed`,
        { unknown },
      );
    }
    const applied = await applyBaseline(tx, known.baseline, done.baseline);
    for (const domain of known.domains) applied.push(...(await applyDomain(tx, domain, done.domains.get(domain.id) ?? new Set())));
    return applied;
  }, { unbounded: true });
}
