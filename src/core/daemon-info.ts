import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { SupervisorError } from './errors.js';
import { placeOf } from './place.js';
import { stillRuns } from './process-info.js';

/**
 * daemons/<pid>.json: a running daemon's address and its per-run local admin credential
 * (0600), written by the daemon, read by the CLI and the stdio relay. One file per daemon:
 * several daemons may share a data dir (over PostgreSQL), and one stopping must not hide
 * the others. Checked by hand rather than with zod so the relay starts without loading a
 * validator.
 */
export interface DaemonInfo {
  pid: number;
  /** The process's kernel start time: a daemons/<pid>.json whose pid now belongs to another process is stale. */
  processStart?: string;
  /** The data dir it serves (placeOf): the file copied with the data dir names another daemon's. */
  home?: string;
  url: string;
  token: string;
  /** The build it runs (version.ts buildId); absent when it runs from sources. */
  build?: string;
  /** When that build was made: whether a command's build is older or newer than the daemon's. */
  builtAt?: string;
  /** The config file it reads: a client with another SUPERVISOR_CONFIG is told its own is not the one used. */
  configFile?: string;
}

export const daemonInfoDir = (home: string) => join(home, 'daemons');
export const daemonInfoFile = (home: string, pid: number) => join(daemonInfoDir(home), `${pid}.json`);
/**
 * daemons/last-address: where a daemon of the data dir last listened, kept after it stops. A
 * command run without a daemon writes links to it (MCP endpoints in CLAUDE.md, .mcp.json), which
 * must lead where agents find it, not where this shell's settings would put it.
 */
export const lastAddressFile = (home: string) => join(daemonInfoDir(home), 'last-address');

export function lastDaemonAddress(home: string): string | undefined {
  try {
    return readFileSync(lastAddressFile(home), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function asDaemonInfo(value: unknown): DaemonInfo | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const { pid, processStart, url, token, home, build, builtAt, configFile } = value as Record<string, unknown>;
  if (!Number.isInteger(pid) || typeof url !== 'string' || !/^https?:\/\//.test(url) || typeof token !== 'string' || token === '') return undefined;
  if (processStart !== undefined && typeof processStart !== 'string') return undefined;
  if (home !== undefined && typeof home !== 'string') return undefined;
  return {
    pid: pid as number,
    url,
    token,
    ...(processStart === undefined ? {} : { processStart }),
    ...(home === undefined ? {} : { home }),
    // An unexpected build is not worth refusing the daemon over: it is only not told.
    ...(typeof build === 'string' ? { build } : {}),
    ...(typeof builtAt === 'string' ? { builtAt } : {}),
    ...(typeof configFile === 'string' ? { configFile } : {}),
  };
}

/** The data dir as every client process finds it: SUPERVISOR_HOME, else ~/.local/share/supervisor. */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.SUPERVISOR_HOME || join(homedir(), '.local/share/supervisor'));
}

export interface DaemonTarget {
  url: string;
  token: string;
  /** The config file of a daemon found in the data dir (not one named by SUPERVISOR_URL). */
  configFile?: string;
}

/**
 * The daemon a client process (the CLI, the stdio relay) talks to and the token it presents:
 * SUPERVISOR_URL with SUPERVISOR_TOKEN; else the newest live daemon of the data dir, with
 * SUPERVISOR_TOKEN when it is set (that token's scope: a project token in an agent's
 * environment stays a project token), else the daemon's local credential (the data dir
 * owner's admin access).
 */
export async function daemonTarget(env: NodeJS.ProcessEnv, home: string): Promise<DaemonTarget | undefined> {
  const token = env.SUPERVISOR_TOKEN || undefined;
  if (env.SUPERVISOR_URL) {
    // Another daemon's URL alone would only be answered "no bearer token", in HTTP's terms.
    if (!token) throw new SupervisorError('unauthorized', `SUPERVISOR_URL (${env.SUPERVISOR_URL}) is set without SUPERVISOR_TOKEN; set it to a token of that daemon (\`supervisor token create\` there), or unset SUPERVISOR_URL to use this data dir's daemon`);
    return { url: env.SUPERVISOR_URL.replace(/\/$/, ''), token };
  }
  const info = await readDaemonInfo(home);
  return info && { url: info.url.replace(/\/$/, ''), token: token ?? info.token, ...(info.configFile ? { configFile: info.configFile } : {}) };
}

/**
 * The daemon's refusal of the token a client presented, in the words of the environment it took
 * that token from: the daemon tells an HTTP client to send an Authorization header, which a person
 * who set SUPERVISOR_TOKEN cannot act on. Anything else (a missing token, any other refusal) is
 * returned as it is.
 */
export function refusedTokenInEnvTerms(err: unknown, env: NodeJS.ProcessEnv): unknown {
  const details = (err as { details?: { credential?: unknown } } | undefined)?.details;
  if (!env.SUPERVISOR_TOKEN || !(err instanceof SupervisorError) || err.code !== 'unauthorized' || details?.credential !== 'refused') return err;
  const daemon = env.SUPERVISOR_URL ? `the daemon at ${env.SUPERVISOR_URL}` : 'the daemon';
  const otherwise = env.SUPERVISOR_URL ? "unset SUPERVISOR_URL and SUPERVISOR_TOKEN to use this data dir's daemon as its owner" : 'unset it to act as the owner of the data dir';
  return new SupervisorError(
    'unauthorized',
    `SUPERVISOR_TOKEN is unknown to ${daemon} or revoked; set it to a valid token (an admin creates one with \`supervisor token create <token-name> --project <project>\`), or ${otherwise}`,
    err.details,
  );
}

/** The daemons running on this data dir, the most recently started first; a file left by a dead or replaced process is ignored. */
export async function readDaemonInfos(home: string): Promise<DaemonInfo[]> {
  let names: string[];
  try {
    names = await readdir(daemonInfoDir(home));
  } catch {
    return [];
  }
  const place = await placeOf(home);
  const read = async (name: string): Promise<DaemonInfo | undefined> => {
    try {
      const info = asDaemonInfo(JSON.parse(await readFile(join(daemonInfoDir(home), name), 'utf8')));
      const here = info?.home === undefined || info.home === place;
      return info && here && name === `${info.pid}.json` && stillRuns(info.pid, info.processStart) ? info : undefined;
    } catch {
      return undefined;
    }
  };
  const infos = (await Promise.all(names.filter((n) => /^\d+\.json$/.test(n)).map(read))).filter((i): i is DaemonInfo => i !== undefined);
  return infos.sort((a, b) => Number(b.processStart ?? 0) - Number(a.processStart ?? 0) || b.pid - a.pid);
}

/**
 * daemons/<pid>.starting: a daemon between its start and its daemons/<pid>.json. On the embedded
 * database the data dir's lock says so; on PostgreSQL nothing else does, and a command run in
 * that second (a systemd unit's next line) opened the database itself, which it could not.
 */
export const startingFile = (home: string, pid: number) => join(daemonInfoDir(home), `${pid}.starting`);

/** The starting marks in the data dir, each with whether its process still runs (a daemon killed while starting leaves one). */
export async function startingMarks(home: string): Promise<Array<{ file: string; pid: number; live: boolean }>> {
  const dir = daemonInfoDir(home);
  const names = await readdir(dir).catch(() => [] as string[]);
  const marks = names.filter((n) => /^\d+\.starting$/.test(n)).map(async (name) => {
    const pid = Number(name.slice(0, -'.starting'.length));
    const started = await readFile(join(dir, name), 'utf8').catch(() => undefined);
    return { file: join(dir, name), pid, live: started !== undefined && stillRuns(pid, started.trim() || undefined) };
  });
  return Promise.all(marks);
}

/** The pid of a daemon of this data dir that is starting, if any. */
export async function startingDaemon(home: string): Promise<number | undefined> {
  return (await startingMarks(home)).find((mark) => mark.live)?.pid;
}

/** The daemon a client talks to: the most recently started of those running on this data dir. */
export async function readDaemonInfo(home: string): Promise<DaemonInfo | undefined> {
  return (await readDaemonInfos(home))[0];
}
