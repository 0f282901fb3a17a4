import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { SupervisorError } from './errors.js';
import { createFileExclusive, writeFileAtomic } from './files.js';

/** Names of the files the daemon and CLI keep in the data dir (SUPERVISOR_HOME). */
export const dataDirFiles = (home: string) => ({
  db: join(home, 'db'),
  masterKey: join(home, 'master.key'),
  nextMasterKey: join(home, 'master.key.next'),
  lock: join(home, 'supervisor.lock'),
  daemon: join(home, 'daemon.json'),
});

/**
 * Creates the data dir (0700) and checks it belongs to the user running us: the
 * CLI and stdio MCP adapter act with admin rights here on the strength of owning it.
 */
export async function ensureDataDir(home: string): Promise<void> {
  await mkdir(home, { recursive: true, mode: 0o700 });
  const owner = (await stat(home)).uid;
  const me = process.getuid?.();
  if (me !== undefined && me !== 0 && owner !== me) {
    throw new SupervisorError('forbidden', `the data dir ${home} belongs to uid ${owner}, not to you (uid ${me}); run as its owner or set SUPERVISOR_HOME`);
  }
}

const LockInfo = z.object({ pid: z.number().int(), role: z.string(), startedAt: z.string() });
export type LockInfo = z.infer<typeof LockInfo>;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readJson<T>(path: string, schema: z.ZodType<T>): Promise<T | undefined> {
  try {
    const parsed = schema.safeParse(JSON.parse(await readFile(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export interface DataDirLock {
  release(): Promise<void>;
}

/**
 * Takes the exclusive lock on the embedded database (PGlite is single-process).
 * A lock left by a process that no longer runs is taken over.
 */
export async function lockDataDir(home: string, role: string): Promise<DataDirLock> {
  const { lock } = dataDirFiles(home);
  const info: LockInfo = { pid: process.pid, role, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await createFileExclusive(lock, JSON.stringify(info))) {
      return { release: () => rm(lock, { force: true }) };
    }
    const holder = await readJson(lock, LockInfo);
    if (holder && isAlive(holder.pid) && holder.pid !== process.pid) {
      throw new SupervisorError(
        'locked',
        `the data dir ${home} is in use by ${holder.role} (pid ${holder.pid}, since ${holder.startedAt}); ` +
          'stop it, or start the daemon (`npm start`) so every command goes through it',
        { pid: holder.pid, role: holder.role },
      );
    }
    await rm(lock, { force: true });
  }
  throw new SupervisorError('locked', `could not take the lock ${lock}; remove it if no supervisor process is running`);
}

const DaemonInfo = z.object({ pid: z.number().int(), url: z.string().url(), token: z.string().min(1) });
export type DaemonInfo = z.infer<typeof DaemonInfo>;

/** The running daemon's address and its per-run local admin credential (0600). */
export async function writeDaemonInfo(home: string, info: DaemonInfo): Promise<void> {
  await writeFileAtomic(dataDirFiles(home).daemon, JSON.stringify(info), 0o600);
}

export async function readDaemonInfo(home: string): Promise<DaemonInfo | undefined> {
  const info = await readJson(dataDirFiles(home).daemon, DaemonInfo);
  return info && isAlive(info.pid) ? info : undefined;
}

export async function removeDaemonInfo(home: string): Promise<void> {
  await rm(dataDirFiles(home).daemon, { force: true });
}

export async function fileMode(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mode & 0o777;
  } catch {
    return undefined;
  }
}
