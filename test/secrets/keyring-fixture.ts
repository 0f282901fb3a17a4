/** Helpers for the keyring suites: (re)start a daemon on a database and data dir, read everything back, find leftovers. */
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { adminPrincipal } from '../../src/core/principal.js';
import { ManualClock } from '../../src/core/clock.js';
import { loadConfig, openApp, type SupervisorApp } from '../../src/app.js';
import { keyFingerprint, parseKey } from '../../src/core/crypto.js';
import type { Db } from '../../src/core/db.js';
import { openPostgres } from '../../src/core/db-postgres.js';
import { migrate } from '../../src/core/migrate.js';
import { createLogger } from '../../src/core/log.js';
import { TEST_DATABASE_URL } from '../helpers/db.js';
import { keepOpen } from '../helpers/db-intercept.js';
import { captureStream } from '../helpers/services.js';

export const admin = adminPrincipal('test-admin');

/**
 * The services a daemon (re)started on this database and data dir would have.
 * Closing them leaves the database open, so a test can start another on it.
 */
export function openDaemon(db: Db, home: string, env: Record<string, string> = {}): Promise<SupervisorApp> {
  const config = loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_LOG_LEVEL: 'debug', ...env });
  return openApp({ config, db: keepOpen(db), clock: new ManualClock(new Date('2026-11-23T10:00:00Z')), log: createLogger('debug', captureStream()) });
}

/** A fresh, migrated schema in the test PostgreSQL database that several daemons (pools) open. */
export async function sharedSchema(): Promise<{ name: string; open(connections?: number): Promise<Db>; drop(): Promise<void> }> {
  const name = `keys_${process.pid}_${randomBytes(4).toString('hex')}`;
  const run = async (sql: string) => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await run(`CREATE SCHEMA ${name}`);
  const open = (connections = 8) => openPostgres({ connectionString: TEST_DATABASE_URL, schema: name, maxConnections: connections });
  const first = await open(1);
  await migrate(first);
  await first.close();
  return { name, open, drop: () => run(`DROP SCHEMA ${name} CASCADE`) };
}

/** Every stored version of every secret, read through the service: `path@version` → value. Throws at the first that does not decrypt. */
export async function readEveryVersion(services: SupervisorApp): Promise<Map<string, string>> {
  const { rows } = await services.db.query<{ path: string; version: number }>('SELECT s.path, v.version FROM secrets s JOIN secret_versions v ON v.secret_id = s.id ORDER BY s.path, v.version');
  const values = new Map<string, string>();
  for (const { path, version } of rows) values.set(`${path}@${version}`, (await services.secrets.get(admin, { path, version })).value);
  return values;
}

/** The fingerprints the data keys are wrapped with. */
export async function referencedMasterKeys(db: Db): Promise<string[]> {
  const { rows } = await db.query<{ master_key_id: string }>('SELECT DISTINCT master_key_id FROM secret_keys ORDER BY 1');
  return rows.map((r) => r.master_key_id);
}

/** The key in the data dir's master.key. */
export async function masterKeyFile(home: string): Promise<{ id: string; key: Buffer }> {
  const key = parseKey(await readFile(join(home, 'master.key'), 'utf8'), 'master.key');
  return { id: keyFingerprint(key), key };
}

export const masterKeyFileId = async (home: string) => (await masterKeyFile(home)).id;

/**
 * What a settled data dir should not hold: temp files, a rotation record, key files
 * no data key needs, a master.key that is not the key of the data keys.
 */
export async function leftovers(db: Db, home: string): Promise<string[]> {
  const referenced = await referencedMasterKeys(db);
  const problems: string[] = [];
  const primary = await masterKeyFileId(home);
  if (!referenced.includes(primary)) problems.push(`master.key is ${primary}, the data keys use ${referenced.join(', ')}`);
  for (const name of await readdir(home)) if (name.endsWith('.tmp')) problems.push(name);
  const expected = referenced.map((id) => `${id}.key`);
  const present = await readdir(join(home, 'keys'));
  for (const name of present) if (!expected.includes(name)) problems.push(`keys/${name}`);
  for (const name of expected) if (!present.includes(name)) problems.push(`keys/${name} is missing`);
  return problems;
}
