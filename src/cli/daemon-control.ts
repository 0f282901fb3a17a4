import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { readDaemonInfo, type DaemonInfo } from '../core/daemon-info.js';
import { processStart, stillRuns } from '../core/process-info.js';
import { dataDir } from './connection.js';
import type { Output } from './program.js';
import { UsageError } from './usage-error.js';

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

async function ask(info: DaemonInfo, path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const response = await fetch(`${info.url.replace(/\/$/, '')}${path}`, { signal: AbortSignal.timeout(5000) });
    return (await response.json()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** `supervisor daemon status`: exit 0 and the facts when the data dir's daemon runs, 3 (as `systemctl status`) when not. */
export async function daemonStatus(words: string[], json: boolean, out: Output): Promise<number> {
  if (words.length > 0) throw new UsageError(`daemon status: unexpected arguments: ${words.join(' ')}`, 'supervisor daemon status');
  const home = dataDir();
  const info = await readDaemonInfo(home);
  if (!info) {
    out.write(json ? `${JSON.stringify({ running: false, home })}\n` : `not running (data dir ${home}); start it with \`supervisor daemon\` or \`npm start\`\n`);
    return 3;
  }
  const [ready, version] = await Promise.all([ask(info, '/readyz'), ask(info, '/api/v1/openapi.json')]);
  const status = {
    running: true,
    pid: info.pid,
    uptimeSeconds: uptimeSeconds(info.pid) ?? null,
    url: info.url,
    database: (ready?.database as string | undefined) ?? null,
    ready: ready?.status === 'ready',
    version: ((version?.info as Record<string, unknown> | undefined)?.version as string | undefined) ?? null,
    home,
  };
  if (json) out.write(`${JSON.stringify(status, null, 2)}\n`);
  else {
    const rows: Array<[string, string]> = [
      ['status', status.ready ? 'running' : 'running, database not ready'],
      ['pid', String(status.pid)],
      ['uptime', status.uptimeSeconds === null ? '-' : duration(status.uptimeSeconds)],
      ['url', status.url],
      ['database', status.database ?? '-'],
      ['version', status.version ?? '-'],
      ['data dir', home],
    ];
    out.write(rows.map(([k, v]) => `${`${k}:`.padEnd(10)}${v}`).join('\n') + '\n');
  }
  return 0;
}

/** `supervisor daemon stop`: SIGTERM to the data dir's daemon, then wait until it has exited (it removes daemon.json on the way). */
export async function daemonStop(words: string[], json: boolean, out: Output, errOut: Output): Promise<number> {
  const usage = 'supervisor daemon stop [--timeout <seconds>]';
  let timeout = 30;
  for (let i = 0; i < words.length; i++) {
    const [flag, inline] = words[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    if (flag !== '--timeout') throw new UsageError(`daemon stop: unknown flag ${words[i]}`, usage);
    const value = inline ?? words[++i];
    if (value === undefined || !/^\d+$/.test(value)) throw new UsageError(`daemon stop: --timeout must be a whole number of seconds, not "${value ?? ''}"`, usage);
    timeout = Number(value);
  }
  const home = dataDir();
  const info = await readDaemonInfo(home);
  if (!info) {
    out.write(json ? `${JSON.stringify({ stopped: false, running: false })}\n` : 'not running\n');
    return 0;
  }
  const started = processStart(info.pid);
  process.kill(info.pid, 'SIGTERM');
  const deadline = Date.now() + timeout * 1000;
  while (stillRuns(info.pid, started)) {
    if (Date.now() > deadline) {
      errOut.write(`supervisor: unavailable: the daemon (pid ${info.pid}) is still shutting down after ${timeout} s; wait, or \`kill -9 ${info.pid}\` as a last resort\n`);
      return 1;
    }
    await delay(100);
  }
  out.write(json ? `${JSON.stringify({ stopped: true, pid: info.pid })}\n` : `stopped the daemon (pid ${info.pid})\n`);
  return 0;
}
