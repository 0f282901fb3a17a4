/**
 * What the kill -9 loop and its daemon processes share: the data dir and database of
 * one loop. Kept light (no PGlite unless asked for): every cycle's process loads it.
 * Not a test file.
 */
import { join } from 'node:path';
import type { Db } from '../../src/core/db.js';
import { openPostgres } from '../../src/core/db-postgres.js';

export const PATHS = ['project/crash/a', 'project/crash/b', 'project/crash/c'];

export type CrashTarget =
  | { backend: 'postgres'; home: string; databaseUrl: string; schema: string }
  | { backend: 'pglite'; home: string };

/** A connection to the target's database: a pool on its schema, or the PGlite database inside the data dir. */
export async function openTarget(target: CrashTarget, connections = 8): Promise<Db> {
  if (target.backend === 'postgres') return openPostgres({ connectionString: target.databaseUrl, schema: target.schema, maxConnections: connections });
  const { openPglite } = await import('../../src/core/db-pglite.js');
  return openPglite({ dataDir: join(target.home, 'db') });
}
