import { readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** Clock ticks per second in /proc/<pid>/stat: USER_HZ, 100 on every Linux architecture userspace sees. */
const USER_HZ = 100;

/** /proc/<pid>/stat from field 3 (state) on, or undefined without /proc. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces, so count from its closing parenthesis.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Start time of a running process in clock ticks since boot (field 22), or undefined without /proc. */
export function processStart(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/** User + system CPU a process has used (fields 14 and 15), in µs to 10 ms, or undefined without /proc. */
export function processCpuMicros(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields && ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / USER_HZ;
}

export const ownStart = processStart(process.pid);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the process that recorded `pid` (and `started`, its start time) still runs: not gone,
 * not a new process with a reused pid, and not a zombie — a process that has exited and waits for
 * its parent to collect it (a daemon killed while the shell or script that started it is busy)
 * holds no lock and serves nothing, though signal 0 still reaches it.
 */
export function stillRuns(pid: number, started: string | undefined): boolean {
  if (!isAlive(pid)) return false;
  const fields = statFields(pid);
  if (fields && (fields[0] === 'Z' || fields[0] === 'X')) return false;
  return started === undefined || fields?.[19] === started;
}

/** A process of this host (this one by default) as the owner of work recorded in a shared database: host, pid and start time (see Presence). */
export const processOwner = (pid = process.pid): string => `${hostname()}:${pid}:${(pid === process.pid ? ownStart : processStart(pid)) ?? ''}`;

/** /proc/stat's btime (boot time, epoch seconds), read once. */
let bootTime: number | null | undefined;
function bootSeconds(): number | null {
  if (bootTime === undefined) {
    try {
      const match = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
      bootTime = match ? Number(match[1]) : null;
    } catch {
      bootTime = null;
    }
  }
  return bootTime;
}

/** When a process started, in epoch milliseconds (to 10 ms), or undefined without /proc. */
export function processStartedAt(pid: number): number | undefined {
  const ticks = processStart(pid);
  const boot = bootSeconds();
  if (ticks === undefined || boot === null || !/^\d+$/.test(ticks)) return undefined;
  return boot * 1000 + (Number(ticks) * 1000) / USER_HZ;
}

/**
 * The processes (other than this one) whose environment holds `entry` (`NAME=value`), with
 * their process groups; empty without /proc. Children inherit the environment, so this finds
 * what a crashed daemon's child started even when nothing recorded it.
 */
export function processesWithEnv(entry: string): Array<{ pid: number; group: number }> {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: Array<{ pid: number; group: number }> = [];
  for (const name of names) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(entry)) continue;
    } catch {
      continue; // gone, or another user's
    }
    const group = Number(statFields(pid)?.[2]);
    if (group > 0) out.push({ pid, group });
  }
  return out;
}
