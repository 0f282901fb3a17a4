// `npm run demo`: the Cloudflare and Google Cloud features without either account. Starts the
// fake Cloudflare API (test/fakes/cloudflare), the fake Google Cloud (test/fakes/gcloud: OAuth,
// Compute Engine, Monitoring) and the real daemon on 127.0.0.1 in a fresh temporary data dir,
// routes two port allocations through a tunnel (cloudflared's config.yml in that dir, restart
// command `true`), lets the auto-scaler resize a busy VM, prints what happened and keeps
// running until Ctrl-C; then removes everything.
// Nothing is downloaded and the user's own data dir is never touched.
// Usage: npm run demo [-- --once]   (or DEMO_ONCE=1; --once stops after the summary, for tests)
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { cliByPath } from '../src/core/cli-path.js';
import { adminPrincipal } from '../src/core/principal.js';
import { LocalInvoker } from '../src/catalog/local-invoker.js';
import { loadConfig } from '../src/app.js';
import { startDaemon, type RunningDaemon } from '../src/daemon.js';
import { startFakeCloudflare, type FakeCloudflare } from '../test/fakes/cloudflare/index.js';
import { DEMO, seedDemo } from '../test/fakes/cloudflare/main.js';
import { startFakeGoogle, type FakeGoogle } from '../test/fakes/gcloud/index.js';

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
let google: FakeGoogle | undefined;
let daemon: RunningDaemon | undefined;
let home: string | undefined;
let stopping: Promise<void> | undefined;

/** Closes the daemon and the fake and removes the temp dir; safe to call more than once. */
function stop(): Promise<void> {
  stopping ??= (async () => {
    await daemon?.close().catch((err: unknown) => console.error(`closing the daemon: ${String(err)}`));
    await fake?.close().catch((err: unknown) => console.error(`closing the fake Cloudflare: ${String(err)}`));
    await google?.close().catch((err: unknown) => console.error(`closing the fake Google Cloud: ${String(err)}`));
    if (home) await rm(home, { recursive: true, force: true });
  })();
  return stopping;
}

async function main(): Promise<void> {
  // 1. The fake Cloudflare API, seeded with the demo account.
  fake = await startFakeCloudflare();
  const zones = seedDemo(fake);
  google = await startFakeGoogle();

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
      SUPERVISOR_GCLOUD_COMPUTE_URL: google?.computeRootUrl,
      SUPERVISOR_GCLOUD_MONITORING_URL: google?.monitoringUrl,
      SUPERVISOR_GCLOUD_POLL_MS: '50',
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

  // 5. Google Cloud: an account, a VM that has been busy for two hours, a policy that acts,
  //    and one run of the auto-scaler.
  const scaled = await autoscaleDemo(invoker, google);

  const lines = [
    '',
    'Supervisor demo: the real daemon against a fake Cloudflare API and a fake Google Cloud, all on 127.0.0.1.',
    '',
    `  Daemon:           ${daemon.url}  (dashboard at /, REST under /api/v1, MCP under /mcp/<project>)`,
    `  Admin token:      ${adminToken}`,
    `  Data dir:         ${home}  (temporary, removed on exit)`,
    `  Fake Cloudflare:  ${fake.url}  (token ${DEMO.token}, zones ${DEMO.zones.join(', ')})`,
    `  Tunnel:           ${sync.tunnelId}  (CNAME target ${sync.tunnelId}.cfargotunnel.com)`,
    `  Fake Google:      ${google.computeRootUrl}  (account ${GCLOUD.account}, VM ${GCLOUD.vm} in ${GCLOUD.zone})`,
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
    ...scaled,
    '',
    'Try it from another shell (SUPERVISOR_HOME makes the CLI find this daemon):',
    `  export SUPERVISOR_HOME=${home}`,
    // The command package.json installs (npm link), as the README names it.
    `  alias supervisor='${cliByPath()}'`,
    '  supervisor tunnel sync --plan',
    `  supervisor tunnel add docs.demo.example.com --port ${nextPort}`,
    '  supervisor dns list',
    '  supervisor cloudflare changes',
    `  supervisor vm health ${GCLOUD.account} ${GCLOUD.zone} ${GCLOUD.vm}`,
    '  supervisor autoscale history',
    '',
    once ? '--once: stopping now and removing the data dir.' : 'Press Ctrl-C to stop; the data dir is removed then.',
  ];
  console.log(lines.join('\n'));
}

const GCLOUD = { account: 'vm-host', projectId: 'vm-host-demo', zone: 'us-central1-a', vm: 'supervisor-vm' };

/** The auto-scaler resizing a VM whose CPU has been at 88 % for two hours; answers the lines to print. */
async function autoscaleDemo(invoker: LocalInvoker, fakeGoogle: FakeGoogle): Promise<string[]> {
  const { key } = fakeGoogle.addServiceAccount({ projectId: GCLOUD.projectId, email: `supervisor-meta@${GCLOUD.projectId}.iam.gserviceaccount.com` });
  fakeGoogle.addInstance(GCLOUD.projectId, GCLOUD.zone, { name: GCLOUD.vm, machineType: 'e2-medium', diskSizeGb: 20, lastStartTimestamp: new Date(Date.now() - 6 * 3_600_000).toISOString() });
  fakeGoogle.setLoad(GCLOUD.projectId, GCLOUD.vm, { cpu: (at) => 0.84 + 0.06 * Math.sin(at.getTime() / 600_000), memory: 62, disk: 41 });
  const vm = { project: GCLOUD.account, zone: GCLOUD.zone, instanceName: GCLOUD.vm };
  await invoker.invoke('gcloud_add_account', { account: GCLOUD.account, key: JSON.stringify(key) });
  await invoker.invoke('add_project', { project: 'consilio', description: 'a project served by the VM' });
  await invoker.invoke('gcloud_attach_vm', { ...vm, attachTo: 'consilio' });
  const health = (await invoker.invoke('gcloud_vm_health', vm)) as { cpu: { average: number; max: number; samples: number }; memory: { average: number } };
  const before = (await invoker.invoke('gcloud_cost', { project: GCLOUD.account })) as { monthlyUsd: number; priceVersion: string };
  await invoker.invoke('gcloud_set_autoscale_policy', { ...vm, mode: 'act' });
  const steps: string[] = [];
  const run = (await invoker.invoke('gcloud_autoscale_run', { project: GCLOUD.account }, { onProgress: (p) => steps.push(p.message) })) as {
    items: Array<{ instanceName: string; action: string; target: string | null; machineType: string | null; reason: string; outcome: string }>;
  };
  const after = (await invoker.invoke('gcloud_cost', { project: GCLOUD.account })) as { monthlyUsd: number };
  const now = (await invoker.invoke('gcloud_get_vm', vm)) as { machineType: string; status: string; attachedTo: string | null };
  const decision = run.items[0]!;
  return [
    '',
    `Google Cloud (fake): account ${GCLOUD.account} (project ${GCLOUD.projectId}), VM ${GCLOUD.vm} in ${GCLOUD.zone}, serving project ${now.attachedTo}.`,
    `  gcloud_vm_health, last 120 min: CPU avg ${health.cpu.average}% / max ${health.cpu.max}% (${health.cpu.samples} samples), memory avg ${health.memory.average}%`,
    `  gcloud_autoscale_run (policy: act, ladder e2-small → e2-medium → e2-standard-2 → e2-standard-4):`,
    `    decision: ${decision.action} ${decision.machineType} → ${decision.target}, ${decision.outcome}`,
    `    reason:   ${decision.reason}`,
    ...steps.filter((s) => / DONE/.test(s)).map((s) => `    step:     ${s}`),
    `  The VM is now ${now.status} on ${now.machineType}; estimated monthly cost $${before.monthlyUsd} → $${after.monthlyUsd} (prices ${before.priceVersion}).`,
  ];
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
