// The PIV loop's children (the agent, validation commands) each run as the leader of their own
// process group. A timeout or a cancel then stops everything they started: killing only the
// leader would leave a test runner's workers, a dev server or a `sleep` running as orphans,
// often holding the output pipe open so we would never see the end of the output either.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Logger } from '../core/log.js';
import { processesWithEnv, stillRuns } from '../core/process-info.js';

/**
 * Every child of a PIV loop (the agent, validation commands) has its loop's id in this variable,
 * and so does everything they start: a restart finds what a crashed daemon left running by it,
 * even a group it had not yet recorded.
 */
export const LOOP_ENV = 'SUPERVISOR_PIV_LOOP';
export const loopEnv = (loopId: string): Record<string, string> => ({ [LOOP_ENV]: loopId });

/**
 * Stops the process groups (agent or validation command) a crashed daemon left running for a
 * loop: the one it recorded (`pid:start`), if it still runs, and any whose processes carry the
 * loop's mark (LOOP_ENV), which also finds a group the daemon died before recording.
 */
export function killLeftGroups(loopId: string, recorded: string | null, log: Logger): void {
  const groups = new Set(processesWithEnv(`${LOOP_ENV}=${loopId}`).map((p) => p.group));
  const [pid, started] = (recorded ?? '').split(':');
  const leader = Number(pid);
  if (leader > 0 && stillRuns(leader, started || undefined)) groups.add(leader);
  for (const group of groups) {
    try {
      process.kill(-group, 'SIGKILL');
      log.warn({ loop: loopId, pid: group }, 'stopped the agent a previous daemon left running');
    } catch {
      // Already gone.
    }
  }
}

/**
 * Never passed on to a loop's children: the daemon's own configuration and credentials. A
 * validation command's output is kept, shown to the project's token and primed into later loops,
 * so a test script that prints `env` must not print the master key, the database's URL and
 * password, or a token the daemon was started with (the agent would act with it, too).
 */
const withheld = (name: string) => name.startsWith('SUPERVISOR_') || name === 'DATABASE_URL' || name === 'PGPASSWORD';

/** The daemon's environment as a loop's children get it: without what `withheld` names. */
export function childEnvironment(from: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(from)) if (!withheld(name)) env[name] = value;
  return env;
}

export interface GroupExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the command could not be started (not found, not executable, no such cwd). */
  spawnError?: string;
}

export interface GroupChild {
  readonly child: ChildProcessWithoutNullStreams;
  /** SIGTERM to the whole group now, SIGKILL after the grace period. Calling it again does nothing. */
  stop(): void;
  /**
   * Resolves once the leader has exited and its output has been read to the end. Whatever the
   * leader left behind in its group is stopped: a finished run leaves nothing running.
   */
  readonly done: Promise<GroupExit>;
}

export interface SpawnGroupOptions {
  cwd: string;
  /** Added to this process's environment as `childEnvironment` leaves it (the child inherits the rest). */
  env?: NodeJS.ProcessEnv;
  /** Between SIGTERM and SIGKILL; default 3,000 ms. */
  graceMs?: number;
}

const DEFAULT_GRACE_MS = 3_000;
/** After the leader exits, how long a process that left the group may hold our pipes open. */
const DRAIN_MS = 1_000;

export function spawnGroup(command: string, args: string[], opts: SpawnGroupOptions): GroupChild {
  const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
  const child = spawn(command, args, { cwd: opts.cwd, env: { ...childEnvironment(), ...opts.env }, detached: true, stdio: 'pipe' });
  // A child that exits without reading its stdin makes our write fail with EPIPE; the exit
  // status says what happened, the write error adds nothing.
  child.stdin.on('error', () => {});

  let killTimer: NodeJS.Timeout | undefined;
  const signalGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // ESRCH: the group is already empty.
    }
  };
  const stop = () => {
    if (killTimer) return;
    signalGroup('SIGTERM');
    killTimer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
    // Only leftovers that ignore SIGTERM need it; it must not keep a finished process alive.
    killTimer.unref();
  };

  const done = new Promise<GroupExit>((resolve) => {
    let exit: GroupExit | undefined;
    let drain: NodeJS.Timeout | undefined;
    let settled = false;
    const settle = (value: GroupExit) => {
      if (settled) return;
      settled = true;
      clearTimeout(drain);
      resolve(value);
    };
    child.once('error', (err) => settle({ code: null, signal: null, spawnError: err.message }));
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      stop();
      // A process that left the group (setsid) can keep the pipes open for ever; stop waiting.
      drain = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        settle(exit ?? { code, signal });
      }, graceMs + DRAIN_MS);
    });
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => settle(exit ?? { code, signal }));
  });

  return { child, stop, done };
}
