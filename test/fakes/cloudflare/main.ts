// Demo mode: a seeded fake Cloudflare. `seedDemo` is also what `npm run demo` (scripts/demo.ts) seeds.
// Usage: node --import tsx test/fakes/cloudflare/main.ts [port]   (or PORT=…; default 8787)
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startFakeCloudflare, type FakeCloudflare, type Permission, type Zone } from './index.js';

const ALL_PERMISSIONS: Permission[] = ['zone:read', 'dns:read', 'dns:edit', 'tunnel:read', 'tunnel:edit', 'tokens:read'];

/** The demo account: a token with every permission, two zones (one a suffix of the other) and a tunnel. */
export const DEMO = {
  token: 'demo-token',
  accountId: 'demoaccount',
  /** A UUID, as SUPERVISOR_CLOUDFLARE_TUNNEL_ID requires. */
  tunnelId: '6f1c2a9e-0d3b-4c5e-9a7f-2b8d4e6c1a00',
  zones: ['example.com', 'dev.example.com'],
} as const;

/** Seeds `fake` with the demo account; returns the zones it made. */
export function seedDemo(fake: FakeCloudflare): Zone[] {
  fake.addToken(DEMO.token, ALL_PERMISSIONS);
  const zones = DEMO.zones.map((name) => fake.addZone(name, { accountId: DEMO.accountId }));
  fake.addTunnel(DEMO.accountId, DEMO.tunnelId, { ingress: [{ service: 'http_status:404' }] });
  return zones;
}

async function main(): Promise<void> {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`invalid port: ${process.argv[2] ?? process.env.PORT}`);
    process.exit(2);
  }

  const fake = await startFakeCloudflare({ port });
  const zones = seedDemo(fake);

  console.log(fake.url);
  console.error(`token ${DEMO.token}, zones ${zones.map((z) => `${z.name} (${z.id})`).join(', ')}, account ${DEMO.accountId}, tunnel ${DEMO.tunnelId}`);

  const stop = () => void fake.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

// Run only when executed, not when imported for seedDemo.
const entry = process.argv[1];
if (entry && realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))) await main();
