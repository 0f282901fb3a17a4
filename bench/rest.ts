import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import type { ChildDaemon } from './daemon-child.js';

const CONNECTIONS = 32;
const SECONDS = 10;

async function load(url: string, token: string | undefined): Promise<{ rps: number; p99: number; errors: number }> {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

/** The bare fastify + pg server (floor-server.ts) in its own process, like the daemon. */
async function startFloor(): Promise<{ url: string; close(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./floor-server.ts', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once('exit', (code) => reject(new Error(`floor server exited with ${code}`)));
  });
  return {
    url,
    close: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

const row = (label: string, r: { rps: number; p99: number; errors: number }) =>
  console.log(`  ${label.padEnd(34)} ${r.rps.toFixed(0).padStart(7)} req/s  p99 ${r.p99} ms  errors ${r.errors}`);
const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(0)}%`;

/**
 * REST GET of one secret under 32 concurrent clients, next to /healthz and whoami
 * (auth + catalog, no database) on the same server, and a bare fastify + pg route
 * doing one SELECT (the floor for an uncached read here).
 */
export async function benchRest(daemon: ChildDaemon): Promise<void> {
  const path = 'project/bench/api_key';
  const put = await fetch(`${daemon.url}/api/v1/secret`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${daemon.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ path, value: 'bench-value' }),
  });
  if (!put.ok) throw new Error(`set_secret failed: ${await put.text()}`);
  const health = await load(`${daemon.url}/healthz`, undefined);
  const whoami = await load(`${daemon.url}/api/v1/whoami`, daemon.adminToken);
  const secret = await load(`${daemon.url}/api/v1/secret?path=${encodeURIComponent(path)}`, daemon.adminToken);
  const floor = await startFloor();
  let bare;
  try {
    bare = await load(`${floor.url}/row`, undefined);
  } finally {
    await floor.close();
  }
  console.log(`\n[postgres] REST, ${CONNECTIONS} concurrent clients for ${SECONDS} s each`);
  row('GET /api/v1/secret', secret);
  row('GET /api/v1/whoami (no database)', whoami);
  row('GET /healthz', health);
  row('bare fastify + pg SELECT (floor)', bare);
  console.log(`  secret / healthz ${pct(secret.rps, health.rps)}   secret / whoami ${pct(secret.rps, whoami.rps)}   secret / bare floor ${pct(secret.rps, bare.rps)}`);
}
