// Cloudflare plan + apply figures (printed, never asserted): 500 tunnel routes (port allocations
// with hostnames) and 1,000 DNS records of ours over two zones, example.com and dev.example.com
// (one a suffix of the other), with 5% changed per round. Against the fake API in
// test/fakes/cloudflare, so the figures are API calls and local wall time, not Cloudflare's latency.
//
// The fake keeps its default rate limit (1,200 requests per 5 minutes per token, as documented):
// setup takes about 15 calls and each configuration's rounds well under 200, so the limit is
// never near; any 429 or client retry wait would show in the "retries" line.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { adminPrincipal } from '../src/core/principal.js';
import { desiredRecord, isOwned, type DesiredRecord } from '../src/cloudflare/records.js';
import type { DnsOutcome } from '../src/cloudflare/dns.js';
import type { SyncOutcome } from '../src/cloudflare/tunnel.js';
import { loadConfig, openApp, type SupervisorApp } from '../src/app.js';
import type { Db } from '../src/core/db.js';
import { createLogger } from '../src/core/log.js';
import { startFakeCloudflare, type CallRecord, type FakeCloudflare, type Zone } from '../test/fakes/cloudflare/index.js';
import { openTestDb, type Backend } from '../test/helpers/db.js';
import { interceptStatements } from '../test/helpers/db-intercept.js';
import { addProject } from '../test/helpers/projects.js';
import { onEachBackend } from './backends.js';

const ROUTES = 500;
const A_RECORDS = 500;
/** 5% of 500 allocations: re-hosted, released and added (9 + 8 + 8). */
const REHOST = 9;
const RELEASE = 8;
const ADD = 8;
/** 5% of 500 A records get a new address. */
const READDRESS = 25;
const ROUNDS = 5;
const PROJECT = 'bench';
const RANGE = { start: 20000, end: 20999 };
const TOKEN = 'cf-bench-token-0123456789abcdefghijklmnopq';
const ACCOUNT = 'acc0000000000000000000000000000b';
const ACTOR = 'bench';

const admin = adminPrincipal(ACTOR);

type Mode = 'local' | 'remote';

interface Setup {
  fake: FakeCloudflare;
  services: SupervisorApp;
  zones: Zone[];
  tunnelId: string;
  /** Client retry waits (backoff or rate budget); 0 expected. */
  waits: number[];
  /** SQL statements run so far, inside transactions or not. */
  queries: { count: number };
  close(): Promise<void>;
}

/** Deterministic picks, so every run changes the same records. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick(random: () => number, size: number, count: number): number[] {
  const chosen = new Set<number>();
  while (chosen.size < count) chosen.add(Math.floor(random() * size));
  return [...chosen];
}

/** Even numbers in example.com, odd ones two levels down in dev.example.com. */
const routeHost = (n: number, tag = '') => (n % 2 === 0 ? `svc${n}${tag}.example.com` : `svc${n}${tag}.api.dev.example.com`);
const addressHost = (i: number) => (i % 2 === 0 ? `host${i}.example.com` : `host${i}.dev.example.com`);
const address = (i: number, generation: number) => `10.${generation}.${i >> 8}.${i & 255}`;

async function open(backend: Backend, mode: Mode): Promise<Setup> {
  const fake = await startFakeCloudflare();
  fake.addToken(TOKEN, ['zone:read', 'dns:edit', 'tunnel:edit']);
  const zones = [fake.addZone('example.com', { accountId: ACCOUNT }), fake.addZone('dev.example.com', { accountId: ACCOUNT })];
  const tunnelId = randomUUID();
  fake.addTunnel(ACCOUNT, tunnelId);
  const dir = await mkdtemp(join(tmpdir(), 'supervisor-bench-cf-'));
  const configPath = join(dir, 'config.yml');
  await writeFile(configPath, `tunnel: ${tunnelId}\ncredentials-file: /etc/cloudflared/${tunnelId}.json\ningress:\n  - service: http_status:404\n`);
  const config = loadConfig({
    SUPERVISOR_HOME: dir,
    SUPERVISOR_CLOUDFLARE_API_URL: fake.url,
    SUPERVISOR_CLOUDFLARE_TUNNEL_MODE: mode,
    SUPERVISOR_CLOUDFLARE_TUNNEL_ID: tunnelId,
    SUPERVISOR_CLOUDFLARED_CONFIG: configPath,
    SUPERVISOR_CLOUDFLARED_RESTART: 'true',
  });
  const waits: number[] = [];
  const queries = { count: 0 };
  const db = counting(await openTestDb(backend), queries);
  const services = await openApp({
    config,
    db,
    log: createLogger('warn'),
    sleep: async (ms) => {
      waits.push(ms);
      await delay(ms);
    },
  });
  await services.secrets.set(admin, { path: 'meta/cloudflare/api_token', value: TOKEN });
  return {
    fake,
    services,
    zones,
    tunnelId,
    waits,
    queries,
    async close() {
      await services.close();
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The database with every statement counted (migrations' `exec` scripts aside). */
const counting = (db: Db, queries: { count: number }): Db =>
  interceptStatements(db, (_sql, _params, run) => {
    queries.count++;
    return run();
  });

interface CallStats {
  gets: number;
  writes: number;
  /** Operations in each batch call. */
  batches: number[];
  /** Writes of one record each (POST/PUT/PATCH/DELETE on dns_records). */
  singles: number;
  /** PUTs of the tunnel configuration. */
  configPuts: number;
  /** Anything else that is not a GET (should be none). */
  otherWrites: number;
  /** SQL statements the step ran (not an API call; the supervisor's own bookkeeping). */
  queries: number;
  /** 429 answers seen (none expected). */
  limited: number;
}

function tally(calls: CallRecord[], queries: number): CallStats {
  const stats: CallStats = { gets: 0, writes: 0, batches: [], singles: 0, configPuts: 0, otherWrites: 0, limited: 0, queries };
  for (const call of calls) {
    if (call.status === 429) stats.limited++;
    if (call.method === 'GET') {
      stats.gets++;
      continue;
    }
    stats.writes++;
    if (call.path.endsWith('/dns_records/batch')) {
      const body = (call.body ?? {}) as Record<string, unknown[] | undefined>;
      stats.batches.push(['deletes', 'patches', 'puts', 'posts'].reduce((n, kind) => n + (body[kind]?.length ?? 0), 0));
    } else if (call.path.includes('/dns_records')) stats.singles++;
    else if (call.method === 'PUT' && call.path.endsWith('/configurations')) stats.configPuts++;
    else stats.otherWrites++;
  }
  return stats;
}

interface Sample {
  ms: number;
  calls: CallStats;
  /** DNS records created, updated, deleted (planned or done). */
  dns: number;
  /** Ingress documents written (0 or 1) and routes added/removed/changed in it. */
  ingress: number;
  routes: number;
}

const dnsChanges = (o: DnsOutcome) => o.plan.create.length + o.plan.update.length + o.plan.delete.length;

function fromSync(ms: number, calls: CallStats, o: SyncOutcome): Sample {
  return { ms, calls, dns: dnsChanges(o.dns), ingress: o.changed ? 1 : 0, routes: o.routes.add.length + o.routes.remove.length + o.routes.change.length };
}

async function timed<T>(s: Setup, fn: () => Promise<T>): Promise<{ ms: number; calls: CallStats; result: T }> {
  s.fake.resetCalls();
  const queries = s.queries.count;
  const started = performance.now();
  const result = await fn();
  const ms = performance.now() - started;
  return { ms, calls: tally([...s.fake.calls], s.queries.count - queries), result };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** 500 allocations with hostnames, 500 A records of ours, one sync: 1,000 records in the zones. */
async function populate(s: Setup): Promise<{ live: Array<{ service: string; n: number }>; addresses: DesiredRecord[]; setupMs: number; setupCalls: number }> {
  const started = performance.now();
  const { ports, cloudflare } = s.services;
  await addProject(s.services, ACTOR, { name: PROJECT, range: RANGE });
  const live: Array<{ service: string; n: number }> = [];
  for (let n = 0; n < ROUTES; n++) {
    await ports.allocate(admin, { project: PROJECT, service: `s${n}`, hostname: routeHost(n) });
    live.push({ service: `s${n}`, n });
  }
  s.fake.resetCalls();
  const addresses = Array.from({ length: A_RECORDS }, (_, i) => desiredRecord({ type: 'A', name: addressHost(i), content: address(i, 0), proxied: false, ttl: 300 }));
  await cloudflare.changeRecords(ACTOR, 'bench_setup', { upserts: addresses, deletes: [], force: false, dryRun: false });
  await cloudflare.sync(ACTOR, { dryRun: false, force: false, dns: true });
  return { live, addresses, setupMs: performance.now() - started, setupCalls: s.fake.calls.length };
}

const LABELS = {
  planSync: 'plan  sync_tunnel (dryRun)',
  planA: 'plan  A records (dryRun)',
  applySync: 'apply sync_tunnel',
  applyA: 'apply A records (dns.apply)',
  applyTotal: 'apply total',
  idleSync: 'again sync_tunnel, no change',
  idleA: 'again A records, no change',
  gc: 'cloudflare_gc --apply',
} as const;
type Label = (typeof LABELS)[keyof typeof LABELS];

function add(a: Sample, b: Sample): Sample {
  const calls: CallStats = {
    gets: a.calls.gets + b.calls.gets,
    writes: a.calls.writes + b.calls.writes,
    batches: [...a.calls.batches, ...b.calls.batches],
    singles: a.calls.singles + b.calls.singles,
    configPuts: a.calls.configPuts + b.calls.configPuts,
    otherWrites: a.calls.otherWrites + b.calls.otherWrites,
    limited: a.calls.limited + b.calls.limited,
    queries: a.calls.queries + b.calls.queries,
  };
  return { ms: a.ms + b.ms, calls, dns: a.dns + b.dns, ingress: a.ingress + b.ingress, routes: a.routes + b.routes };
}

async function runConfiguration(backend: Backend, mode: Mode): Promise<void> {
  const s = await open(backend, mode);
  try {
    const { cloudflare, ports } = s.services;
    const { live, addresses, setupMs, setupCalls } = await populate(s);
    const random = prng(5);
    let nextService = ROUTES;
    const samples = new Map<Label, Sample[]>();
    const keep = (label: Label, sample: Sample) => samples.set(label, [...(samples.get(label) ?? []), sample]);
    const syncOf = (dryRun: boolean) => cloudflare.sync(ACTOR, { dryRun, force: false, dns: true });
    const applyA = (dryRun: boolean) => cloudflare.changeRecords(ACTOR, 'bench_addresses', { upserts: addresses, deletes: [], force: false, dryRun });
    let orphans = 0;

    for (let round = 1; round <= ROUNDS; round++) {
      // 5% of the allocations: re-hosted, released, added (in the port registry only; Cloudflare follows on sync).
      const chosen = pick(random, live.length, REHOST + RELEASE);
      for (const index of chosen.slice(0, REHOST)) {
        const a = live[index]!;
        await ports.allocate(admin, { project: PROJECT, service: a.service, hostname: routeHost(a.n, `-r${round}`) });
      }
      const released = new Set(chosen.slice(REHOST));
      for (const index of released) await ports.release(admin, { project: PROJECT, service: live[index]!.service });
      const kept = live.filter((_, i) => !released.has(i));
      live.length = 0;
      live.push(...kept);
      for (let k = 0; k < ADD; k++) {
        const n = nextService++;
        await ports.allocate(admin, { project: PROJECT, service: `s${n}`, hostname: routeHost(n) });
        live.push({ service: `s${n}`, n });
      }
      // 5% of the A records get a new address; the caller sends its whole wanted set.
      for (const i of pick(random, addresses.length, READDRESS)) {
        addresses[i] = desiredRecord({ type: 'A', name: addressHost(i), content: address(i, round), proxied: false, ttl: 300 });
      }

      const planSync = await timed(s, () => syncOf(true));
      keep(LABELS.planSync, fromSync(planSync.ms, planSync.calls, planSync.result));
      const planA = await timed(s, () => applyA(true));
      keep(LABELS.planA, { ms: planA.ms, calls: planA.calls, dns: dnsChanges(planA.result), ingress: 0, routes: 0 });

      const doSync = await timed(s, () => syncOf(false));
      const syncSample = fromSync(doSync.ms, doSync.calls, doSync.result);
      keep(LABELS.applySync, syncSample);
      const doA = await timed(s, () => applyA(false));
      const aSample: Sample = { ms: doA.ms, calls: doA.calls, dns: dnsChanges(doA.result), ingress: 0, routes: 0 };
      keep(LABELS.applyA, aSample);
      keep(LABELS.applyTotal, add(syncSample, aSample));

      const idleSync = await timed(s, () => syncOf(false));
      keep(LABELS.idleSync, fromSync(idleSync.ms, idleSync.calls, idleSync.result));
      const idleA = await timed(s, () => applyA(false));
      keep(LABELS.idleA, { ms: idleA.ms, calls: idleA.calls, dns: dnsChanges(idleA.result), ingress: 0, routes: 0 });

      // Re-hosted and released allocations leave their old CNAMEs behind: sync creates, gc deletes.
      const gc = await timed(s, () => cloudflare.gc(ACTOR, { apply: true }));
      orphans += gc.result.orphans.length;
      keep(LABELS.gc, { ms: gc.ms, calls: gc.calls, dns: gc.result.dns ? dnsChanges(gc.result.dns) : 0, ingress: 0, routes: 0 });
    }

    console.log(`\n[${backend}, ${mode === 'local' ? 'local config.yml, restart `true`' : 'remote-managed, PUT configurations'}] ${ROUTES} routes, ${ROUTES + A_RECORDS} records of ours in 2 zones; ${ROUNDS} rounds, medians`);
    console.log(`  setup (not timed below): ${(setupMs / 1000).toFixed(1)} s, ${setupCalls} API calls for 500 A records + first sync of 500 routes/CNAMEs`);
    console.log(`  change per round: ${REHOST} allocations re-hosted, ${RELEASE} released, ${ADD} added; ${READDRESS} A records re-addressed`);
    console.log(
      `  ${'step'.padEnd(30)} ${'wall'.padStart(9)} ${'GET'.padStart(4)} ${'write'.padStart(6)} ${'batch'.padStart(6)} ${'1-rec'.padStart(6)} ${'PUT cfg'.padStart(8)} ${'SQL'.padStart(5)}   ${'DNS chg'.padStart(7)} ${'ingress'.padStart(8)}  writes/changes`,
    );
    for (const label of Object.values(LABELS)) {
      const list = samples.get(label) ?? [];
      const m = (f: (x: Sample) => number) => median(list.map(f));
      const writes = m((x) => x.calls.writes);
      const changes = m((x) => x.dns + x.ingress);
      const planOnly = label.startsWith('plan');
      const ratio = planOnly ? '(plan)' : changes === 0 ? (writes === 0 ? '0 / 0' : `${writes} / 0 !`) : `${writes} / ${changes} = ${(writes / changes).toFixed(2)}`;
      const ingress = m((x) => x.ingress) ? `1 (${m((x) => x.routes)} rt)` : '0';
      console.log(
        `  ${label.padEnd(30)} ${`${m((x) => x.ms).toFixed(1)} ms`.padStart(9)} ${String(m((x) => x.calls.gets)).padStart(4)} ${String(writes).padStart(6)} ${String(m((x) => x.calls.batches.length)).padStart(6)} ${String(m((x) => x.calls.singles)).padStart(6)} ${String(m((x) => x.calls.configPuts)).padStart(8)} ${String(m((x) => x.calls.queries)).padStart(5)}   ${String(m((x) => x.dns)).padStart(7)} ${ingress.padStart(8)}  ${ratio}`,
      );
    }
    const sizes = (label: Label) => (samples.get(label) ?? []).map((x) => `[${x.calls.batches.join(',')}]`).join(' ');
    console.log(`  batch sizes per round   sync: ${sizes(LABELS.applySync)}   A: ${sizes(LABELS.applyA)}   gc: ${sizes(LABELS.gc)}`);

    const all = [...samples.values()].flat();
    const limited = all.reduce((n, x) => n + x.calls.limited, 0);
    const other = all.reduce((n, x) => n + x.calls.otherWrites, 0);
    const records = s.zones.flatMap((z) => s.fake.records(z.id));
    const ours = records.filter((r) => isOwned(r));
    const cnames = ours.filter((r) => r.type === 'CNAME' && r.content === `${s.tunnelId}.cfargotunnel.com`).length;
    console.log(
      `  end state: ${records.length} records in the zones (${ours.length} ours: ${cnames} tunnel CNAMEs, ${ours.length - cnames} A), ${live.length} routes; ` +
        `${orphans} stale CNAMEs removed by gc; 429s ${limited}, client waits ${s.waits.length}, unexpected writes ${other}`,
    );
  } finally {
    await s.close();
  }
}

export async function benchCloudflare(): Promise<void> {
  await onEachBackend(async (backend) => {
    for (const mode of ['local', 'remote'] as const) await runConfiguration(backend, mode);
  });
}
