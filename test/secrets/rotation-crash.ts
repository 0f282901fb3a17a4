/**
 * The kill -9 loop behind rotation-crash.test.ts and scripts/rotation-crash.ts: a
 * daemon process runs concurrent master-key rotations, data-key rotations and writes
 * on one data dir and database and is killed at a random moment, over and over; after
 * each kill a new start must succeed, every secret must decrypt and no key file may be
 * left over. Not a test file.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from '../../src/core/db.js';
import { migrate } from '../../src/core/migrate.js';
import type { SupervisorApp } from '../../src/app.js';
import { TEST_DATABASE_URL, type Backend } from '../helpers/db.js';
import { admin, leftovers, openDaemon, sharedSchema } from './keyring-fixture.js';
import { transpileForNode, type PlainJs } from './plain-js.js';
import { openTarget, PATHS, type CrashTarget } from './rotation-crash-target.js';

const WORKER = fileURLToPath(new URL('./rotation-crash-worker.ts', import.meta.url));

export interface CrashLoopOptions {
  backend: Backend;
  cycles: number;
  /** Called after each cycle, for progress output. */
  onCycle?: (cycle: CycleReport) => void;
}

export interface CycleReport {
  cycle: number;
  /** Killed before the daemon said it was ready (during its start and recovery). */
  killedEarly: boolean;
  /** A rotation record was on disk after the kill: a master-key rotation was cut short. */
  rotationCut: boolean;
  versions: number;
  dataKeys: number;
}

export interface CrashLoopReport {
  cycles: CycleReport[];
  /** Empty when every cycle held; else what went wrong (the loop stops at the first problem). */
  problems: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

/** A worker that has loaded its modules and waits for "go" (loading overlaps the previous cycle). */
function spawnWorker(worker: PlainJs, target: CrashTarget, errors: string[]): Promise<ChildProcess> {
  const child = fork(worker.entry, [], { execArgv: [], env: { ...process.env, CRASH_TARGET: JSON.stringify(target) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child.on('message', (message: { error?: string }) => {
    if (message.error) errors.push(`daemon pid ${child.pid}: ${message.error}`);
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`a crash-loop daemon exited with ${code} before it loaded`)));
    child.once('message', () => {
      child.removeAllListeners('exit');
      resolve(child);
    });
  });
}

/**
 * Starts the worker's daemon and kills it with SIGKILL at a random moment: a quarter
 * of the time during its start (which recovers from the previous kill), else within
 * its first rounds of rotations.
 */
async function runAndKill(child: ChildProcess): Promise<boolean> {
  const early = Math.random() < 0.25;
  const ready = new Promise<void>((resolve) => {
    child.on('message', (message: string) => message === 'ready' && resolve());
    child.once('exit', () => resolve());
  });
  child.send('go');
  if (early) await sleep(Math.random() * 500);
  else await ready.then(() => sleep(Math.random() * 600));
  child.kill('SIGKILL');
  await exited(child);
  return early;
}

/** Versions already read back (a version never changes), and one version per data key, read at every check. */
async function checkVersions(services: SupervisorApp, checked: Set<string>): Promise<{ versions: number; dataKeys: number }> {
  const { rows } = await services.db.query<{ path: string; version: number; key_id: number }>(
    'SELECT s.path, v.version, v.key_id FROM secrets s JOIN secret_versions v ON v.secret_id = s.id ORDER BY v.key_id, s.path, v.version',
  );
  const firstOfKey = new Set<number>();
  for (const { path, version, key_id } of rows) {
    const name = `${path}@${version}`;
    const sample = !firstOfKey.has(key_id);
    firstOfKey.add(key_id);
    if (checked.has(name) && !sample) continue;
    const { value } = await services.secrets.get(admin, { path, version });
    if (!value.includes(path)) throw new Error(`${name} decrypted to a value written for another path`);
    checked.add(name);
  }
  return { versions: rows.length, dataKeys: firstOfKey.size };
}

export async function crashLoop(options: CrashLoopOptions): Promise<CrashLoopReport> {
  const home = await mkdtemp(join(tmpdir(), 'supervisor-crash-'));
  const schema = options.backend === 'postgres' ? await sharedSchema() : undefined;
  const target: CrashTarget = schema ? { backend: 'postgres', home, databaseUrl: TEST_DATABASE_URL, schema: schema.name } : { backend: 'pglite', home };
  const report: CrashLoopReport = { cycles: [], problems: [] };
  const checked = new Set<string>();
  // One pool for the whole loop; PGlite is single-process, so the parent opens it only between daemons.
  const pool = target.backend === 'postgres' ? await openTarget(target, 4) : undefined;
  const withDb = async <T>(fn: (db: Db) => Promise<T>): Promise<T> => {
    if (pool) return fn(pool);
    const db = await openTarget(target);
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  };
  const worker = await transpileForNode(WORKER);
  let next: Promise<ChildProcess> | undefined;
  try {
    await withDb(async (db) => {
      // Creates PGlite's tables; PostgreSQL's schema came migrated (a second run does nothing).
      await migrate(db);
      const services = await openDaemon(db, home);
      for (const path of PATHS) await services.secrets.set(admin, { path, value: `seed ${path}` });
      await services.close();
    });
    next = spawnWorker(worker, target, report.problems);
    for (let cycle = 1; cycle <= options.cycles && report.problems.length === 0; cycle++) {
      const child = await next;
      next = spawnWorker(worker, target, report.problems);
      const killedEarly = await runAndKill(child);
      const rotationCut = existsSync(join(home, 'keys', 'rotation.json'));
      try {
        const counts = await withDb(async (db) => {
          const services = await openDaemon(db, home);
          try {
            const counts = await checkVersions(services, checked);
            const left = await leftovers(db, home);
            if (left.length > 0) throw new Error(`left over after a start: ${left.join(', ')}`);
            return counts;
          } finally {
            await services.close();
          }
        });
        const done = { cycle, killedEarly, rotationCut, ...counts };
        report.cycles.push(done);
        options.onCycle?.(done);
      } catch (err) {
        report.problems.push(`cycle ${cycle} (${killedEarly ? 'killed during its start' : 'killed while rotating'}${rotationCut ? ', a rotation cut short' : ''}): ${(err as Error).message}`);
      }
    }
  } finally {
    const spare = await next?.catch(() => undefined);
    spare?.kill('SIGKILL');
    if (spare) await exited(spare);
    await pool?.close();
    await schema?.drop();
    await rm(home, { recursive: true, force: true });
    await worker.remove();
  }
  return report;
}
