import { readFileSync } from 'node:fs';

/** Start time of a running process in clock ticks since boot, or undefined without /proc. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22; the command name (field 2) may hold spaces, so count from its closing parenthesis.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
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

/** Whether the process that recorded `pid` (and `started`, its start time) still runs: not gone, and not a new process with a reused pid. */
export function stillRuns(pid: number, started: string | undefined): boolean {
  if (!isAlive(pid)) return false;
  return started === undefined || processStart(pid) === started;
}
