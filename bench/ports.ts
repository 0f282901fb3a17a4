// Port allocation figures (printed, never asserted): allocate vs a bare INSERT on the same
// pool, sequential and under 32 concurrent callers, and audit_ports against real sockets.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { adminPrincipal } from '../src/core/principal.js';
import { AuditLog } from '../src/core/audit.js';
import { systemClock } from '../src/core/clock.js';
import type { Db } from '../src/core/db.js';
import { LINUX_DEFAULT_EPHEMERAL } from '../src/ports/policy.js';
import { PortService } from '../src/ports/service.js';
import type { ProjectService } from '../src/projects/service.js';
import { openTestDb, type Backend } from '../test/helpers/db.js';
import { addProject, projectsFor } from '../test/helpers/projects.js';
import { onEachBackend } from './backends.js';
import { fmt, measurePair, printComparison } from './stats.js';

const SEQUENTIAL = 2000;
const CALLERS = 32;
const CONCURRENT = 3000;
/** Calls into one project: most of a 1000-port range (the seed's size), so every call walks a dense range. */
const ONE_PROJECT = 900;
/** Chunks per concurrent workload, interleaved (see interleavedRates). */
const ROUNDS = 3;
const AUDIT_ALLOCATIONS = 1000;
const AUDIT_LISTENERS = 200;
const AUDIT_RUNS = 10;

const admin = adminPrincipal('bench');

/** The baseline: what one row in a table shaped like port_allocations costs, with the port given. */
const BARE_TABLE = `CREATE TABLE bench_bare (
  id bigserial PRIMARY KEY, project text NOT NULL, service text NOT NULL, host text NOT NULL DEFAULT 'local',
  port integer NOT NULL, protocol text NOT NULL DEFAULT 'tcp', created_at timestamptz NOT NULL,
  UNIQUE (project, service, host), UNIQUE (host, port, protocol))`;

function counter(prefix: string): () => string {
  let n = 0;
  return () => `${prefix}-${n++}`;
}

/** Projects of one default block each (100 ports, the usual size), from `start`. */
/** The ports service and the projects registry that gives projects their ranges. */
interface Registry {
  ports: PortService;
  projects: ProjectService;
}

async function addBlocks(reg: Registry, prefix: string, count: number, start: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${prefix}-${i}`;
    await addProject(reg, admin.actor, { name, range: { start: start + i * 100, end: start + i * 100 + 99 } });
    names.push(name);
  }
  return names;
}

/** `total` calls from `callers` concurrent loops; the wall time in ms. */
async function timed(total: number, callers: number, call: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: callers }, async () => {
    while (next < total) await call(next++);
  }));
  return performance.now() - started;
}

/** Allocation statements sent and the requests they carried (PortService.allocationBatches). */
interface Batches {
  batches: number;
  requests: number;
}

/**
 * Calls per second of each workload, run in ROUNDS chunks taken in turn (as measurePair
 * does for sequential calls), so load that drifts during the run (other processes on a
 * 2-core machine) hits every workload alike. A workload's calls keep their numbering across
 * its chunks. Also the allocation batches each workload sent.
 */
async function interleavedRates(callers: number, batchStats: () => Batches, workloads: Array<{ total: number; call: (i: number) => Promise<unknown> }>): Promise<Array<{ rate: number; sent: Batches }>> {
  const elapsed = workloads.map(() => 0);
  const sent = workloads.map(() => ({ batches: 0, requests: 0 }));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [w, { total, call }] of workloads.entries()) {
      const from = Math.floor((total * round) / ROUNDS);
      const to = Math.floor((total * (round + 1)) / ROUNDS);
      const before = batchStats();
      elapsed[w]! += await timed(to - from, callers, (i) => call(from + i));
      const after = batchStats();
      sent[w]!.batches += after.batches - before.batches;
      sent[w]!.requests += after.requests - before.requests;
    }
  }
  return workloads.map(({ total }, w) => ({ rate: (total / elapsed[w]!) * 1000, sent: sent[w]! }));
}

async function duplicates(db: Db): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT (count(*) - count(DISTINCT (host, port)))::int AS n FROM port_allocations');
  return rows[0]!.n;
}

async function benchAllocation(db: Db, reg: Registry, backend: Backend): Promise<void> {
  const { ports } = reg;
  await db.query(BARE_TABLE);
  const bareKey = counter('bare');
  let barePort = 1;
  const bareInsert = () => db.query('INSERT INTO bench_bare (project, service, port, created_at) VALUES ($1, $2, $3, $4)', ['bench', bareKey(), barePort++, new Date()]);

  // Sequential: round-robin over 40 default-size projects, so each ends about half full.
  const seqProjects = await addBlocks(reg, 'seq', 40, 10000);
  const seqKey = counter('svc');
  let turn = 0;
  const allocate = () => ports.allocate(admin, { project: seqProjects[turn++ % seqProjects.length]!, service: seqKey() });
  const [alloc, bare] = await measurePair(SEQUENTIAL, allocate, bareInsert);
  console.log(`\n[${backend}] port allocation, ${SEQUENTIAL} sequential calls (40 projects of 100 ports)`);
  printComparison('allocate_port (service)', alloc, bare, 'bare INSERT (same pool)');
  console.log(`  ratio (ops/s allocate / bare)`.padEnd(36) + `${((alloc.opsPerSec / bare.opsPerSec) * 100).toFixed(0)}%`);

  // Concurrent: once with every caller in one 1000-port project, once spread over 32 default-size projects.
  const one = (await addProject(reg, admin.actor, { name: 'conc-one', range: { start: 16000, end: 16999 } })).project;
  const spread = await addBlocks(reg, 'conc', 32, 20000);
  const oneKey = counter('one');
  const spreadKey = counter('spread');
  console.log(`\n[${backend}] ${CALLERS} concurrent callers (${ONE_PROJECT} calls into one project, ${CONCURRENT} otherwise; ${ROUNDS} interleaved rounds after a warm-up)`);
  // Not measured: every pool connection opens, prepares both statements and compiles
  // port_allocate once, as in a daemon that has been running for a while.
  const warm = (await addProject(reg, admin.actor, { name: 'conc-warm', range: { start: 17000, end: 17999 } })).project;
  await timed(4 * CALLERS, CALLERS, () => bareInsert());
  await timed(4 * CALLERS, CALLERS, (i) => ports.allocate(admin, { project: warm, service: `warm-${i}` }));
  const [baseline, oneRun, spreadRun] = await interleavedRates(CALLERS, () => ports.allocationBatches(), [
    { total: CONCURRENT, call: () => bareInsert() },
    { total: ONE_PROJECT, call: () => ports.allocate(admin, { project: one, service: oneKey() }) },
    { total: CONCURRENT, call: (i) => ports.allocate(admin, { project: spread[i % spread.length]!, service: spreadKey() }) },
  ]);
  // Allocations go out in batches (group commit, see AllocationStore.allocate): the average batch size follows each rate.
  const line = (label: string, { rate, sent }: { rate: number; sent: Batches }) => console.log(
    `  ${label.padEnd(34)} ${rate.toFixed(0).padStart(6)} ops/s  ${((rate / baseline!.rate) * 100).toFixed(0).padStart(4)}% of bare` +
      (sent.batches > 0 ? `  (${sent.batches} batches, ${(sent.requests / sent.batches).toFixed(1)} calls each)` : ''),
  );
  line('allocate_port, one 1000-port project', oneRun!);
  line('allocate_port, 32 projects', spreadRun!);
  line('bare INSERT (same pool)', baseline!);
  console.log(`  duplicate ports                    ${await duplicates(db)}`);
}

function listen(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** audit_ports with 1,000 allocations and 200 real listeners: 150 on allocated ports, 50 unknown. */
async function benchAudit(reg: Registry, backend: Backend): Promise<void> {
  const { ports } = reg;
  const projects = await addBlocks(reg, 'audit', 20, 24000);
  for (let i = 0; i < AUDIT_ALLOCATIONS; i++) {
    await ports.allocate(admin, { project: projects[i % projects.length]!, service: `svc-${i}` });
  }
  // Allocations fill each block from its start (50 per block), so the block's upper half is unallocated.
  const targets = [
    ...Array.from({ length: 150 }, (_, i) => 24000 + (i % 20) * 100 + Math.floor(i / 20)),
    ...Array.from({ length: 50 }, (_, i) => 24000 + (i % 20) * 100 + 60 + Math.floor(i / 20)),
  ];
  const servers: net.Server[] = [];
  try {
    for (const port of targets) servers.push(await listen(port));
    const times: number[] = [];
    let counts = {};
    for (let run = 0; run < AUDIT_RUNS; run++) {
      const started = performance.now();
      counts = (await ports.audit(admin, { limit: 1000 })).counts;
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    console.log(`\n[${backend}] audit_ports, ${AUDIT_ALLOCATIONS} allocations and ${AUDIT_LISTENERS} listeners, ${AUDIT_RUNS} runs`);
    console.log(`  p50 ${fmt(times[Math.floor(times.length / 2)]!)}  max ${fmt(times.at(-1)!)}  groups ${JSON.stringify(counts)}`);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

async function withPorts(backend: Backend, run: (db: Db, reg: Registry) => Promise<void>): Promise<void> {
  const db = await openTestDb(backend);
  const audit = new AuditLog(db, systemClock);
  const ports = new PortService({ db, clock: systemClock, audit, ephemeralRange: async () => LINUX_DEFAULT_EPHEMERAL });
  try {
    await run(db, { ports, projects: await projectsFor({ db, clock: systemClock, audit }, ports) });
  } finally {
    await db.close();
  }
}

/** Allocation throughput against a bare INSERT, and audit time, on each backend (each on a fresh database). */
export async function benchPorts(): Promise<void> {
  await onEachBackend(async (backend) => {
    await withPorts(backend, (db, reg) => benchAllocation(db, reg, backend));
    await withPorts(backend, (_db, reg) => benchAudit(reg, backend));
  });
}
