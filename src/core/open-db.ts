import { readFile, rm } from 'node:fs/promises';
import type { Config } from './config.js';
import type { Db } from './db.js';
import { dataDirFiles, hasCluster } from './datadir.js';
import { SupervisorError } from './errors.js';
import { writeFileAtomic } from './files.js';
import { withoutPassword } from './masked-url.js';
import type { DomainMigrations } from './migrate.js';

/** The embedded database's checkpoints and VACUUM, which no background process does for it (see openPglite). */
const PGLITE_MAINTENANCE = { everyMs: 5 * 60_000, vacuumEveryMs: 60 * 60_000 };

/**
 * PostgreSQL when DATABASE_URL is set, else the embedded database in the data dir (caller holds the lock);
 * a new embedded database is created with `migrations` applied (see PgliteOptions.migrations).
 * Only the backend in use is loaded: each client costs several MB of memory in a daemon that never uses it.
 */
export async function openDatabase(config: Config, migrations: readonly DomainMigrations[] = []): Promise<Db> {
  if (config.databaseUrl) {
    const { openPostgres } = await import('./db-postgres.js');
    const db = await openPostgres({ connectionString: config.databaseUrl, urlSource: urlSourceOf(config), statementTimeoutMs: config.databaseStatementTimeoutMs, maxConnections: config.databasePoolSize });
    try {
      const noted = await readFile(dataDirFiles(config.home).postgresMarker, 'utf8').catch(() => undefined);
      if (noted === undefined) await refuseToHideEmbedded(config.home, config.databaseUrl, db);
      await notePostgres(config.home, config.databaseUrl, noted);
    } catch (err) {
      await db.close();
      throw err;
    }
    return db;
  }
  await refuseWhenPostgres(config.home);
  const { openPglite } = await import('./db-pglite.js');
  return openPglite({ dataDir: dataDirFiles(config.home).db, migrations, maintenance: PGLITE_MAINTENANCE });
}

/**
 * Where the URL came from, for a failure to connect: a bad one in the config file cannot be
 * unset with `config set` (that needs the database), so the file is named to edit.
 */
function urlSourceOf(config: Config): string {
  const fromFile = config.fileAtStart?.databaseUrl !== undefined && !config.env?.DATABASE_URL;
  return fromFile && config.configFile ? `databaseUrl in ${config.configFile} (edit or remove that line there)` : 'DATABASE_URL';
}

/**
 * The data dir remembers that its database is PostgreSQL: DATABASE_URL may be set only in the
 * environment of the daemon (as the README's example starts it), and a command run without it
 * would otherwise open a new, empty embedded database here, and write to it.
 */
async function notePostgres(home: string, url: string, noted: string | undefined): Promise<void> {
  const text = `${JSON.stringify({ database: withoutPassword(url) })}\n`;
  if (noted !== text) await writeFileAtomic(dataDirFiles(home).postgresMarker, text);
}

/**
 * The first switch of a data dir to PostgreSQL (no postgres.json yet), while its embedded
 * database holds the install and PostgreSQL has none of it: opened, everything written so far
 * (secrets, tokens, ports) would seem gone, and copying back with --force would replace it.
 * Refused, saying how to move.
 */
async function refuseToHideEmbedded(home: string, url: string, db: Db): Promise<void> {
  const files = dataDirFiles(home);
  if (!hasCluster(files.db)) return;
  const { rows } = await db.query<{ present: boolean }>("SELECT to_regclass('schema_migrations') IS NOT NULL AS present");
  if (rows[0]?.present) return;
  throw new SupervisorError(
    'not_configured',
    `this data dir's embedded database (${files.db}) holds the install, and ${withoutPassword(url)} (DATABASE_URL) has none of it yet: opened, its secrets, tokens and ports would seem gone. ` +
      `Copy them there first, with the daemon stopped: supervisor storage copy --to <url> (it then sets databaseUrl in the config file), and start again. ` +
      `To start empty on PostgreSQL instead, move ${files.db} out of the data dir`,
    { database: withoutPassword(url), embedded: files.db },
  );
}

async function refuseWhenPostgres(home: string): Promise<void> {
  const marker = dataDirFiles(home).postgresMarker;
  const text = await readFile(marker, 'utf8').catch(() => undefined);
  if (text === undefined) return;
  const database = (JSON.parse(text) as { database?: string }).database ?? 'PostgreSQL';
  throw new SupervisorError(
    'not_configured',
    `this data dir's database is ${database} (opened with DATABASE_URL), and DATABASE_URL is not set here: opened without it, the embedded database is not the one in use, and has nothing written since the switch. ` +
      `Set DATABASE_URL as the daemon has it, or store it in the config file once (DATABASE_URL=<url> supervisor config set databaseUrl <url>). ` +
      `To use the embedded database again, copy the data back (supervisor storage copy --from <url>; it replaces what the embedded one holds), which removes ${marker}`,
    { database },
  );
}

/** The embedded database is this data dir's again (storage copy --from switched to it). */
export async function forgetPostgres(home: string): Promise<void> {
  await rm(dataDirFiles(home).postgresMarker, { force: true });
}
