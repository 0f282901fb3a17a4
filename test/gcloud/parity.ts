// Parity cases of the gcloud domain (see test/parity/harness.ts), against a fake Google the
// parity suite starts with startParityGoogle(). One account, `parity`, holds the VMs; each
// interface changes its own VM (`<case>-via-<interface>`). What Google makes up per VM or per
// operation (ids, IPs, operation names, requestIds, its own timestamps) is scrubbed.
import assert from 'node:assert/strict';
import { setupActor, type Iface, type Json, type ParityCases, type ParityContext } from '../parity/harness.js';
import { startFakeGoogle, type FakeGoogle, type SeedInstance } from '../fakes/gcloud/index.js';

const ACCOUNT = 'parity';
const PROJECT_ID = 'parity-gcp';
const ZONE = 'us-central1-a';
const DAEMON_EPOCH = Date.parse('2026-11-23T10:00:00Z');

let fake: FakeGoogle | undefined;
let ready: Promise<void> | undefined;

/** The fake Google and the daemon settings that point at it; the fake's time follows the test daemon's clock. */
export async function startParityGoogle(): Promise<{ env: Record<string, string>; close(): Promise<void> }> {
  const t0 = Date.now();
  fake = await startFakeGoogle({ now: () => DAEMON_EPOCH + (Date.now() - t0) });
  return {
    env: { SUPERVISOR_GCLOUD_COMPUTE_URL: fake.computeRootUrl, SUPERVISOR_GCLOUD_MONITORING_URL: fake.monitoringUrl, SUPERVISOR_GCLOUD_POLL_MS: '5' },
    close: () => fake!.close(),
  };
}

const google = () => {
  assert.ok(fake, 'startParityGoogle() first');
  return fake;
};

/** The account, its VMs read by several cases, a supervisor project to attach to; once. */
function base(ctx: ParityContext): Promise<void> {
  ready ??= (async () => {
    const g = google();
    const { key } = g.addServiceAccount({ projectId: PROJECT_ID, email: `supervisor@${PROJECT_ID}.iam.gserviceaccount.com` });
    const svc = ctx.daemon.services;
    await svc.gcloud.addAccount(setupActor, { account: ACCOUNT, key: JSON.stringify(key) });
    await svc.projects.add(setupActor.actor, { name: 'gparity' });
    vm('shared-vm', { machineType: 'e2-medium' });
    g.setLoad(PROJECT_ID, 'shared-vm', { cpu: 0.4, memory: 50, disk: 30 });
    await svc.gcloud.setPolicy(setupActor.actor, { project: ACCOUNT, zone: ZONE, instanceName: 'shared-vm', mode: 'recommend' });
    await svc.gcloud.autoscaleRun(setupActor.actor, { project: ACCOUNT, instanceName: 'shared-vm' }, () => undefined);
  })();
  return ready;
}

function vm(name: string, seed: Omit<SeedInstance, 'name'> = {}): string {
  google().addInstance(PROJECT_ID, ZONE, { name, ...seed });
  return name;
}

const ref = (instanceName: string) => ({ project: ACCOUNT, zone: ZONE, instanceName });

const MADE_UP = new Set(['id', 'operation', 'requestId', 'startedAt', 'endedAt', 'createdAt', 'lastStartedAt', 'lastStoppedAt', 'internalIp', 'externalIp', 'keyId']);

/** Google's (and the fake's) per-resource values replaced by their kind, at any depth. */
function scrub(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrub);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, MADE_UP.has(k) && (typeof v === 'string' || typeof v === 'number') ? `<${k}>` : scrub(v)]));
}
const normalise = (o: Json) => scrub(o) as Json;

/** A case whose interfaces each work on their own VM, made by `seed`. */
function ownVm(prefix: string, seed: Omit<SeedInstance, 'name'>, input: (name: string) => Json, setup?: (name: string, ctx: ParityContext) => Promise<void>) {
  return (ctx: ParityContext) => ({
    async input(via: Iface) {
      await base(ctx);
      const name = vm(`${prefix}-via-${via}`, seed);
      await setup?.(name, ctx);
      return input(name);
    },
    normalise,
  });
}

export const gcloudParity: ParityCases = (ctx) => ({
  gcloud_add_account: {
    async input(via) {
      await base(ctx);
      const { key } = google().addServiceAccount({ projectId: `add-via-${via}`, email: `sa@add-via-${via}.iam.gserviceaccount.com` });
      return { account: `add-via-${via}`, key: JSON.stringify(key) };
    },
    normalise,
    check: (outputs) => outputs.forEach((o) => assert.equal(o.created, true)),
  },
  gcloud_list_accounts: { input: async () => (await base(ctx), {}), normalise },
  gcloud_remove_account: {
    async input(via) {
      await base(ctx);
      const { key } = google().addServiceAccount({ projectId: `rm-via-${via}`, email: `sa@rm-via-${via}.iam.gserviceaccount.com` });
      await ctx.daemon.services.gcloud.addAccount(setupActor, { account: `rm-via-${via}`, key: JSON.stringify(key) });
      return { account: `rm-via-${via}`, confirm: true };
    },
    normalise,
  },
  gcloud_list_vms: { input: async () => (await base(ctx), { project: ACCOUNT, zone: ZONE }) },
  gcloud_get_vm: { input: async () => (await base(ctx), ref('shared-vm')) },
  gcloud_start_vm: ownVm('start', { status: 'TERMINATED' }, ref)(ctx),
  gcloud_stop_vm: ownVm('stop', {}, ref)(ctx),
  gcloud_create_vm: {
    input: async (via) => (await base(ctx), { ...ref(`create-via-${via}`), machineType: 'e2-small', labels: { role: 'parity' } }),
    normalise,
  },
  gcloud_delete_vm: ownVm('delete', {}, (name) => ({ ...ref(name), confirm: true }))(ctx),
  gcloud_resize_vm: ownVm('resize', { machineType: 'e2-medium' }, (name) => ({ ...ref(name), newMachineType: 'e2-small' }))(ctx),
  gcloud_vm_health: { input: async () => (await base(ctx), { ...ref('shared-vm'), minutes: 60 }) },
  gcloud_health_history: { input: async () => (await base(ctx), { ...ref('shared-vm'), minutes: 60, points: 6 }) },
  gcloud_set_autoscale_policy: ownVm('policy', { machineType: 'e2-medium' }, (name) => ({ ...ref(name), mode: 'recommend', rules: { upMaxPercent: 90 } }))(ctx),
  gcloud_get_autoscale_policy: { input: async () => (await base(ctx), { project: ACCOUNT, instanceName: 'shared-vm' }) },
  gcloud_remove_autoscale_policy: ownVm('unscale', { machineType: 'e2-medium' }, ref, async (name, c) => {
    await c.daemon.services.gcloud.setPolicy(setupActor.actor, { ...ref(name), mode: 'recommend' });
  })(ctx),
  gcloud_autoscale_run: ownVm('run', { machineType: 'e2-medium' }, (name) => ({ project: ACCOUNT, instanceName: name }), async (name, c) => {
    google().setLoad(PROJECT_ID, name, { cpu: 0.9, memory: 50, disk: 30 });
    await c.daemon.services.gcloud.setPolicy(setupActor.actor, { ...ref(name), mode: 'recommend' });
  })(ctx),
  gcloud_autoscale_history: { input: async () => (await base(ctx), { project: ACCOUNT, instanceName: 'shared-vm' }) },
  gcloud_cost: { input: async () => (await base(ctx), { project: ACCOUNT }) },
  gcloud_attach_vm: ownVm('attach', {}, (name) => ({ ...ref(name), attachTo: 'gparity' }))(ctx),
});
