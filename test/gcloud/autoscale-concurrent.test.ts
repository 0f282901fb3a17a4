// Two auto-scaler runs (or a run and a person) at one VM at once: the first one's resize holds the
// VM, and the other says so, naming that resize, instead of a state it passes through (stopped), a
// cooldown on the type it is leaving, or a failed stop with advice to start the VM by hand.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { presenceLock } from '../../src/core/presence.js';
import { processOwner } from '../../src/core/process-info.js';
import type { LoadProfile } from '../fakes/gcloud/index.js';
import { skipReason, testBackends } from '../helpers/db.js';
import { assertRejects } from '../helpers/errors.js';
import { within } from '../helpers/wait.js';
import { openDomain, type DomainFixture } from './gfixture.js';

const PROJECT = 'race-proj';
const ZONE = 'us-central1-a';
const HIGH: LoadProfile = { cpu: 0.9, memory: 60, disk: 40 };

interface Evaluation {
  at: string;
  instanceName: string;
  machineType: string | null;
  action: string;
  rule: string;
  reason: string;
  outcome: string;
}

for (const backend of testBackends()) {
  describe(`auto-scaler runs at one VM at once [${backend}]`, { skip: await skipReason(backend) }, () => {
    let f: DomainFixture;
    const run = async (instanceName: string) => (await f.call('gcloud_autoscale_run', { project: 'racer', instanceName })) as { ok: boolean; items: Evaluation[] };
    const mutations = (name: string) => f.fake.calls.filter((c) => c.method === 'POST' && c.path.includes(`/instances/${name}/`) && !c.path.endsWith('/wait')).map((c) => c.path.split('/').pop());
    /** A VM on high load with a policy that acts, and its stop held at the fake until `release`. */
    const contested = async (name: string, rules: Record<string, number> = {}) => {
      f.fake.addInstance(PROJECT, ZONE, { name, machineType: 'e2-medium' });
      f.fake.setLoad(PROJECT, name, HIGH);
      await f.call('gcloud_set_autoscale_policy', { project: 'racer', zone: ZONE, instanceName: name, mode: 'act', rules });
      let release!: () => void;
      f.fake.failNext(1, { heldUntil: new Promise<void>((resolve) => (release = resolve)) }, { service: 'compute', method: 'POST', pathIncludes: `/instances/${name}/stop` });
      const first = run(name);
      await within(10_000, `the first run's stop of ${name} reaching Google`, () => mutations(name).includes('stop'));
      return { first, release };
    };

    before(async () => {
      f = await openDomain(backend);
      await f.account('racer', PROJECT);
    });
    after(() => f.close());

    test('the second run records that the VM is being resized, from and to which type, and leaves it to the first', async () => {
      // No cooldown: what held the second run back was said as the window of the type being left.
      const { first, release } = await contested('busy', { cooldownMinutes: 0 });
      const second = await run('busy');
      assert.equal(second.ok, true);
      assert.deepEqual(second.items.map((e) => [e.action, e.rule, e.outcome, e.machineType]), [['none', 'resizing', 'nothing', 'e2-medium']]);
      assert.match(second.items[0]!.reason, /^busy is being resized from e2-medium to e2-standard-2 \(begun \d{4}-\d{2}-\d{2}T[\d:.]+Z\); it is evaluated again once that has ended$/);
      release();
      const done = await first;
      assert.deepEqual(done.items.map((e) => [e.action, e.outcome]), [['up', 'resized']]);
      assert.deepEqual(mutations('busy'), ['stop', 'setMachineType', 'start'], 'one resize, the first run\'s');
      // Once it has ended, the next run names the type it is on now.
      const next = await run('busy');
      assert.deepEqual(next.items.map((e) => [e.rule, e.machineType]), [['warmup', 'e2-standard-2']]);
    });

    test('a resize by hand while a run resizes the VM is refused, naming that resize; nothing is stopped twice', async () => {
      const { first, release } = await contested('shared');
      await assertRejects(
        f.call('gcloud_resize_vm', { project: 'racer', zone: ZONE, instanceName: 'shared', newMachineType: 'e2-standard-4' }),
        'conflict',
        /^shared is being resized from e2-medium to e2-standard-2 \(begun [^)]+\); try again once that has ended \(gcloud_get_vm shows its status\)$/,
      );
      release();
      assert.equal((await first).ok, true);
      assert.deepEqual(mutations('shared'), ['stop', 'setMachineType', 'start']);
      assert.equal(String(f.fake.instance(PROJECT, ZONE, 'shared')?.machineType).split('/').pop(), 'e2-standard-2');
    });

    test('the history lists evaluations by when they began, newest first: the resize begun first comes after the run that began while it was under way', async () => {
      const { first, release } = await contested('ordered');
      f.s.clock.advance(60_000);
      await run('ordered');
      release();
      await first;
      // The resize's row was written last; it began a minute earlier.
      const { rows } = await f.s.db.query<{ rule: string }>("SELECT rule FROM gcloud_autoscale_evaluations WHERE instance_name = 'ordered' ORDER BY id");
      assert.deepEqual(rows.map((r) => r.rule), ['resizing', 'scale_up']);
      const history = (await f.call('gcloud_autoscale_history', { project: 'racer', instanceName: 'ordered' })) as { items: Evaluation[] };
      assert.deepEqual(history.items.map((e) => e.rule), ['resizing', 'scale_up']);
      assert.ok(Date.parse(history.items[0]!.at) > Date.parse(history.items[1]!.at));
      // Page by page, in the same order.
      const one = (await f.call('gcloud_autoscale_history', { project: 'racer', instanceName: 'ordered', limit: 1 })) as { items: Evaluation[]; nextCursor: string | null };
      const two = (await f.call('gcloud_autoscale_history', { project: 'racer', instanceName: 'ordered', limit: 1, cursor: one.nextCursor })) as { items: Evaluation[]; nextCursor: string | null };
      assert.deepEqual([...one.items, ...two.items].map((e) => e.rule), ['resizing', 'scale_up']);
      assert.equal(two.nextCursor, null);
      // Across every VM too: the newest start first.
      const all = (await f.call('gcloud_autoscale_history', { project: 'racer' })) as { items: Evaluation[] };
      const starts = all.items.map((e) => Date.parse(e.at));
      assert.deepEqual(starts, [...starts].sort((a, b) => b - a));
    });

    test('a run takes each policy as it is when its turn comes: one turned off meanwhile is left out, one whose VM another run resized meanwhile is in its cooldown', async () => {
      const project = 'slow-proj';
      await f.account('slowpoke', project);
      for (const name of ['a-first', 'b-resized', 'c-turned-off']) {
        f.fake.addInstance(project, ZONE, { name, machineType: 'e2-medium' });
        f.fake.setLoad(project, name, HIGH);
        // No warmup: the cooldown alone is what holds a VM just resized back.
        await f.call('gcloud_set_autoscale_policy', { project: 'slowpoke', zone: ZONE, instanceName: name, mode: 'act', rules: { warmupMinutes: 0 } });
      }
      // The run's first resize is held at Google while the others change.
      let release!: () => void;
      f.fake.failNext(1, { heldUntil: new Promise<void>((resolve) => (release = resolve)) }, { service: 'compute', method: 'POST', pathIncludes: '/instances/a-first/stop' });
      const long = f.call('gcloud_autoscale_run', { project: 'slowpoke' }) as Promise<{ items: Evaluation[] }>;
      await within(10_000, "the run's first stop reaching Google", () => mutations('a-first').includes('stop'));
      const other = (await f.call('gcloud_autoscale_run', { project: 'slowpoke', instanceName: 'b-resized' })) as { items: Evaluation[] };
      assert.deepEqual(other.items.map((e) => [e.instanceName, e.outcome]), [['b-resized', 'resized']]);
      await f.call('gcloud_set_autoscale_policy', { project: 'slowpoke', zone: ZONE, instanceName: 'c-turned-off', mode: 'off' });
      // Two minutes on (the fake's clock runs a little ahead of the manual one): well inside the cooldown.
      f.s.clock.advance(120_000);
      release();
      const done = await long;
      assert.deepEqual(done.items.map((e) => [e.instanceName, e.rule, e.outcome]), [['a-first', 'scale_up', 'resized'], ['b-resized', 'cooldown', 'nothing']]);
      assert.deepEqual([mutations('b-resized'), mutations('c-turned-off')], [['stop', 'setMachineType', 'start'], []], 'each resized once, the one turned off never');
    });

    /** A run for `project`'s one VM on high load (e2-medium), held at its metrics read while `meanwhile` changes the VM. */
    const evaluatedWhile = async (project: string, name: string, meanwhile: () => Promise<unknown>) => {
      await f.account(project, project);
      f.fake.addInstance(project, ZONE, { name, machineType: 'e2-medium' });
      f.fake.setLoad(project, name, HIGH);
      await f.call('gcloud_set_autoscale_policy', { project, zone: ZONE, instanceName: name, mode: 'act' });
      let release!: () => void;
      f.fake.failNext(1, { heldUntil: new Promise<void>((resolve) => (release = resolve)) }, { service: 'monitoring', pathIncludes: `/projects/${project}/timeSeries` });
      const held = f.call('gcloud_autoscale_run', { project }) as Promise<{ items: Evaluation[] }>;
      await within(10_000, "the run's metrics read reaching Google", () => f.fake.calls.some((c) => c.service === 'monitoring' && c.path.includes(`/projects/${project}/`)));
      await meanwhile();
      release();
      return (await held).items;
    };

    test('a VM resized by hand while a run evaluates it is not resized back by that run: it is evaluated again on its new type', async () => {
      const items = await evaluatedWhile('moved-proj', 'moved', () => f.call('gcloud_resize_vm', { project: 'moved-proj', zone: ZONE, instanceName: 'moved', newMachineType: 'e2-standard-4' }));
      assert.deepEqual(items.map((e) => [e.action, e.rule, e.outcome, e.machineType]), [['none', 'resized_meanwhile', 'nothing', 'e2-medium']]);
      assert.match(items[0]!.reason, /^moved was resized from e2-medium to e2-standard-4 while this run evaluated it; it is evaluated again on that type at the next run$/);
      assert.deepEqual(mutations('moved'), ['stop', 'setMachineType', 'start'], "the person's resize only");
      assert.equal(String(f.fake.instance('moved-proj', ZONE, 'moved')?.machineType).split('/').pop(), 'e2-standard-4');
      const { rows } = await f.s.db.query("SELECT 1 FROM gcloud_resizes_in_flight WHERE instance = 'moved'");
      assert.deepEqual(rows, [], 'the VM is not held');
    });

    test('a VM another run moved to the same type while this one evaluated it is said to be there already, not resized', async () => {
      const items = await evaluatedWhile('same-proj', 'same', () => f.call('gcloud_autoscale_run', { project: 'same-proj', instanceName: 'same' }));
      assert.deepEqual(items.map((e) => [e.action, e.rule, e.outcome]), [['none', 'resized_meanwhile', 'nothing']]);
      assert.match(items[0]!.reason, /^same is on e2-standard-2 already: it was resized while this run evaluated it$/);
      assert.deepEqual(mutations('same'), ['stop', 'setMachineType', 'start'], 'one resize, the other run\'s');
      const history = (await f.call('gcloud_autoscale_history', { project: 'same-proj', instanceName: 'same' })) as { items: Evaluation[] };
      assert.deepEqual(history.items.map((e) => e.outcome).sort(), ['nothing', 'resized']);
    });

    test('a resize whose VM another daemon took over (this one out of touch meanwhile) stops before its next step and leaves the VM to it', async () => {
      f.fake.addInstance(PROJECT, ZONE, { name: 'taken', machineType: 'e2-medium' });
      let release!: () => void;
      f.fake.failNext(1, { heldUntil: new Promise<void>((resolve) => (release = resolve)) }, { service: 'compute', method: 'POST', pathIncludes: '/instances/taken/stop' });
      const resized = f.call('gcloud_resize_vm', { project: 'racer', zone: ZONE, instanceName: 'taken', newMachineType: 'e2-standard-2' });
      await within(10_000, "the resize's stop reaching Google", () => mutations('taken').includes('stop'));
      // Another daemon, taking this one for gone, took the VM over (the test runner stands in for it).
      const other = processOwner(process.ppid);
      await f.s.db.query("UPDATE gcloud_resizes_in_flight SET owner = $1 WHERE instance = 'taken'", [other]);
      release();
      await assertRejects(resized, 'conflict', /^resizing taken from e2-medium to e2-standard-2 stopped before setMachineType: another daemon took the VM over while this one was out of touch with the database, and puts it back \(gcloud_get_vm shows its status\)\. Steps done here: stop \(e2-medium\) ok$/);
      assert.deepEqual(mutations('taken'), ['stop'], 'nothing after the stop');
      const { rows } = await f.s.db.query<{ owner: string }>("SELECT owner FROM gcloud_resizes_in_flight WHERE instance = 'taken'");
      assert.deepEqual(rows.map((r) => r.owner), [other], "the other daemon's claim is left as it is");
      await f.s.db.query("DELETE FROM gcloud_resizes_in_flight WHERE instance = 'taken'");
    });

    test('a resize cut off (its process gone) does not hold the VM: the next resize takes it over and ends it', async () => {
      f.fake.addInstance(PROJECT, ZONE, { name: 'orphaned', machineType: 'e2-medium' });
      await f.s.db.query(
        `INSERT INTO gcloud_resizes_in_flight (project_id, zone, instance, account, from_type, to_type, was_running, started_at, owner) VALUES ($1, $2, 'orphaned', 'racer', 'e2-small', 'e2-medium', true, $3, $4)`,
        [PROJECT, ZONE, f.s.clock.now(), `${hostname()}:999999999:1`],
      );
      const answer = await f.call('gcloud_resize_vm', { project: 'racer', zone: ZONE, instanceName: 'orphaned', newMachineType: 'e2-standard-2' });
      assert.equal(answer.status, 'RUNNING');
      const { rows } = await f.s.db.query("SELECT 1 FROM gcloud_resizes_in_flight WHERE instance = 'orphaned'");
      assert.deepEqual(rows, []);
    });

    test('a resize by a daemon on another host holds the VM while that daemon runs, and is taken over once it is gone', async () => {
      f.fake.addInstance(PROJECT, ZONE, { name: 'remote', machineType: 'e2-medium' });
      // Nothing here can look at that host's processes: its daemon runs while it holds its presence in the database.
      const elsewhere = 'other-host.example:4242:777';
      const theirs = await f.s.db.tryHold(presenceLock(elsewhere), () => undefined);
      assert.ok(theirs);
      await f.s.db.query(
        `INSERT INTO gcloud_resizes_in_flight (project_id, zone, instance, account, from_type, to_type, was_running, started_at, owner) VALUES ($1, $2, 'remote', 'racer', 'e2-small', 'e2-medium', true, $3, $4)`,
        [PROJECT, ZONE, f.s.clock.now(), elsewhere],
      );
      const resize = () => f.call('gcloud_resize_vm', { project: 'racer', zone: ZONE, instanceName: 'remote', newMachineType: 'e2-standard-2' });
      await assertRejects(resize(), 'conflict', /^remote is being resized from e2-small to e2-medium/);
      assert.deepEqual(mutations('remote'), []);
      // That daemon stops (killed, its host gone): its connection, and with it its presence, goes.
      await theirs.release();
      const answer = await resize();
      assert.equal(answer.status, 'RUNNING');
      assert.deepEqual(mutations('remote'), ['stop', 'setMachineType', 'start']);
      const { rows } = await f.s.db.query("SELECT 1 FROM gcloud_resizes_in_flight WHERE instance = 'remote'");
      assert.deepEqual(rows, []);
    });
  });
}
