import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { readDaemonInfos, startingDaemon, startingMarks, type DaemonInfo } from '../core/daemon-info.js';
import { processStart, stillRuns } from '../core/process-info.js';
import { dataDir } from './connection.js';
import type { Output } from './program.js';
import { FIELD_WITH_JSON, UsageError } from './usage-error.js';
import { buildId, buildInfo } from '../version.js';

/** Seconds a process has run, from /proc (clock ticks since boot; Linux uses 100 a second). */
function uptimeSeconds(pid: number): number | undefined {
  const start = processStart(pid);
  if (start === undefined) return undefined;
  try {
    const sinceBoot = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    return Math.max(0, Math.round(sinceBoot - Number(start) / 100));
  } catch {
    return undefined;
  }
}

function duration(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : '', `${seconds % 60}s`].filter(Boolean).slice(0, 2).join(' ');
}

const ASK_TIMEOUT_MS = 5000;

async function ask(info: DaemonInfo, path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const response = await fetch(`${info.url.replace(/\/$/, '')}${path}`, { signal: AbortSignal.timeout(ASK_TIMEOUT_MS) });
    return (await response.json()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export const STATUS_FIELDS = ['running', 'starting', 'pid', 'uptimeSeconds', 'url', 'answering', 'database', 'ready', 'notReady', 'version', 'build', 'builtAt', 'currentBuild', 'home', 'others'];

/**
 * `supervisor daemon status`: exit 0 and the facts when a daemon of the data dir runs and is ready
 * (the one commands go through; `others` names the rest when several share it), 3 (as `systemctl
 * status`) when none does, 1 when its process runs but does not answer (hung, or stopped) or is
 * not ready (notReady says why), so a monitor reading the exit code sees both.
 */
export async function daemonStatus(words: string[], format: { json: boolean; field?: string; tty: boolean }, out: Output): Promise<number> {
  const usage = 'supervisor daemon status [--field <name>]';
  if (words.length > 0) throw new UsageError(`daemon status: unexpected arguments: ${words.join(' ')}`, usage);
  const { field } = format;
  if (field !== undefined && format.json) throw new UsageError(`daemon status: ${FIELD_WITH_JSON}`, usage);
  if (field !== undefined && !STATUS_FIELDS.includes(field)) throw new UsageError(`daemon status: --field ${field}: not a field; its fields: ${STATUS_FIELDS.join(', ')}`, usage);
  const home = dataDir();
  const [info, ...others] = await readDaemonInfos(home);
  // Not yet answering: its database is opening (commands run now wait for it).
  const starting = info ? undefined : await startingDaemon(home);
  const status = info ? await statusOf(info, others, home) : { running: false, ...(starting === undefined ? {} : { starting }), home };
  if (field !== undefined) {
    // As -f prints any field: raw, with a newline on a terminal only.
    const value = (status as Record<string, unknown>)[field] ?? null;
    out.write(`${value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value)}${format.tty ? '\n' : ''}`);
  } else if (format.json) out.write(`${JSON.stringify(status, null, 2)}\n`);
  else if (starting !== undefined) out.write(`starting (pid ${starting}, data dir ${home}): not answering yet; commands run now wait for it\n`);
  else if (!('pid' in status)) out.write(`not running (data dir ${home}); start it with \`supervisor daemon\` or \`npm start\`\n`);
  else {
    const rows: Array<[string, string]> = [
      ['status', !status.answering ? `running, not answering (no answer from ${status.url}/readyz within ${ASK_TIMEOUT_MS / 1000} s)` : status.ready ? 'running' : `running, not ready: ${status.notReady ?? 'the database is not ready'}`],
      ['pid', String(status.pid)],
      ['uptime', status.uptimeSeconds === null ? '-' : duration(status.uptimeSeconds)],
      ['url', status.url],
      ['database', status.database ?? '-'],
      ['version', status.version ?? '-'],
      ['build', buildRow(status)],
      ['data dir', home],
      ...(others.length > 0 ? [['others', others.map((o) => `pid ${o.pid} at ${o.url}`).join(', ')] as [string, string]] : []),
    ];
    out.write(rows.map(([k, v]) => `${`${k}:`.padEnd(10)}${v}`).join('\n') + '\n');
  }
  return !info ? 3 : 'answering' in status && (!status.answering || !status.ready) ? 1 : 0;
}

/** The build row, from the status's own verdict (currentBuild) rather than comparing again. */
function buildRow({ build, currentBuild, builtAt }: { build: string | null; currentBuild: boolean | null; builtAt?: string }): string {
  if (build === null) return '-';
  if (currentBuild !== false) return build;
  const own = buildInfo();
  const head = `${build}, not this command's (${own?.id})`;
  // Which is the newer, by when each was built: a daemon left running across npm install, or a command from an older checkout.
  const older = builtAt && own?.builtAt ? (builtAt < own.builtAt ? 'daemon' : 'command') : undefined;
  if (older === 'command') return `${head}: this command is from an older build than the daemon; use the newer checkout's supervisor`;
  const restart = 'restart it (`supervisor daemon stop`, then start it)';
  if (older === 'daemon') return `${head}: it started before the code was rebuilt (npm install) and runs the old code; ${restart}`;
  return `${head}: if this command's code is the newer (npm install since the daemon started), ${restart}`;
}

/** Whether the daemon runs this command's build; null when either is unknown (run from sources). */
function currentBuild(build: string | undefined): boolean | null {
  const own = buildId();
  return build === undefined || own === undefined ? null : build === own;
}

async function statusOf(info: DaemonInfo, others: DaemonInfo[], home: string) {
  const [ready, version] = await Promise.all([ask(info, '/readyz'), ask(info, '/api/v1/openapi.json')]);
  return {
    running: true,
    pid: info.pid,
    uptimeSeconds: uptimeSeconds(info.pid) ?? null,
    url: info.url,
    answering: ready !== undefined,
    // Said by a ready answer, and by a refusal's details (the database is still the one, just not serving).
    database: ((ready?.database ?? (ready?.error as { details?: Record<string, unknown> } | undefined)?.details?.database) as string | undefined) ?? null,
    ready: ready?.status === 'ready',
    /** Why /readyz refused (the database unreachable, or migrated by a newer Supervisor). */
    notReady: ready === undefined || ready.status === 'ready' ? null : (((ready.error as Record<string, unknown> | undefined)?.message as string | undefined) ?? null),
    version: ((version?.info as Record<string, unknown> | undefined)?.version as string | undefined) ?? null,
    build: info.build ?? null,
    /** False when the daemon runs another build than this command: it started before a rebuild (npm install), or the command is from another checkout. */
    currentBuild: currentBuild(info.build),
    ...(info.builtAt ? { builtAt: info.builtAt } : {}),
    home,
    others: others.map((o) => ({ pid: o.pid, url: o.url })),
  };
}

/** How long a daemon's stop may take (in-flight requests, flushes, closing the database) before it exits anyway. */
export const DAEMON_STOP_LIMIT_S = 30;

/**
 * How long `daemon stop` waits by default past the daemons' own limit, by which they have exited
 * whatever they were finishing. Giving up at the limit itself told the person to `kill -9` a daemon
 * that was exiting that very moment, and exited 1.
 */
const STOP_WAIT_PAST_LIMIT_S = 5;

/**
 * `supervisor daemon stop`: SIGTERM to every daemon of the data dir, then wait until each has exited
 * (each removes its file on the way). `stopLimitS` is the stop limit of the daemons it stops, the
 * daemon's own by default; a test stands in for a daemon with a shorter one rather than wait 30 s.
 */
export async function daemonStop(words: string[], json: boolean, out: Output, errOut: Output, stopLimitS = DAEMON_STOP_LIMIT_S): Promise<number> {
  const usage = 'supervisor daemon stop [--timeout <seconds>]';
  let timeout = stopLimitS + STOP_WAIT_PAST_LIMIT_S;
  for (let i = 0; i < words.length; i++) {
    const [flag, inline] = words[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    if (flag !== '--timeout') throw new UsageError(`daemon stop: unknown flag ${words[i]}`, usage);
    const value = inline ?? words[++i];
    if (value === undefined || !/^\d+$/.test(value)) throw new UsageError(`daemon stop: --timeout must be a whole number of seconds, not "${value ?? ''}"`, usage);
    timeout = Number(value);
  }
  const home = dataDir();
  // And those still starting (not yet answering): each stops once its start is done.
  const pids = [...new Set([...(await readDaemonInfos(home)).map((info) => info.pid), ...(await startingMarks(home)).filter((m) => m.live).map((m) => m.pid)])];
  if (pids.length === 0) {
    out.write(json ? `${JSON.stringify({ stopped: false, running: false }, null, 2)}\n` : 'not running\n');
    return 0;
  }
  const stopping = pids.map((pid) => ({ pid, started: processStart(pid) }));
  for (const { pid } of stopping) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeout * 1000;
  for (;;) {
    const left = stopping.filter((d) => stillRuns(d.pid, d.started)).map((d) => d.pid);
    if (left.length === 0) break;
    if (Date.now() > deadline) {
      errOut.write(`supervisor: unavailable: the daemon (pid ${left.join(', ')}) is still shutting down after ${timeout} s; wait, or \`kill -9 ${left.join(' ')}\` as a last resort\n`);
      return 1;
    }
    await delay(100);
  }
  out.write(json ? `${JSON.stringify({ stopped: true, pid: pids[0], pids }, null, 2)}\n` : `stopped the daemon (pid ${pids.join(', ')})\n`);
  return 0;
}
