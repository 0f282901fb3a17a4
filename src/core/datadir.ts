import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { SupervisorError } from './errors.js';
import { writeFileAtomic } from './files.js';
import { isAlive, tryLockFile, type HeldLock } from './lock-file.js';

/** Names of the files the daemon and CLI keep in the data dir (SUPERVISOR_HOME). */
export const dataDirFiles = (home: string) => ({
  db: join(home, 'db'),
  /** The master key the data keys are wrapped with (a copy of its file in `masterKeys`). */
  masterKey: join(home, 'master.key'),
  /** Every master key that may still wrap a data key, one `<fingerprint>.key` file each. */
  masterKeys: join(home, 'keys'),
  /** Held from a master-key rotation's first file write to its last. */
  masterKeysLock: join(home, 'keys.lock'),
  /** Where versions before the `keys` folder staged a rotation; adopted into `keys` at start. */
  legacyNextMasterKey: join(home, 'master.key.next'),
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

async function readJson<T>(path: string, schema: z.ZodType<T>): Promise<T | undefined> {
  try {
    const parsed = schema.safeParse(JSON.parse(await readFile(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the exclusive lock on the embedded database (PGlite is single-process).
 * A lock left by a process that no longer runs is taken over.
 */
export async function lockDataDir(home: string, role: string): Promise<HeldLock> {
  const attempt = await tryLockFile(dataDirFiles(home).lock, role);
  if ('held' in attempt) return attempt.held;
  const { holder } = attempt;
  throw new SupervisorError(
    'locked',
    `the data dir ${home} is in use by ${holder.role} (pid ${holder.pid}, since ${holder.startedAt}); ` +
      'stop it, or start the daemon (`npm start`) so every command goes through it',
    { pid: holder.pid, role: holder.role },
  );
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
