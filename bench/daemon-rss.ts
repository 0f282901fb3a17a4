import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { readDaemonInfo } from '../src/core/daemon-info.js';
import { startChildDaemon, type ChildDaemon } from './daemon-child.js';
import { rssMb } from './proc.js';

/** Idle time after which RSS is read as start-up left it, and as an idle daemon keeps it. */
const EARLY_MS = 10_000;
const SETTLED_MS = 30_000;

/** An MCP tools/list on the meta endpoint with the daemon's local token: the first MCP request loads the SDK. */
async function mcpToolsList(daemon: ChildDaemon): Promise<void> {
  const info = await readDaemonInfo(daemon.home);
  if (!info) throw new Error(`no running daemon published in ${daemon.home}`);
  const { token } = info;
  const response = await fetch(`${daemon.url}/mcp/meta`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  if (!response.ok) throw new Error(`tools/list failed: ${response.status} ${await response.text()}`);
  await response.text();
}

/**
 * One start of the daemon on the embedded database in `home`: time to ready, RSS then, early
 * in its idle time and once settled, and settled after one MCP request (the MCP SDK is loaded
 * by the first one). Settled is what an idle daemon keeps: start-up leaves garbage in V8's old
 * generation (among it ~9 MB of buffers PGlite read its engine's files into)
 * that V8's memory reducer collects only some 10–20 s into idling, so the early figure is
 * start-up's, not idle's.
 */
async function start(home: string): Promise<{ ms: number; ready: number; early: number; idle: number; afterMcp: number }> {
  const began = performance.now();
  const daemon = await startChildDaemon({ embedded: { home } });
  const ms = performance.now() - began;
  const ready = rssMb(daemon.pid);
  await delay(EARLY_MS);
  const early = rssMb(daemon.pid);
  await delay(SETTLED_MS - EARLY_MS);
  const idle = rssMb(daemon.pid);
  await mcpToolsList(daemon);
  await delay(SETTLED_MS);
  const afterMcp = rssMb(daemon.pid);
  await daemon.close();
  return { ms, ready, early, idle, afterMcp };
}

/** The daemon on its embedded database: a first start (the cluster is created), then a restart. */
export async function benchDaemonRss(): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'supervisor-bench-rss-'));
  try {
    const first = await start(home);
    const restart = await start(home);
    console.log(`\n[pglite] daemon RSS, idle measured ${SETTLED_MS / 1000} s after ready (and after the MCP request), early ${EARLY_MS / 1000} s after ready`);
    for (const [label, r] of [['first start', first], ['restart', restart]] as const) {
      console.log(`  ${label.padEnd(12)} ready in ${(r.ms / 1000).toFixed(1)} s   RSS at ready ${r.ready.toFixed(0)} MB   early ${r.early.toFixed(0)} MB   idle ${r.idle.toFixed(0)} MB   idle after an MCP tools/list ${r.afterMcp.toFixed(0)} MB`);
    }
    console.log(`  first start / restart (idle RSS) ${(first.idle / restart.idle).toFixed(2)}×`);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
