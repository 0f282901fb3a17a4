import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { processCpuMicros } from '../src/core/process-info.js';
import type { ChildDaemon } from './daemon-child.js';

const CONNECTIONS = 32;
const SECONDS = 10;
/** Handler work for the bare route's calibration curve. */
const SPINS_US = [0, 10, 25, 50, 100];

interface Load {
  rps: number;
  p99: number;
  errors: number;
  /** The server process's CPU (all its threads) per request, in µs; NaN without /proc. */
  cpuUs: number;
}

const cpuOf = (pid: number): number => processCpuMicros(pid) ?? Number.NaN;

async function load(url: string, pid: number, token?: string): Promise<Load> {
  const before = cpuOf(pid);
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.non2xx, cpuUs: (cpuOf(pid) - before) / result.requests.total };
}

/** The bare fastify server (floor-server.ts) in its own process, like the daemon. */
async function startFloor(): Promise<{ url: string; pid: number; close(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./floor-server.ts', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once('exit', (code) => reject(new Error(`floor server exited with ${code}`)));
  });
  return {
    url,
    pid: child.pid!,
    close: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

const row = (label: string, r: Load) =>
  console.log(`  ${label.padEnd(34)} ${r.rps.toFixed(0).padStart(7)} req/s  p99 ${String(r.p99).padStart(3)} ms  server CPU ${r.cpuUs.toFixed(0).padStart(3)} µs/request  errors ${r.errors}`);
const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(0)}%`;

/** How many µs of spinning in the bare route give the same requests/s as `rps` (linear between measured points). */
function spinEquivalent(rps: number, curve: Array<{ us: number; rps: number }>): string {
  for (let i = 1; i < curve.length; i++) {
    const [hi, lo] = [curve[i - 1]!, curve[i]!];
    if (rps <= hi.rps && rps >= lo.rps) return `~${(hi.us + ((hi.rps - rps) / (hi.rps - lo.rps)) * (lo.us - hi.us)).toFixed(0)} µs`;
  }
  return rps > curve[0]!.rps ? 'faster than the bare route spinning 0 µs' : `> ${curve.at(-1)!.us} µs`;
}

/**
 * REST GET of one secret under 32 concurrent clients, next to /healthz and whoami
 * (auth + catalog, no database) on the same server, and a bare fastify + pg route
 * doing one SELECT (the floor for an uncached read here). Then the bare route
 * spinning N µs per request: the load generator shares this machine's cores, so
 * requests/s fall much faster than the handler's work grows, and the curve says
 * what a ratio to /healthz can be for a handler that does any work at all.
 */
export async function benchRest(daemon: ChildDaemon): Promise<void> {
  const path = 'project/bench/api_key';
  const put = await fetch(`${daemon.url}/api/v1/secret`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${daemon.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ path, value: 'bench-value' }),
  });
  if (!put.ok) throw new Error(`set_secret failed: ${await put.text()}`);
  const health = await load(`${daemon.url}/healthz`, daemon.pid);
  const whoami = await load(`${daemon.url}/api/v1/whoami`, daemon.pid, daemon.adminToken);
  const secret = await load(`${daemon.url}/api/v1/secret?path=${encodeURIComponent(path)}`, daemon.pid, daemon.adminToken);
  const floor = await startFloor();
  let bare: Load;
  const spins: Array<{ us: number } & Load> = [];
  try {
    bare = await load(`${floor.url}/row`, floor.pid);
    for (const us of SPINS_US) spins.push({ us, ...(await load(`${floor.url}/spin?us=${us}`, floor.pid)) });
  } finally {
    await floor.close();
  }
  console.log(`\n[postgres] REST, ${CONNECTIONS} concurrent clients for ${SECONDS} s each`);
  row('GET /api/v1/secret', secret);
  row('GET /api/v1/whoami (no database)', whoami);
  row('GET /healthz', health);
  row('bare fastify + pg SELECT (floor)', bare);
  console.log(`  secret / healthz ${pct(secret.rps, health.rps)}   secret / whoami ${pct(secret.rps, whoami.rps)}   secret / bare floor ${pct(secret.rps, bare.rps)}`);
  console.log('  bare fastify route spinning N µs per request (calibration):');
  for (const spin of spins) row(`  spin ${spin.us} µs (${pct(spin.rps, spins[0]!.rps)} of spin 0)`, spin);
  console.log(`  same requests/s as a bare route spinning: healthz ${spinEquivalent(health.rps, spins)}, whoami ${spinEquivalent(whoami.rps, spins)}, secret ${spinEquivalent(secret.rps, spins)}`);
}
