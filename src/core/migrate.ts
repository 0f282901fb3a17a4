import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Db, Tx } from './db.js';
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

/**
 * Migrations the database has and this build does not (of the baseline, and of the domains
 * it runs): a newer Supervisor migrated it, and this older one would read and write tables
 * it does not know the shape of.
 */
async function unknownApplied(tx: Tx, baselineDir: string, domains: readonly DomainMigrations[]): Promise<string[]> {
  const known = new Set((await loadDir(baselineDir, BASELINE_FILE)).map((m) => Number(m.name.slice(0, 4))));
  const { rows: baseline } = await tx.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
  const unknown = baseline.filter((r) => !known.has(r.version)).map((r) => r.name);
  for (const domain of domains) {
    if (!domain.migrations) continue;
    const names = new Set((await loadDir(fileURLToPath(domain.migrations), DOMAIN_FILE)).map((m) => m.name));
    const { rows } = await tx.query<{ name: string }>('SELECT name FROM domain_migrations WHERE domain = $1 ORDER BY name', [domain.id]);
    unknown.push(...rows.filter((r) => !names.has(r.name)).map((r) => `${domain.id}/${r.name}`));
  }
  return unknown;
}

async function applyBaseline(tx: Tx, dir: string): Promise<string[]> {
  await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  const { rows } = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
  const done = new Set(rows.map((r) => r.version));
  const applied: string[] = [];
  for (const m of await loadDir(dir, BASELINE_FILE)) {
    const version = Number(m.name.slice(0, 4));
    if (done.has(version)) continue;
    await tx.exec(m.sql);
    await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [version, m.name]);
    applied.push(m.name);
  }
  return applied;
}

async function applyDomain(tx: Tx, domain: DomainMigrations): Promise<string[]> {
  if (!domain.migrations) return [];
  const { rows } = await tx.query<{ name: string }>('SELECT name FROM domain_migrations WHERE domain = $1', [domain.id]);
  const done = new Set(rows.map((r) => r.name));
  const applied: string[] = [];
  for (const m of await loadDir(fileURLToPath(domain.migrations), DOMAIN_FILE)) {
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
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    const applied = await applyBaseline(tx, baselineDir);
    await tx.exec(`CREATE TABLE IF NOT EXISTS domain_migrations (
      domain text NOT NULL,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (domain, name)
    )`);
    const unknown = await unknownApplied(tx, baselineDir, domains);
    if (unknown.length > 0) {
      throw new SupervisorError(
        'conflict',
        `the database was migrated by a newer Supervisor (${unknown.join(', ')} unknown to this one): run the newer version here too; an older daemon would misread tables whose shape changed`,
        { unknown },
      );
    }
    for (const domain of domains) applied.push(...(await applyDomain(tx, domain)));
    return applied;
  }, { unbounded: true });
}
