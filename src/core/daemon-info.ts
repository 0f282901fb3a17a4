import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { stillRuns } from './process-info.js';

/**
 * daemon.json: the running daemon's address and its per-run local admin credential
 * (0600), written by the daemon, read by the CLI and the stdio relay. Checked by
 * hand rather than with zod so the relay starts without loading a validator.
 */
export interface DaemonInfo {
  pid: number;
  /** The process's kernel start time: a daemon.json whose pid now belongs to another process is stale. */
  processStart?: string;
  url: string;
  token: string;
}

export const daemonInfoFile = (home: string) => join(home, 'daemon.json');

function asDaemonInfo(value: unknown): DaemonInfo | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const { pid, processStart, url, token } = value as Record<string, unknown>;
  if (!Number.isInteger(pid) || typeof url !== 'string' || !/^https?:\/\//.test(url) || typeof token !== 'string' || token === '') return undefined;
  if (processStart !== undefined && typeof processStart !== 'string') return undefined;
  return { pid: pid as number, url, token, ...(processStart === undefined ? {} : { processStart }) };
}

/** The data dir as every client process finds it: SUPERVISOR_HOME, else ~/.local/share/supervisor. */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.SUPERVISOR_HOME || join(homedir(), '.local/share/supervisor'));
}

export interface DaemonTarget {
  url: string;
  token: string;
}

/**
 * The daemon a client process (the CLI, the stdio relay) talks to and the token it presents:
 * SUPERVISOR_URL with SUPERVISOR_TOKEN; else the live daemon that wrote daemon.json, with
 * SUPERVISOR_TOKEN when it is set (that token's scope: a project token in an agent's
 * environment stays a project token), else the daemon's local credential (the data dir
 * owner's admin access).
 */
export async function daemonTarget(env: NodeJS.ProcessEnv, home: string): Promise<DaemonTarget | undefined> {
  const token = env.SUPERVISOR_TOKEN || undefined;
  if (env.SUPERVISOR_URL) return { url: env.SUPERVISOR_URL.replace(/\/$/, ''), token: token ?? '' };
  const info = await readDaemonInfo(home);
  return info && { url: info.url.replace(/\/$/, ''), token: token ?? info.token };
}

/** The daemon that wrote daemon.json, if it still runs; a file left by a dead or replaced process is ignored. */
export async function readDaemonInfo(home: string): Promise<DaemonInfo | undefined> {
  let info: DaemonInfo | undefined;
  try {
    info = asDaemonInfo(JSON.parse(await readFile(daemonInfoFile(home), 'utf8')));
  } catch {
    return undefined;
  }
  return info && stillRuns(info.pid, info.processStart) ? info : undefined;
}
