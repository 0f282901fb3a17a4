import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SupervisorError } from './errors.js';
import { writeFileAtomic } from './files.js';
import { daemonInfoDir, daemonInfoFile, lastAddressFile, readDaemonInfos, startingFile, startingMarks, type DaemonInfo } from './daemon-info.js';
import { tryLockFile, type HeldLock } from './lock-file.js';
import { placeOf } from './place.js';
import { ownStart } from './process-info.js';

export { readDaemonInfo, readDaemonInfos, type DaemonInfo } from './daemon-info.js';

/** Whether `dataDir` holds a database cluster (initdb writes PG_VERSION into every one). */
export const hasCluster = (dataDir: string): boolean => existsSync(join(dataDir, 'PG_VERSION'));

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
  /** Present while the data dir's database is PostgreSQL (open-db.ts): the URL, password masked. */
  postgresMarker: join(home, 'postgres.json'),
  /** One `<pid>.json` per running daemon: its address and local credential. */
  daemons: daemonInfoDir(home),
});

/**
 * Creates the data dir (0700) and checks it belongs to the user running us: the
 * CLI and stdio MCP adapter act with admin rights here on the strength of owning it.
 * An existing dir others may enter is closed (0700).
 */
export async function ensureDataDir(home: string): Promise<void> {
  await mkdir(home, { recursive: true, mode: 0o700 });
  const { uid: owner, mode } = await stat(home);
  const me = process.getuid?.();
  if (me !== undefined && me !== 0 && owner !== me) {
    throw new SupervisorError('forbidden', `the data dir ${home} belongs to uid ${owner}, not to you (uid ${me}); run as its owner or set SUPERVISOR_HOME`);
  }
  if ((mode & 0o077) !== 0) await chmod(home, 0o700);
}

/**
 * Takes group and other permissions off everything in the data dir. PGlite creates
 * its files with mode 0666 whatever the process umask, so this runs after the
 * database is opened (a walk of about a thousand files); files it creates later sit
 * in the 0700 data dir, which no one else can enter, and are fixed at the next start.
 */
export async function tightenDataDir(home: string): Promise<number> {
  let changed = 0;
  // Other processes come and go meanwhile (a command trying the lock writes and removes a temp
  // file beside it): an entry gone between readdir and lstat is skipped, not an error.
  const gone = (err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  };
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch((err: unknown) => (gone(err), []))) {
      if (entry.isSymbolicLink()) continue;
      const path = join(dir, entry.name);
      try {
        const { mode } = await lstat(path);
        if ((mode & 0o077) !== 0) {
          await chmod(path, mode & 0o700);
          changed++;
        }
      } catch (err) {
        gone(err);
        continue;
      }
      if (entry.isDirectory()) await walk(path);
    }
  };
  await walk(home);
  return changed;
}

/** The role of a command run without the daemon, and how long another waits for it before `locked`. */
export const CLI_ROLE = 'supervisor cli';
/**
 * A daemon on PostgreSQL holds the data dir only while it chooses its database (it checks for an
 * embedded one and notes PostgreSQL in postgres.json): a command opening the embedded database in
 * that moment would make one nobody uses, and write to it.
 */
export const CHOOSING_ROLE = 'daemon choosing its database';
const COMMAND_WAIT_MS = 15_000;

/**
 * Takes the exclusive lock on the embedded database (PGlite is single-process).
 * A lock left by a process that no longer runs is taken over.
 */
export async function lockDataDir(home: string, role: string, waitForCommandMs = COMMAND_WAIT_MS): Promise<HeldLock> {
  const deadline = Date.now() + waitForCommandMs;
  let attempt = await tryLockFile(dataDirFiles(home).lock, role);
  // Another command without the daemon is done in a moment: scripts that run a few at once
  // queue behind it. A daemon or an MCP session holds the data dir for as long as it runs.
  while ('holder' in attempt && (attempt.holder.role === CLI_ROLE || attempt.holder.role === CHOOSING_ROLE) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 40));
    attempt = await tryLockFile(dataDirFiles(home).lock, role);
  }
  if ('held' in attempt) return attempt.held;
  const { holder } = attempt;
  throw new SupervisorError('locked', `the data dir ${home} is in use by ${holder.role} (pid ${holder.pid}, since ${holder.startedAt}); ${lockedAdvice(holder, role)}`, {
    pid: holder.pid,
    role: holder.role,
  });
}

/** What to do about the embedded database's holder: starting the daemon helps only once nothing else holds it. */
function lockedAdvice(holder: { role: string; pid: number }, role: string): string {
  // The embedded database serves one daemon: a second one on the data dir is never let in.
  if (holder.role === 'daemon' && role === 'daemon') {
    return 'a daemon already runs on this data dir (`supervisor daemon status` shows its address), and the embedded database serves one; run several daemons on PostgreSQL (DATABASE_URL)';
  }
  // A running daemon publishes daemons/<pid>.json and commands go through it: one found holding the lock is starting or stopping.
  if (holder.role === 'daemon') return 'it is starting up or shutting down: retry in a moment (commands go through it once it is up)';
  const then = role === 'daemon' ? 'then start the daemon again' : 'or start the daemon (`npm start`) once it has ended';
  const what = holder.role === 'supervisor mcp' ? `it is an MCP session opened without the daemon: end that Claude Code session (or \`kill ${holder.pid}\`), ` : 'wait for it to finish, ';
  return `${what}${then}; with the daemon running, sessions and commands go through it and never hold the data dir`;
}

/** This daemon's address and its per-run local admin credential (0600), beside those of other daemons on this data dir. */
export async function writeDaemonInfo(home: string, info: Omit<DaemonInfo, 'processStart' | 'home'>): Promise<void> {
  const dir = daemonInfoDir(home);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(daemonInfoFile(home, info.pid), JSON.stringify({ ...info, processStart: ownStart, home: await placeOf(home) }), 0o600);
  await writeFileAtomic(lastAddressFile(home), `${info.url}\n`, 0o600);
  // Files of daemons killed without a chance to remove theirs.
  const live = new Set((await readDaemonInfos(home)).map((d) => `${d.pid}.json`));
  for (const name of await readdir(dir)) if (/^\d+\.json$/.test(name) && !live.has(name)) await rm(join(dir, name), { force: true });
}

/** Marks this process as a daemon starting on the data dir (see startingFile); the answer removes the mark. */
export async function markStarting(home: string): Promise<() => Promise<void>> {
  const dir = daemonInfoDir(home);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Marks of daemons killed while starting.
  for (const mark of await startingMarks(home)) if (!mark.live) await rm(mark.file, { force: true });
  const file = startingFile(home, process.pid);
  await writeFileAtomic(file, ownStart ?? '', 0o600);
  return () => rm(file, { force: true });
}

/** Removes this daemon's file only: others on the data dir keep being found. */
export async function removeDaemonInfo(home: string, pid: number = process.pid): Promise<void> {
  await rm(daemonInfoFile(home, pid), { force: true });
}

export async function fileMode(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mode & 0o777;
  } catch {
    return undefined;
  }
}
