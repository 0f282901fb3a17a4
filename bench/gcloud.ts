// GCloud figures (printed, never asserted): health of 50 VMs across 2 accounts in one
// gcloud_vm_health call against the fake Google over real HTTP — API requests made and wall
// time — beside the same 50 VMs asked one by one; and what daemon start-up pays for the
// domain: @googleapis/compute is not loaded by a start, only by the first VM call.
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { openDomain, type DomainFixture } from '../test/gcloud/gfixture.js';
import { onEachBackend } from './backends.js';

const VMS_PER_ACCOUNT = 25;
const ROUNDS = 5;
const ZONES = ['us-central1-a', 'us-central1-b', 'europe-west1-b'];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function count(f: DomainFixture): string {
  const by = (service: string) => f.fake.calls.filter((c) => c.service === service).length;
  return `${f.fake.calls.length} requests (compute ${by('compute')}, monitoring ${by('monitoring')}, oauth ${by('oauth')})`;
}

async function benchHealth(backend: 'pglite' | 'postgres'): Promise<void> {
  const f = await openDomain(backend);
  try {
    const names: Array<{ account: string; zone: string; vm: string }> = [];
    for (const [account, projectId] of [['vm-host', 'vm-host-bench'], ['openhorizon', 'openhorizon-bench']] as const) {
      await f.account(account, projectId);
      for (let i = 0; i < VMS_PER_ACCOUNT; i++) {
        const zone = ZONES[i % ZONES.length]!;
        const vm = `vm-${String(i).padStart(2, '0')}`;
        f.fake.addInstance(projectId, zone, { name: vm, machineType: 'e2-standard-2' });
        f.fake.setLoad(projectId, vm, { cpu: (at) => 0.3 + 0.2 * Math.sin(at.getTime() / 900_000 + i), memory: 40 + i, disk: 30 });
        names.push({ account, zone, vm });
      }
    }
    // Warm-up: tokens granted, @googleapis/compute loaded, samples of the window stored.
    await f.call('gcloud_vm_health', {});

    const times: number[] = [];
    let requests = '';
    let vms = 0;
    let stored = 0;
    for (let r = 0; r < ROUNDS; r++) {
      f.fake.resetCalls();
      const start = performance.now();
      const answer = (await f.call('gcloud_vm_health', {})) as { vms: unknown[]; stored: number };
      times.push(performance.now() - start);
      requests = count(f);
      vms = answer.vms.length;
      stored = answer.stored;
    }
    console.log(`  [${backend}] one call, ${vms} VMs in 2 accounts: ${requests}, ${stored} samples stored; median ${median(times).toFixed(0)} ms (min ${Math.min(...times).toFixed(0)} ms) of ${ROUNDS}`);

    f.fake.resetCalls();
    const start = performance.now();
    for (const n of names) await f.call('gcloud_vm_health', { project: n.account, zone: n.zone, instanceName: n.vm });
    console.log(`  [${backend}] the same 50 VMs one call each:   ${count(f)}; ${(performance.now() - start).toFixed(0)} ms`);
  } finally {
    await f.close();
  }
}

const startScript = (withVmCall: boolean) => `
import { createRequire } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
const t0 = performance.now();
const loaded = () => Object.keys(createRequire(import.meta.url).cache).filter((p) => p.includes('node_modules/@googleapis/compute/')).length;
const home = await mkdtemp(join(tmpdir(), 'supervisor-bench-start-'));
const { loadConfig } = await import('./dist/app.js');
const { startDaemon } = await import('./dist/daemon.js');
const imported = performance.now() - t0;
const daemon = await startDaemon(loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_PORT: '0', SUPERVISOR_LOG_LEVEL: 'error' }));
const started = performance.now() - t0;
const atStart = loaded();
let firstCall = 0;
if (${withVmCall}) {
  const t1 = performance.now();
  const { loadComputeApi } = await import('./dist/gcloud/compute-api.js');
  await loadComputeApi('http://127.0.0.1:9/');
  firstCall = performance.now() - t1;
}
await daemon.close();
await rm(home, { recursive: true, force: true });
console.log(JSON.stringify({ imported, started, atStart, afterCall: loaded(), firstCall }));
`;

async function benchStart(): Promise<void> {
  const run = async (withVmCall: boolean) => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', startScript(withVmCall)], { cwd: new URL('..', import.meta.url).pathname, timeout: 120_000 });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as { imported: number; started: number; atStart: number; afterCall: number; firstCall: number };
  };
  const starts: number[] = [];
  const imports: number[] = [];
  let last = await run(true);
  for (let i = 0; i < 3; i++) {
    const r = await run(false);
    starts.push(r.started);
    imports.push(r.imported);
    if (i === 0) last = { ...last, atStart: r.atStart };
  }
  console.log(`  daemon start (built, PGlite, fresh data dir): import of app + daemon median ${median(imports).toFixed(0)} ms, whole start median ${median(starts).toFixed(0)} ms (mostly creating the embedded database) of 3`);
  console.log(`  @googleapis/compute modules loaded by the start: ${last.atStart}`);
  console.log(`  first Compute client (what a VM call adds once): ${last.firstCall.toFixed(0)} ms, ${last.afterCall} modules of @googleapis/compute`);
}

export async function benchGcloud(): Promise<void> {
  await onEachBackend(benchHealth);
  await benchStart();
}
