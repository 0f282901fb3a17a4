import { readFileSync } from 'node:fs';

/** A process's resident memory in MB, from /proc/<pid>/status. */
export const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
