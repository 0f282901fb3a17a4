// `npm run demo`: the Cloudflare feature without a Cloudflare account. Starts the fake Cloudflare
// API (test/fakes/cloudflare) and the real daemon on 127.0.0.1 in a fresh temporary data dir,
// routes two port allocations through a tunnel (cloudflared's config.yml in that dir, restart
// command `true`), prints what happened and keeps running until Ctrl-C; then removes everything.
// Nothing is downloaded and the user's own data dir is never touched.
// Usage: npm run demo [-- --once]   (or DEMO_ONCE=1; --once stops after the summary, for tests)
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { adminPrincipal } from '../src/core/principal.js';
import { LocalInvoker } from '../src/catalog/local-invoker.js';
import { loadConfig } from '../src/app.js';
import { startDaemon, type RunningDaemon } from '../src/daemon.js';
import { startFakeCloudflare, type FakeCloudflare } from '../test/fakes/cloudflare/index.js';
import { DEMO, seedDemo } from '../test/fakes/cloudflare/main.js';

const HOST = '127.0.0.1';
const DEFAULT_PORT = 3000;
const PROJECT = 'demo';
const SERVICES = [
  { service: 'api', hostname: 'api.demo.example.com' },
  { service: 'web', hostname: 'web.demo.example.com' },
];
/** A rule written by hand: every sync keeps it. */
const HAND_WRITTEN = { hostname: 'legacy.example.com', service: 'http://localhost:8080' };

const once = process.argv.slice(2).includes('--once') || process.env.DEMO_ONCE === '1';
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

interface IngressRule {
  hostname?: string;
  path?: string;
  service: string;
}

interface SyncAnswer {
  tunnelId: string;
  where: string;
  written: boolean;
  restarted: boolean;
  routes: { add: Array<{ hostname: string; service: string }>; kept: number };
  warnings: string[];
}

/** True when nothing listens on HOST:port now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, HOST, () => probe.close(() => resolve(true)));
  });
}

const isAddressInUse = (err: unknown) => (err as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';

let fake: FakeCloudflare | undefined;
let daemon: RunningDaemon | undefined;
let home: string | undefined;
let stopping: Promise<void> | undefined;

/** Closes the daemon and the fake and removes the temp dir; safe to call more than once. */
function stop(): Promise<void> {
  stopping ??= (async () => {
    await daemon?.close().catch((err: unknown) => console.error(`closing the daemon: ${String(err)}`));
    await fake?.close().catch((err: unknown) => console.error(`closing the fake Cloudflare: ${String(err)}`));
    if (home) await rm(home, { recursive: true, force: true });
  })();
  return stopping;
}

async function main(): Promise<void> {
  // 1. The fake Cloudflare API, seeded with the demo account.
  fake = await startFakeCloudflare();
  const zones = seedDemo(fake);

  // 2. A fresh data dir (never SUPERVISOR_HOME: the user's data stays untouched) and a
  //    cloudflared config.yml with a hand-written rule.
  home = await mkdtemp(join(tmpdir(), 'supervisor-demo-'));
  const cloudflaredConfig = join(home, 'cloudflared', 'config.yml');
  await mkdir(dirname(cloudflaredConfig));
  await writeFile(
    cloudflaredConfig,
    [
      '# cloudflared configuration (demo: no cloudflared runs). The supervisor rewrites only the',
      '# ingress rules it made; everything else in this file is kept as written.',
      `tunnel: ${DEMO.tunnelId}`,
      `credentials-file: /etc/cloudflared/${DEMO.tunnelId}.json`,
      'ingress:',
      '  # written by hand',
      `  - hostname: ${HAND_WRITTEN.hostname}`,
      `    service: ${HAND_WRITTEN.service}`,
      '  - service: http_status:404',
      '',
    ].join('\n'),
  );

  // 3. The real daemon, configured only through these settings (no inherited DATABASE_URL,
  //    SUPERVISOR_CONFIG, … that could point it at the user's own data).
  const wanted = Number(process.env.SUPERVISOR_PORT ?? DEFAULT_PORT);
  const port = wanted !== 0 && !(await portFree(wanted)) ? 0 : wanted;
  const settings = (p: number) =>
    loadConfig({
      SUPERVISOR_HOME: home,
      SUPERVISOR_HOST: HOST,
      SUPERVISOR_PORT: String(p),
      SUPERVISOR_LOG_LEVEL: process.env.SUPERVISOR_LOG_LEVEL ?? 'warn',
      SUPERVISOR_CLOUDFLARE_API_URL: fake?.url,
      SUPERVISOR_CLOUDFLARED_CONFIG: cloudflaredConfig,
      SUPERVISOR_CLOUDFLARED_RESTART: 'true',
      SUPERVISOR_CLOUDFLARE_TUNNEL_ID: DEMO.tunnelId,
    });
  try {
    daemon = await startDaemon(settings(port));
  } catch (err) {
    // Taken between the probe and the bind: any free port will do.
    if (port === 0 || !isAddressInUse(err)) throw err;
    daemon = await startDaemon(settings(0));
  }
  const services = daemon.services;
  const adminToken = daemon.initialAdminToken ?? (await services.auth.tokens.create({ name: 'demo-admin', project: null })).token;
  const invoker = new LocalInvoker(services, adminPrincipal('demo'), 'internal');

  await invoker.invoke('set_secret', { path: 'meta/cloudflare/api_token', value: DEMO.token, description: 'the fake Cloudflare API token (demo)' });
  await invoker.invoke('add_project', { project: PROJECT, description: 'the demo project' });
  const allocated: Array<{ service: string; hostname: string; port: number }> = [];
  for (const s of SERVICES) {
    const answer = (await invoker.invoke('allocate_port', { project: PROJECT, service: s.service, hostname: s.hostname })) as { port: number };
    allocated.push({ ...s, port: answer.port });
  }

  // 4. One sync: the routes go into config.yml, the proxied CNAMEs into the fake's zone.
  const sync = (await invoker.invoke('sync_tunnel', {})) as unknown as SyncAnswer;
  const doc = parseYaml(await readFile(cloudflaredConfig, 'utf8')) as { ingress?: IngressRule[] };
  const records = zones.flatMap((z) => fake?.records(z.id) ?? []);
  const nextPort = Math.max(...allocated.map((a) => a.port)) + 1;

  const cli = join(repoRoot, 'dist', 'cli', 'main.js');
  const lines = [
    '',
    'Supervisor demo: the real daemon against a fake Cloudflare API, all on 127.0.0.1.',
    '',
    `  Daemon:           ${daemon.url}  (dashboard at /, REST under /api/v1, MCP under /mcp/<project>)`,
    `  Admin token:      ${adminToken}`,
    `  Data dir:         ${home}  (temporary, removed on exit)`,
    `  Fake Cloudflare:  ${fake.url}  (token ${DEMO.token}, zones ${DEMO.zones.join(', ')})`,
    `  Tunnel:           ${sync.tunnelId}  (CNAME target ${sync.tunnelId}.cfargotunnel.com)`,
    '',
    `Project ${PROJECT}'s ports with hostnames:`,
    ...allocated.map((a) => `  ${a.service.padEnd(4)} port ${a.port}  ${a.hostname}`),
    '',
    `sync_tunnel wrote ${sync.where} (${sync.routes.add.length} routes added, ${sync.routes.kept} hand-written rule${sync.routes.kept === 1 ? '' : 's'} kept; restart command: true). Its ingress now:`,
    ...(doc.ingress ?? []).map((r) => `  ${(r.hostname ?? '(everything else)').padEnd(24)} → ${r.service}`),
    '',
    `DNS records in the fake Cloudflare (${records.length}):`,
    ...records.map((r) => `  ${r.type.padEnd(5)} ${r.name.padEnd(24)} → ${r.content}  proxied=${r.proxied}  comment="${r.comment ?? ''}"`),
    ...(sync.warnings.length > 0 ? ['', 'Warnings (what real Cloudflare would need; nothing to do for the demo):', ...sync.warnings.map((w) => `  ${w}`)] : []),
    '',
    'Try it from another shell (SUPERVISOR_HOME makes the CLI find this daemon):',
    `  export SUPERVISOR_HOME=${home}`,
    `  alias supervisor='node ${cli}'`,
    '  supervisor tunnel sync --plan',
    `  supervisor tunnel add docs.demo.example.com --port ${nextPort}`,
    '  supervisor dns list',
    '  supervisor cloudflare changes',
    '',
    once ? '--once: stopping now and removing the data dir.' : 'Press Ctrl-C to stop; the data dir is removed then.',
  ];
  console.log(lines.join('\n'));
}

const onSignal = (signal: NodeJS.Signals) => {
  console.log(`\n${signal}: stopping the demo…`);
  void stop().then(() => {
    if (home) console.log(`Removed ${home}.`);
    process.exit(0);
  });
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

try {
  await main();
} catch (err) {
  console.error(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  await stop();
  process.exit(1);
}
if (once) {
  await stop();
  console.log(`Removed ${home}.`);
}
