import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { startChildDaemon } from './daemon-child.js';

const IDLE_MS = 10_000;

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/** One start of the daemon on the embedded database in `home`: time to ready, RSS then and after idling. */
async function start(home: string): Promise<{ ms: number; ready: number; idle: number }> {
  const began = performance.now();
  const daemon = await startChildDaemon({ embedded: { home } });
  const ms = performance.now() - began;
  const ready = rssMb(daemon.pid);
  await delay(IDLE_MS);
  const idle = rssMb(daemon.pid);
  await daemon.close();
  return { ms, ready, idle };
}

/** The daemon on its embedded database: a first start (the cluster is created), then a restart. */
export async function benchDaemonRss(): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'supervisor-bench-rss-'));
  try {
    const first = await start(home);
    const restart = await start(home);
    console.log(`\n[pglite] daemon RSS, idle measured ${IDLE_MS / 1000} s after ready`);
    for (const [label, r] of [['first start', first], ['restart', restart]] as const) {
      console.log(`  ${label.padEnd(12)} ready in ${(r.ms / 1000).toFixed(1)} s   RSS at ready ${r.ready.toFixed(0)} MB   idle ${r.idle.toFixed(0)} MB`);
    }
    console.log(`  first start / restart (idle RSS) ${(first.idle / restart.idle).toFixed(2)}×`);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
