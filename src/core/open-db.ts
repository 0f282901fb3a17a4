import type { Config } from './config.js';
import type { Db } from './db.js';
import { dataDirFiles } from './datadir.js';
import type { DomainMigrations } from './migrate.js';

/**
 * PostgreSQL when DATABASE_URL is set, else the embedded database in the data dir (caller holds the lock);
 * a new embedded database is created with `migrations` applied (see PgliteOptions.migrations).
 * Only the backend in use is loaded: each client costs several MB of memory in a daemon that never uses it.
 */
export async function openDatabase(config: Config, migrations: readonly DomainMigrations[] = []): Promise<Db> {
  if (config.databaseUrl) {
    const { openPostgres } = await import('./db-postgres.js');
    return openPostgres({ connectionString: config.databaseUrl });
  }
  const { openPglite } = await import('./db-pglite.js');
  return openPglite({ dataDir: dataDirFiles(config.home).db, migrations });
}
