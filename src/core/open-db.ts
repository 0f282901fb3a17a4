import type { Config } from './config.js';
import type { Db } from './db.js';
import { dataDirFiles } from './datadir.js';
import { openPglite } from './db-pglite.js';
import { openPostgres } from './db-postgres.js';

/** PostgreSQL when DATABASE_URL is set, else the embedded database in the data dir (caller holds the lock). */
export function openDatabase(config: Config): Promise<Db> {
  return config.databaseUrl
    ? openPostgres({ connectionString: config.databaseUrl })
    : openPglite({ dataDir: dataDirFiles(config.home).db });
}
