import { readFile, rm } from 'node:fs/promises';
import type { Config } from './config.js';
import type { Db } from './db.js';
import { dataDirFiles } from './datadir.js';
import { SupervisorError } from './errors.js';
import { writeFileAtomic } from './files.js';
import { withoutPassword } from './masked-url.js';
import type { DomainMigrations } from './migrate.js';

/**
 * PostgreSQL when DATABASE_URL is set, else the embedded database in the data dir (caller holds the lock);
 * a new embedded database is created with `migrations` applied (see PgliteOptions.migrations).
 * Only the backend in use is loaded: each client costs several MB of memory in a daemon that never uses it.
 */
export async function openDatabase(config: Config, migrations: readonly DomainMigrations[] = []): Promise<Db> {
  if (config.databaseUrl) {
    const { openPostgres } = await import('./db-postgres.js');
    const db = await openPostgres({ connectionString: config.databaseUrl, statementTimeoutMs: config.databaseStatementTimeoutMs });
    await notePostgres(config.home, config.databaseUrl);
    return db;
  }
  await refuseWhenPostgres(config.home);
  const { openPglite } = await import('./db-pglite.js');
  return openPglite({ dataDir: dataDirFiles(config.home).db, migrations });
}

/**
 * The data dir remembers that its database is PostgreSQL: DATABASE_URL may be set only in the
 * environment of the daemon (as the README's example starts it), and a command run without it
 * would otherwise open a new, empty embedded database here, and write to it.
 */
async function notePostgres(home: string, url: string): Promise<void> {
  const marker = dataDirFiles(home).postgresMarker;
  const text = `${JSON.stringify({ database: withoutPassword(url) })}\n`;
  if ((await readFile(marker, 'utf8').catch(() => undefined)) !== text) await writeFileAtomic(marker, text);
}

async function refuseWhenPostgres(home: string): Promise<void> {
  const marker = dataDirFiles(home).postgresMarker;
  const text = await readFile(marker, 'utf8').catch(() => undefined);
  if (text === undefined) return;
  const database = (JSON.parse(text) as { database?: string }).database ?? 'PostgreSQL';
  throw new SupervisorError(
    'not_configured',
    `this data dir's database is ${database} (opened with DATABASE_URL), and DATABASE_URL is not set here: opened without it, the embedded database is another, empty one. ` +
      `Set DATABASE_URL as the daemon has it, or store it in the config file once (DATABASE_URL=<url> supervisor config set databaseUrl <url>). ` +
      `To use the embedded database again, copy the data back (supervisor storage copy --from <url>), which removes ${marker}`,
    { database },
  );
}

/** The embedded database is this data dir's again (storage copy --from switched to it). */
export async function forgetPostgres(home: string): Promise<void> {
  await rm(dataDirFiles(home).postgresMarker, { force: true });
}
