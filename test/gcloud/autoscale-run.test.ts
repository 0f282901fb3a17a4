// The auto-scaler end to end: policies set through gcloud_set_autoscale_policy, scripted loads
// in the fake Monitoring, gcloud_autoscale_run deciding (and acting through the fake Compute),
// and gcloud_autoscale_history recording every decision with its inputs and reason.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadProfile } from '../fakes/gcloud/index.js';
import { skipReason, testBackends } from '../helpers/db.js';
import { openDomain, type DomainFixture, type Json } from './gfixture.js';
import { assertRejects } from '../helpers/errors.js';

const PROJECT = 'scale-proj';
const ZONE = 'us-central1-a';

interface Evaluation {
  instanceName: string;
  action: string;
  target: string | null;
  rule: string;
  reason: string;
  outcome: string;
  mode: string;
  inputs: Json;
}

const HIGH: LoadProfile = { cpu: 0.9, memory: 60, disk: 40 };
const LOW: LoadProfile = { cpu: 0.05, memory: 10, disk: 15 };
const VMS: Array<{ name: string; machineType: string; load: LoadProfile; mode?: string; started?: string }> = [
  { name: 'busy', machineType: 'e2-medium', load: HIGH },
  // Two minutes at 97 % in a quiet two hours: a spike, not demand.
  { name: 'spiky', machineType: 'e2-medium', load: { cpu: (at) => (at.getUTCMinutes() === 17 ? 0.97 : 0.2), memory: 40, disk: 40 } },
  { name: 'idle', machineType: 'e2-medium', load: LOW },
  { name: 'noagent', machineType: 'e2-medium', load: { cpu: 0.05 } },
  { name: 'advisory', machineType: 'e2-medium', load: HIGH, mode: 'recommend' },
  { name: 'maxed', machineType: 'e2-standard-4', load: HIGH },
  { name: 'paused', machineType: 'e2-medium', load: HIGH, mode: 'off' },
];

for (const backend of testBackends()) {
  describe(`auto-scaler on scripted loads [${backend}]`, { skip: await skipReason(backend) }, () => {
    let f: DomainFixture;
    const typeOf = (name: string) => String(f.fake.instance(PROJECT, ZONE, name)?.machineType).split('/').pop();
    const mutated = () => f.fake.calls.filter((c) => c.service === 'compute' && c.method === 'POST' && !c.path.endsWith('/wait')).map((c) => c.path.split('/').slice(-2).join(' '));
    let first: Map<string, Evaluation>;

    before(async () => {
      f = await openDomain(backend);
      await f.account('scaler', PROJECT);
      const now = f.s.clock.now().getTime();
      const extra: typeof VMS = [
        // Metrics for the last half hour only: a quarter of the window, under the 80 % needed.
        { name: 'fresh', machineType: 'e2-medium', load: { ...HIGH, from: new Date(now - 30 * 60_000) } },
        // Started five minutes ago: its boot load is not demand.
        { name: 'booting', machineType: 'e2-medium', load: HIGH, started: new Date(now - 5 * 60_000).toISOString() },
      ];
      for (const vm of [...VMS, ...extra]) {
        f.fake.addInstance(PROJECT, ZONE, { name: vm.name, machineType: vm.machineType, ...(vm.started ? { lastStartTimestamp: vm.started } : {}) });
        f.fake.setLoad(PROJECT, vm.name, vm.load);
        await f.call('gcloud_set_autoscale_policy', { project: 'scaler', zone: ZONE, instanceName: vm.name, mode: vm.mode ?? 'act' });
      }
      f.fake.resetCalls();
      const { items } = (await f.call('gcloud_autoscale_run', { project: 'scaler' })) as { items: Evaluation[] };
      first = new Map(items.map((e) => [e.instanceName, e]));
    });
    after(() => f.close());

    test('the policy answer shows the seed ladder and every threshold in force', async () => {
      const { items } = (await f.call('gcloud_get_autoscale_policy', { project: 'scaler', instanceName: 'busy' })) as { items: Json[] };
      assert.deepEqual(items[0]!.ladder, ['e2-small', 'e2-medium', 'e2-standard-2', 'e2-standard-4']);
      assert.deepEqual(items[0]!.rules, { windowMinutes: 120, upAveragePercent: 70, upMaxPercent: 85, downAveragePercent: 20, downMaxPercent: 40, minCoverage: 0.8, cooldownMinutes: 60, warmupMinutes: 15 });
    });

    test("rules given replace the stored overrides ({} brings the defaults back); left out, they are kept", async () => {
      // Its mode as before (act): only the rules change here.
      const set = (extra: Json) => f.call('gcloud_set_autoscale_policy', { project: 'scaler', zone: ZONE, instanceName: 'idle', mode: 'act', ...extra });
      const rulesOf = async () => ((await f.call('gcloud_get_autoscale_policy', { project: 'scaler', instanceName: 'idle' })) as { items: Json[] }).items[0]!.rules as Json;
      await set({ rules: { upAveragePercent: 95, upMaxPercent: 97 } });
      await set({ rules: { upMaxPercent: 90 } });
      assert.deepEqual([(await rulesOf()).upAveragePercent, (await rulesOf()).upMaxPercent], [70, 90], 'the new overrides replace the old ones');
      await set({});
      assert.equal((await rulesOf()).upMaxPercent, 90, 'kept when left out');
      await set({ rules: {} });
      assert.deepEqual(await rulesOf(), { windowMinutes: 120, upAveragePercent: 70, upMaxPercent: 85, downAveragePercent: 20, downMaxPercent: 40, minCoverage: 0.8, cooldownMinutes: 60, warmupMinutes: 15 });
    });

    test('sustained high load: one step up, through stop → setMachineType → start', () => {
      const e = first.get('busy')!;
      assert.deepEqual([e.action, e.target, e.rule, e.outcome], ['up', 'e2-standard-2', 'scale_up', 'resized']);
      assert.match(e.reason, /CPU avg 90% \/ max 90% over 120 min is over 70% \/ 85%/);
      assert.equal(typeOf('busy'), 'e2-standard-2');
      assert.deepEqual(mutated().filter((m) => m.startsWith('busy')), ['busy stop', 'busy setMachineType', 'busy start']);
      assert.deepEqual(e.inputs.monthlyUsd, { from: Math.round((0.03351 * 730 + 10 * 0.1) * 100) / 100, to: Math.round((0.06701 * 730 + 10 * 0.1) * 100) / 100 }, 'the cost of the change is recorded');
    });

    test('a spike only (max high, average low): nothing', () => {
      const e = first.get('spiky')!;
      assert.deepEqual([e.action, e.rule, e.outcome], ['none', 'steady', 'nothing']);
      assert.equal(typeOf('spiky'), 'e2-medium');
    });

    test('low on every metric for the window: one step down', () => {
      const e = first.get('idle')!;
      assert.deepEqual([e.action, e.target, e.rule, e.outcome], ['down', 'e2-small', 'scale_down', 'resized']);
      assert.equal(typeOf('idle'), 'e2-small');
    });

    test('memory not reported: no scale-down, and the reason says why', () => {
      const e = first.get('noagent')!;
      assert.deepEqual([e.action, e.rule, e.outcome], ['none', 'memory_unknown', 'nothing']);
      assert.match(e.reason, /memory is not reported \(no Ops Agent\); not scaling down without it/);
      assert.equal((e.inputs.metrics as Json).memory, null);
    });

    test('recommend-only: the decision is recorded and no change is made', () => {
      const e = first.get('advisory')!;
      assert.deepEqual([e.action, e.target, e.outcome, e.mode], ['up', 'e2-standard-2', 'recommended', 'recommend']);
      assert.equal(typeOf('advisory'), 'e2-medium');
      assert.deepEqual(mutated().filter((m) => m.startsWith('advisory')), []);
    });

    test('at the top of the ladder: recorded, nothing done', () => {
      const e = first.get('maxed')!;
      assert.deepEqual([e.action, e.rule, e.outcome], ['none', 'top_of_ladder', 'nothing']);
      assert.equal(typeOf('maxed'), 'e2-standard-4');
    });

    test('too little data in the window, or a VM just started: nothing, with the reason', () => {
      const fresh = first.get('fresh')!;
      assert.deepEqual([fresh.action, fresh.rule], ['none', 'insufficient_data']);
      assert.match(fresh.reason, /^25% of the window over the last 120 min; need 80% before acting$/);
      const booting = first.get('booting')!;
      assert.deepEqual([booting.action, booting.rule], ['none', 'warmup']);
      assert.match(booting.reason, /^started \d+(\.\d)? min ago; waiting 15 min after a start before acting$/);
    });

    test('a policy that is off is not evaluated', () => {
      assert.equal(first.has('paused'), false);
      assert.deepEqual(mutated().filter((m) => !m.startsWith('busy') && !m.startsWith('idle')), [], 'only busy and idle were changed');
    });

    test('high again within the cooldown: nothing', async () => {
      f.s.clock.advance(30 * 60_000);
      f.fake.resetCalls();
      const { items } = (await f.call('gcloud_autoscale_run', { project: 'scaler', instanceName: 'busy' })) as { items: Evaluation[] };
      assert.deepEqual(items.map((e) => [e.instanceName, e.action, e.rule, e.outcome]), [['busy', 'none', 'cooldown', 'nothing']]);
      assert.match(items[0]!.reason, /changed 30 min ago; cooldown is 60 min/);
      assert.deepEqual(mutated(), []);
      assert.equal(typeOf('busy'), 'e2-standard-2');
    });

    test('the history holds every evaluation, newest first, with its inputs', async () => {
      const page = (await f.call('gcloud_autoscale_history', { project: 'scaler', limit: 3 })) as { items: Evaluation[]; nextCursor: string | null };
      assert.equal(page.items[0]!.rule, 'cooldown');
      assert.ok(page.nextCursor);
      const rest = (await f.call('gcloud_autoscale_history', { project: 'scaler', cursor: page.nextCursor })) as { items: Evaluation[] };
      assert.equal(page.items.length + rest.items.length, 9);
      const busy = [...page.items, ...rest.items].find((e) => e.instanceName === 'busy' && e.outcome === 'resized')!;
      const cpu = (busy.inputs.metrics as { cpu: Json }).cpu;
      assert.deepEqual([cpu.average, cpu.max, cpu.samples, cpu.coverage], [90, 90, 120, 1]);
      const stored = await f.s.db.query<{ n: number }>("SELECT count(*)::int AS n FROM gcloud_health_samples WHERE instance_name = 'busy' AND metric = 'cpu'");
      assert.ok(stored.rows[0]!.n >= 120, 'the samples behind the decision are stored');
    });

    test('a resize made before the VM had a policy starts the cooldown of the policy set after it', async () => {
      f.fake.addInstance(PROJECT, ZONE, { name: 'resized-by-hand', machineType: 'e2-medium' });
      f.fake.setLoad(PROJECT, 'resized-by-hand', HIGH);
      await f.call('gcloud_resize_vm', { project: 'scaler', zone: ZONE, instanceName: 'resized-by-hand', newMachineType: 'e2-standard-2' });
      f.s.clock.advance(3 * 60_000);
      const policy = (await f.call('gcloud_set_autoscale_policy', { project: 'scaler', zone: ZONE, instanceName: 'resized-by-hand', mode: 'act', rules: { warmupMinutes: 0 } })) as { lastChangeAt: string | null };
      assert.notEqual(policy.lastChangeAt, null);
      const { items } = (await f.call('gcloud_autoscale_run', { project: 'scaler', instanceName: 'resized-by-hand' })) as { items: Evaluation[] };
      assert.deepEqual(items.map((e) => [e.action, e.rule]), [['none', 'cooldown']]);
      assert.match(items[0]!.reason, /changed 3 min ago; cooldown is 60 min/);
      assert.equal(typeOf('resized-by-hand'), 'e2-standard-2');
      await f.call('gcloud_set_autoscale_policy', { project: 'scaler', zone: ZONE, instanceName: 'resized-by-hand', mode: 'off' });
      f.s.clock.advance(-3 * 60_000);
    });

    test('a VM deleted outside: its evaluation fails, says how to stop it, and the run is not ok', async () => {
      f.fake.addInstance(PROJECT, ZONE, { name: 'doomed', machineType: 'e2-medium' });
      await f.call('gcloud_set_autoscale_policy', { project: 'scaler', zone: ZONE, instanceName: 'doomed', mode: 'act' });
      assert.equal(((await f.call('gcloud_autoscale_run', { project: 'scaler', instanceName: 'doomed' })) as { ok: boolean }).ok, true);
      f.fake.removeInstance(PROJECT, ZONE, 'doomed');
      const run = (await f.call('gcloud_autoscale_run', { project: 'scaler', instanceName: 'doomed' })) as { ok: boolean; items: Evaluation[] };
      assert.deepEqual([run.ok, run.items[0]!.outcome, run.items[0]!.rule], [false, 'failed', 'error']);
      assert.match(run.items[0]!.reason, /^could not evaluate doomed: .*; if the VM was deleted, set its policy's mode to off \(gcloud_set_autoscale_policy\)$/);
      // The advice works: turning the policy off asks nothing of Google, so the VM's absence does not stop it.
      const calls = f.fake.calls.length;
      const off = (await f.call('gcloud_set_autoscale_policy', { project: 'scaler', zone: ZONE, instanceName: 'doomed', mode: 'off' })) as { mode: string };
      assert.deepEqual([off.mode, f.fake.calls.length], ['off', calls]);
      await assertRejects(f.call('gcloud_autoscale_run', { project: 'scaler', instanceName: 'doomed' }), 'not_found');
      // Deleting the VM that is gone removes the policy kept for it, which nothing else could.
      await assertRejects(f.call('gcloud_delete_vm', { project: 'scaler', zone: ZONE, instanceName: 'doomed', confirm: true }), 'not_found', /; the VM is gone already, so its auto-scaling policy here was removed$/);
      const left = (await f.call('gcloud_get_autoscale_policy', { project: 'scaler', instanceName: 'doomed' })) as { items: unknown[] };
      assert.deepEqual(left.items, []);
    });

    test('a removed policy is gone: the run leaves its VM alone, and removing it again (or one never set) is not_found', async () => {
      f.fake.addInstance(PROJECT, ZONE, { name: 'unmanaged', machineType: 'e2-medium' });
      f.fake.setLoad(PROJECT, 'unmanaged', HIGH);
      await f.call('gcloud_set_autoscale_policy', { project: 'scaler', zone: ZONE, instanceName: 'unmanaged', mode: 'act', rules: { warmupMinutes: 0 } });
      const removed = (await f.call('gcloud_remove_autoscale_policy', { project: 'scaler', zone: ZONE, instanceName: 'unmanaged' })) as Json;
      assert.deepEqual([removed.project, removed.instanceName, removed.mode], [PROJECT, 'unmanaged', 'act'], 'the answer is the policy removed');
      assert.deepEqual(((await f.call('gcloud_get_autoscale_policy', { project: 'scaler', instanceName: 'unmanaged' })) as { items: unknown[] }).items, []);
      const audit = await f.s.db.query<{ actor: string; detail: Json }>("SELECT actor, detail FROM audit_log WHERE action = 'gcloud.remove_autoscale_policy' AND target LIKE '%/unmanaged'");
      assert.deepEqual(audit.rows.map((r) => [r.actor, r.detail.mode, r.detail.account]), [['test-admin', 'act', 'scaler']]);
      // The run of every policy (what cron calls hourly) neither evaluates it nor asks Google about it.
      f.fake.resetCalls();
      const run = (await f.call('gcloud_autoscale_run', { project: 'scaler' })) as { items: Evaluation[] };
      assert.ok(run.items.length > 0);
      assert.ok(!run.items.some((e) => e.instanceName === 'unmanaged'));
      assert.deepEqual(f.fake.calls.filter((c) => c.path.includes('unmanaged') || JSON.stringify(c.query).includes('unmanaged')), []);
      assert.equal(typeOf('unmanaged'), 'e2-medium');
      await assertRejects(f.call('gcloud_autoscale_run', { project: 'scaler', instanceName: 'unmanaged' }), 'not_found');
      await assertRejects(
        f.call('gcloud_remove_autoscale_policy', { project: 'scaler', zone: ZONE, instanceName: 'unmanaged' }),
        'not_found',
        /^unmanaged in us-central1-a \(project scale-proj\) has no auto-scaling policy; gcloud_get_autoscale_policy lists the policies$/,
      );
    });

    test('removing the last account of a project says which VMs stop being scaled; adding one back resumes them', async () => {
      const addAnother = async (account: string, email: string) => {
        const { key } = f.fake.addServiceAccount({ projectId: PROJECT, email });
        await f.call('gcloud_add_account', { account, key: JSON.stringify(key) });
      };
      await addAnother('scaler-2', `second@${PROJECT}.iam.gserviceaccount.com`);
      // Another account for the project is left: nothing stops.
      assert.deepEqual(((await f.call('gcloud_remove_account', { account: 'scaler-2', confirm: true })) as { notes: string[] }).notes, []);
      const removed = (await f.call('gcloud_remove_account', { account: 'scaler', confirm: true })) as { notes: string[] };
      assert.equal(removed.notes.length, 1);
      assert.match(removed.notes[0]!, /^auto-scaling of us-central1-a\/advisory, us-central1-a\/booting, .* \(project scale-proj\) stops: no account is left for that project\./);
      assert.doesNotMatch(removed.notes[0]!, /paused/, 'a policy that is off was not running');
      // A run of every policy says each one on is not evaluated, and is not ok: from cron, a silent skip would never be seen.
      const orphans = (await f.call('gcloud_autoscale_run', {})) as { ok: boolean; items: Evaluation[] };
      assert.equal(orphans.ok, false);
      assert.ok(orphans.items.length > 0);
      for (const item of orphans.items) {
        assert.equal(item.outcome, 'failed');
        assert.match(item.reason, /^no account is left for project scale-proj, so \S+ is not evaluated; add an account for it \(gcloud_add_account\), or set this policy's mode to off \(autoscale set scale-proj us-central1-a \S+ off\)$/);
      }
      // One VM asked for by name that has no policy on is named, not an empty run.
      await addAnother('scaler-3', `fourth@${PROJECT}.iam.gserviceaccount.com`);
      await assertRejects(f.call('gcloud_autoscale_run', { project: 'scaler-3', instanceName: 'nope' }), 'not_found', /^nope has no auto-scaling policy that is on in scaler-3; /);
      await f.call('gcloud_remove_account', { account: 'scaler-3', confirm: true });
      // The note's way to stop one for good works without an account: by the project id, mode off, no call to Google.
      assert.match(removed.notes[0]!, /set its mode to off by the project id \(autoscale set scale-proj <zone> <vm> off\)/);
      const calls = f.fake.calls.length;
      const off = (await f.call('gcloud_set_autoscale_policy', { project: PROJECT, zone: 'us-central1-a', instanceName: 'booting', mode: 'off' })) as { mode: string };
      assert.deepEqual([off.mode, f.fake.calls.length], ['off', calls]);
      // So does removing one.
      assert.equal(((await f.call('gcloud_remove_autoscale_policy', { project: PROJECT, zone: 'us-central1-a', instanceName: 'paused' })) as { instanceName: string }).instanceName, 'paused');
      assert.equal(f.fake.calls.length, calls);
      // Any other change still needs the account.
      await assertRejects(f.call('gcloud_set_autoscale_policy', { project: PROJECT, zone: 'us-central1-a', instanceName: 'booting', mode: 'act' }), 'not_found');
      // What is stored for the project is read by its id too, with no account; a name nothing is stored for is still not_found.
      const policies = (await f.call('gcloud_get_autoscale_policy', { project: PROJECT, instanceName: 'booting' })) as { items: Json[] };
      assert.deepEqual(policies.items.map((p) => p.mode), ['off']);
      assert.ok(((await f.call('gcloud_autoscale_history', { project: PROJECT })) as { items: unknown[] }).items.length > 0);
      await assertRejects(f.call('gcloud_get_autoscale_policy', { project: 'scale-prj' }), 'not_found', /no Google Cloud account named scale-prj/);
      await addAnother('scaler', `third@${PROJECT}.iam.gserviceaccount.com`);
      assert.ok(((await f.call('gcloud_autoscale_run', { project: 'scaler', instanceName: 'idle' })) as { items: unknown[] }).items.length === 1, 'the kept policy runs again');
    });
  });
}
