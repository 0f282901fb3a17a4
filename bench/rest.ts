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

/** REST GET of one secret under 32 concurrent clients, next to /healthz on the same server. */
export async function benchRest(daemon: ChildDaemon): Promise<void> {
  const path = 'project/bench/api_key';
  const put = await fetch(`${daemon.url}/api/v1/secret`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${daemon.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ path, value: 'bench-value' }),
  });
  if (!put.ok) throw new Error(`set_secret failed: ${await put.text()}`);
  const health = await load(`${daemon.url}/healthz`, undefined);
  const secret = await load(`${daemon.url}/api/v1/secret?path=${encodeURIComponent(path)}`, daemon.adminToken);
  console.log(`\n[postgres] REST, ${CONNECTIONS} concurrent clients for ${SECONDS} s each`);
  console.log(`  GET /api/v1/secret      ${secret.rps.toFixed(0).padStart(7)} req/s  p99 ${secret.p99} ms  errors ${secret.errors}`);
  console.log(`  GET /healthz            ${health.rps.toFixed(0).padStart(7)} req/s  p99 ${health.p99} ms  errors ${health.errors}`);
  console.log(`  ratio secret/healthz    ${((secret.rps / health.rps) * 100).toFixed(0)}%`);
}
