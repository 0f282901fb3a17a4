// Demo mode: a seeded fake Cloudflare on a fixed port.
// Usage: node --import tsx test/fakes/cloudflare/main.ts [port]   (or PORT=…; default 8787)
import { startFakeCloudflare, type Permission } from './index.js';

const ALL_PERMISSIONS: Permission[] = ['zone:read', 'dns:read', 'dns:edit', 'tunnel:read', 'tunnel:edit', 'tokens:read'];

const port = Number(process.argv[2] ?? process.env.PORT ?? 8787);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid port: ${process.argv[2] ?? process.env.PORT}`);
  process.exit(2);
}

const fake = await startFakeCloudflare({ port });
fake.addToken('demo-token', ALL_PERMISSIONS);
const zone = fake.addZone('example.com', { accountId: 'demo-account' });
fake.addTunnel('demo-account', 'demo-tunnel', { ingress: [{ service: 'http_status:404' }] });

console.log(fake.url);
console.error(`token demo-token, zone example.com (${zone.id}), account demo-account, tunnel demo-tunnel`);

const stop = () => void fake.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
