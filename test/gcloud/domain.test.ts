// GCloud through its operations, against the fake Google over real HTTP: accounts and their
// keys, VM calls routed to the right project with the right token, the seed's resize, token
// expiry and revoked keys, bad input refused before any call, and nothing secret in any
// answer, error, log line, call record or audit row.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { processStart } from '../../src/core/process-info.js';
import { adminPrincipal } from '../../src/core/principal.js';
import { SupervisorError } from '../../src/core/errors.js';
import { quotaExceeded, type ServiceAccountKeyJson } from '../fakes/gcloud/index.js';
import { skipReason, testBackends } from '../helpers/db.js';
import { assertRejects } from '../helpers/errors.js';
import { capturedLogLines } from '../helpers/services.js';
import { openDomain, type DomainFixture, type Json } from './gfixture.js';
import { assertNoSecrets } from './secrets.js';

const ZONE = 'us-central1-a';
const mutations = (f: DomainFixture) => f.apiCalls().filter((c) => c.service === 'compute' && c.method !== 'GET' && !c.path.endsWith('/wait'));

for (const backend of testBackends()) {
  describe(`gcloud through its operations [${backend}]`, { skip: await skipReason(backend) }, () => {
    let f: DomainFixture;
    let alpha: { email: string; key: ServiceAccountKeyJson };
    let beta: { email: string; key: ServiceAccountKeyJson };

    before(async () => {
      f = await openDomain(backend);
      alpha = await f.account('vm-host', 'vm-host-4711');
      beta = await f.account('openhorizon', 'openhorizon-prod');
      f.fake.addInstance('vm-host-4711', ZONE, { name: 'supervisor-vm', machineType: 'e2-medium' });
      f.fake.addInstance('vm-host-4711', 'europe-west1-b', { name: 'eu-worker', machineType: 'e2-small' });
      f.fake.addInstance('openhorizon-prod', ZONE, { name: 'web', machineType: 'e2-standard-2' });
      for (const name of ['quota', 'expiry']) f.fake.addInstance('vm-host-4711', ZONE, { name, machineType: 'e2-medium' });
    });
    beforeEach(() => {
      f.fake.resetCalls();
      f.fake.clearFaults();
    });
    after(async () => {
      await f.s.calls.flush();
      const records = await f.s.db.query<{ input: unknown }>('SELECT input FROM operation_calls');
      const audit = await f.s.db.query<{ detail: unknown; target: string | null }>('SELECT target, detail FROM audit_log');
      const texts = [...f.seen, ...capturedLogLines, ...records.rows.map((r) => JSON.stringify(r.input)), ...audit.rows.map((r) => JSON.stringify(r))];
      assertNoSecrets(texts, [alpha.key, beta.key], f.fake.issuedTokens());
      assert.ok(records.rows.some((r) => JSON.stringify(r.input).includes('"key":"[redacted]"')), 'the key input is recorded as [redacted]');
      await f.close();
    });

    test('accounts are listed with their project, email and last successful call, never the key', async () => {
      const { items } = (await f.call('gcloud_list_accounts', {})) as { items: Json[] };
      assert.deepEqual(items.map((a) => [a.account, a.projectId, a.clientEmail, a.secretPath]), [
        ['openhorizon', 'openhorizon-prod', beta.email, 'meta/gcloud/openhorizon'],
        ['vm-host', 'vm-host-4711', alpha.email, 'meta/gcloud/vm-host'],
      ]);
      assert.ok(items.every((a) => typeof a.lastSuccessAt === 'string'), 'adding fetched a token');
      // Read past the answer scan: this value is the key itself.
      const secret = await f.s.secrets.get(adminPrincipal('test-admin'), { path: 'meta/gcloud/vm-host' });
      assert.equal(JSON.parse(secret.value).client_email, alpha.email, 'the key is the secret');
    });

    test('two accounts: every call goes to its own project with its own token', async () => {
      const a = (await f.call('gcloud_list_vms', { project: 'vm-host' })) as { items: Json[]; project: string };
      const b = (await f.call('gcloud_list_vms', { project: 'openhorizon-prod', zone: ZONE })) as { items: Json[]; project: string };
      assert.equal(a.project, 'vm-host-4711');
      assert.deepEqual(a.items.map((v) => v.name).sort(), ['eu-worker', 'expiry', 'quota', 'supervisor-vm']);
      assert.deepEqual(b.items.map((v) => v.name), ['web']);
      await f.call('gcloud_get_vm', { project: 'openhorizon', zone: ZONE, instanceName: 'web' });
      await f.call('gcloud_vm_health', { project: 'vm-host', zone: ZONE, instanceName: 'supervisor-vm' });
      const calls = f.apiCalls();
      assert.ok(calls.length >= 6);
      for (const c of calls) {
        const owner = c.project === 'vm-host-4711' ? alpha.email : c.project === 'openhorizon-prod' ? beta.email : undefined;
        assert.ok(owner, `call to an unexpected project: ${c.path}`);
        assert.equal(c.account, owner, `${c.path} went with the token of ${c.account}`);
      }
      assert.ok(calls.some((c) => c.service === 'monitoring'));
      assert.deepEqual([f.fake.grantCount(alpha.email), f.fake.grantCount(beta.email)], [1, 1], 'one token each, granted when the key was added');
    });

    test('VMs of every account in one list, each labelled with its account; one that cannot be read is named with its error, the others still listed', async () => {
      const all = (await f.call('gcloud_list_vms', {})) as { items: Json[]; failed: Json[]; account?: string };
      assert.deepEqual(all.items.map((v) => `${String(v.account)}/${String(v.name)}`).sort(), ['openhorizon/web', 'vm-host/eu-worker', 'vm-host/expiry', 'vm-host/quota', 'vm-host/supervisor-vm']);
      assert.deepEqual([all.failed, all.account], [[], undefined]);
      f.fake.failAlways({ status: 500 }, { service: 'compute', pathIncludes: '/projects/openhorizon-prod/' });
      const partial = (await f.call('gcloud_list_vms', { zone: ZONE })) as { items: Json[]; failed: Json[] };
      assert.deepEqual(partial.items.map((v) => v.account), ['vm-host', 'vm-host', 'vm-host']);
      assert.deepEqual(partial.failed.map((x) => [x.account, x.project]), [['openhorizon', 'openhorizon-prod']]);
      assert.match(String(partial.failed[0]!.error), /^unavailable: compute instances\.list projects\/openhorizon-prod\/zones\/us-central1-a\/instances failed after 5 attempts \(HTTP 500/);
    });

    test('a zone given where the account goes is refused as a zone, naming the accounts and where a zone goes; nothing is asked of Google', async () => {
      for (const tool of ['gcloud_list_vms', 'gcloud_vm_health']) {
        await assertRejects(
          f.call(tool, { project: ZONE }),
          'invalid_input',
          /^project: us-central1-a is a zone, not an account or project id \(accounts: openhorizon \(openhorizon-prod\), vm-host \(vm-host-4711\)\); to look in one zone, give it as the zone \(zone\): with no project for every account, or with one of them as project$/,
        );
      }
      // A call that takes no zone says what it was given, without advice it cannot follow.
      await assertRejects(f.call('gcloud_cost', { project: 'europe-west1-b' }), 'invalid_input', /^project: europe-west1-b is a zone, not an account or project id \(accounts: openhorizon \(openhorizon-prod\), vm-host \(vm-host-4711\)\)$/);
      // A name that is no zone is still an account to add.
      await assertRejects(f.call('gcloud_list_vms', { project: 'nobody' }), 'not_found', /^project: no Google Cloud account named nobody .*; add one with gcloud_add_account$/);
      assert.deepEqual(f.apiCalls(), []);
      // The zone as the zone: that zone's VMs of every account.
      const inZone = (await f.call('gcloud_list_vms', { zone: 'europe-west1-b' })) as { items: Json[] };
      assert.deepEqual(inZone.items.map((v) => `${String(v.account)}/${String(v.name)}`), ['vm-host/eu-worker']);
    });

    test('health of every VM of every account in one call: per account one list and three Monitoring reads; a missing Ops Agent said plainly', async () => {
      f.fake.setLoad('vm-host-4711', 'eu-worker', { cpu: 0.3 });
      f.fake.setLoad('openhorizon-prod', 'web', { cpu: 0.5, memory: 40, disk: 55 });
      const answer = (await f.call('gcloud_vm_health', {})) as { vms: Json[]; stored: number };
      const calls = f.apiCalls();
      assert.deepEqual(calls.filter((c) => c.service === 'compute').map((c) => c.path.split('/').slice(-2).join('/')).sort(), ['aggregated/instances', 'aggregated/instances']);
      assert.equal(calls.filter((c) => c.service === 'monitoring').length, 6);
      const web = answer.vms.find((v) => v.instanceName === 'web')!;
      assert.deepEqual([(web.cpu as Json).average, (web.memory as Json).average, (web.disk as Json).max, (web.cpu as Json).samples], [50, 40, 55, 120]);
      assert.deepEqual(web.opsAgent, { status: 'reporting', missing: [] });
      const eu = answer.vms.find((v) => v.instanceName === 'eu-worker')!;
      assert.equal((eu.opsAgent as Json).status, 'missing');
      assert.match(String((eu.opsAgent as Json).message), /Ops Agent metrics missing for eu-worker \(memory, disk\).*install it with `curl -sSO https:\/\/dl\.google\.com\/cloudagents\/add-google-cloud-ops-agent-repo\.sh/);
      assert.equal(answer.stored, 120 * 4, 'CPU of both, memory and disk of web, a sample a minute');
      const one = await f.call('gcloud_vm_health', { project: 'openhorizon', zone: ZONE, instanceName: 'web', minutes: 30 });
      assert.deepEqual([(one.cpu as Json).average, (one.cpu as Json).samples, one.vms], [50, 30, undefined], 'one VM: its health at the top, as the seed reads health.cpu.average');
    });

    test("the seed's resize, as written: stop, wait, setMachineType, wait, start; cost change and progress", async () => {
      f.progress.length = 0;
      const answer = await f.call('gcloud_resize_vm', { project: 'vm-host', zone: 'us-central1-a', instanceName: 'supervisor-vm', newMachineType: 'n1-standard-4' });
      const trail = f.fake.calls.filter((c) => c.service === 'compute' && c.method === 'POST').map((c) => (c.path.endsWith('/wait') ? 'wait' : c.path.split('/').pop()));
      const order = trail.filter((t, i) => t !== 'wait' || trail[i - 1] !== 'wait');
      assert.deepEqual(order, ['stop', 'wait', 'setMachineType', 'wait', 'start', 'wait']);
      assert.deepEqual([answer.from, answer.to, answer.status], ['e2-medium', 'n1-standard-4', 'RUNNING']);
      assert.deepEqual(answer.planned, ['stop', 'setMachineType', 'start']);
      const cost = answer.cost as Json;
      assert.equal(cost.priceVersion, '2025-01-gcp-on-demand-list');
      assert.equal(cost.changeUsd, Math.round(((cost.after as number) - (cost.before as number)) * 100) / 100);
      assert.ok((cost.changeUsd as number) > 100, 'n1-standard-4 costs over $100 a month more than e2-medium');
      assert.ok(f.progress.some((p) => /^stop supervisor-vm: DONE/.test(p.message)) && f.progress.some((p) => /^start supervisor-vm: DONE/.test(p.message)));
      const vm = f.fake.instance('vm-host-4711', ZONE, 'supervisor-vm')!;
      assert.equal(String(vm.machineType).split('/').pop(), 'n1-standard-4');
      const ops = f.fake.operations().filter((o) => o.instance === 'supervisor-vm');
      assert.ok(ops.every((o) => typeof o.requestId === 'string' && o.requestId.length === 36), 'every mutation carries a requestId');
    });

    test('a dry-run resize shows the plan and the cost change and changes nothing', async () => {
      const answer = await f.call('gcloud_resize_vm', { project: 'vm-host', zone: ZONE, instanceName: 'quota', newMachineType: 'e2-standard-2', dryRun: true });
      assert.deepEqual([answer.planned, answer.report], [['stop', 'setMachineType', 'start'], null]);
      assert.equal((answer.cost as Json).changeUsd, Math.round((0.06701 - 0.03351) * 730 * 100) / 100);
      // A plan onto a type with no price can still pick another.
      const unpriced = await f.call('gcloud_resize_vm', { project: 'vm-host', zone: ZONE, instanceName: 'quota', newMachineType: 'e2-highmem-2', dryRun: true });
      assert.deepEqual(unpriced.cost, { before: 25.46, after: null, changeUsd: null, priceVersion: '2025-01-gcp-on-demand-list', note: 'no price for e2-highmem-2 in us-central1 in price table 2025-01-gcp-on-demand-list (the dated table this version ships); pick a type the table lists for a figure' });
      assert.deepEqual(mutations(f), []);
    });

    test('the cost change of resizing a stopped VM is $0.00 while it is stopped, and the note says what it costs once it runs', async () => {
      f.fake.addInstance('vm-host-4711', ZONE, { name: 'parked', machineType: 'e2-medium', status: 'TERMINATED' });
      const answer = await f.call('gcloud_resize_vm', { project: 'vm-host', zone: ZONE, instanceName: 'parked', newMachineType: 'e2-standard-2', dryRun: true });
      const cost = answer.cost as Json;
      assert.equal(cost.changeUsd, 0);
      const [before, after] = [0.03351 * 730 + 1, 0.06701 * 730 + 1].map((usd) => Math.round(usd * 100) / 100);
      assert.equal(cost.note, `TERMINATED: it pays for its disk only, so nothing changes while it is stopped; running all month it costs $${after!.toFixed(2)} instead of $${before!.toFixed(2)} (+$${(Math.round((after! - before!) * 100) / 100).toFixed(2)})`);
    });

    test('a dry-run resize of a SUSPENDED VM is refused as the resize would be, saying to resume it first', async () => {
      f.fake.addInstance('vm-host-4711', ZONE, { name: 'napping', machineType: 'e2-medium', status: 'SUSPENDED' });
      for (const dryRun of [true, false]) {
        await assertRejects(
          f.call('gcloud_resize_vm', { project: 'vm-host', zone: ZONE, instanceName: 'napping', newMachineType: 'e2-standard-2', dryRun }),
          'conflict',
          /^napping is SUSPENDED; a resize needs it RUNNING or TERMINATED, so resume it \(or stop it\) first$/,
        );
      }
      assert.deepEqual(mutations(f), []);
    });

    test('start of a SUSPENDED VM resumes it (start is refused for it); one still suspending is refused, nothing sent', async () => {
      f.fake.addInstance('vm-host-4711', ZONE, { name: 'dozing', machineType: 'e2-medium', status: 'SUSPENDED' });
      const answer = (await f.call('gcloud_start_vm', { project: 'vm-host', zone: ZONE, instanceName: 'dozing' })) as { vm: Json; operation: Json };
      assert.equal(answer.vm.status, 'RUNNING');
      assert.equal(answer.operation.type, 'resume');
      assert.deepEqual(mutations(f).map((c) => c.path.split('/').at(-1)), ['resume']);

      f.fake.addInstance('vm-host-4711', ZONE, { name: 'drowsy', machineType: 'e2-medium', status: 'SUSPENDING' });
      f.fake.resetCalls();
      await assertRejects(f.call('gcloud_start_vm', { project: 'vm-host', zone: ZONE, instanceName: 'drowsy' }), 'conflict', /^drowsy is being suspended; start it once it is SUSPENDED/);
      assert.deepEqual(mutations(f), []);
    });

    test('a resize failing midway leaves the VM running on its old type and says so', async () => {
      f.fake.failOperations({ operationType: 'setMachineType', instance: 'quota' }, quotaExceeded('CPUS', 4, 'us-central1'));
      const err = await assertRejects(f.call('gcloud_resize_vm', { project: 'vm-host', zone: ZONE, instanceName: 'quota', newMachineType: 'e2-standard-8' }), 'forbidden', /failed at setMachineType/);
      assert.match(err.message, /QUOTA_EXCEEDED/);
      assert.match(err.message, /it is now RUNNING on e2-medium\.$/);
      assert.deepEqual(mutations(f).map((c) => c.path.split('/').pop()), ['stop', 'setMachineType', 'start']);
      const vm = f.fake.instance('vm-host-4711', ZONE, 'quota')!;
      assert.deepEqual([vm.status, String(vm.machineType).split('/').pop()], ['RUNNING', 'e2-medium']);
      // The VM was stopped and started again: the attempt is audited, with the error naming the steps.
      const rows = await f.s.audit.list({ action: 'gcloud.resize_vm', limit: 10 });
      const row = rows.find((r) => r.target === `vm-host-4711/${ZONE}/quota`);
      assert.deepEqual([row?.outcome, row?.detail.code, row?.detail.account], ['error', 'forbidden', 'vm-host'], JSON.stringify(rows));
      assert.match(String(row?.detail.message), /failed at setMachineType/);
    });

    test('a resize cut off when its daemon stopped: the next start finds it, starts the VM that was running, and says so, once however many daemons start', async () => {
      // Both resizes left no row behind once they ended, well or not.
      const inFlight = async () => (await f.s.db.query<{ instance: string }>('SELECT instance FROM gcloud_resizes_in_flight ORDER BY instance')).rows.map((r) => r.instance);
      assert.deepEqual(await inFlight(), []);
      f.fake.addInstance('vm-host-4711', ZONE, { name: 'cut-running', machineType: 'e2-standard-2', status: 'TERMINATED' });
      f.fake.addInstance('vm-host-4711', ZONE, { name: 'cut-stopped', machineType: 'e2-small', status: 'TERMINATED' });
      // As a daemon killed between the stop and the start leaves them: its pid is gone.
      const gone = `${hostname()}:999999999:1`;
      // cut-gone: deleted in the console since; there is nothing to put back, and it is forgotten.
      for (const [name, wasRunning] of [['cut-running', true], ['cut-stopped', false], ['cut-gone', true]] as const) {
        await f.s.db.query(
          `INSERT INTO gcloud_resizes_in_flight (project_id, zone, instance, account, from_type, to_type, was_running, started_at, owner) VALUES ('vm-host-4711', $1, $2, 'vm-host', 'e2-medium', 'e2-standard-2', $3, $4, $5)`,
          [ZONE, name, wasRunning, f.s.clock.now(), gone],
        );
      }
      // A resize of a daemon that still runs (this process) is not taken for one cut off.
      await f.s.db.query(`INSERT INTO gcloud_resizes_in_flight VALUES ('vm-host-4711', $1, 'live', 'vm-host', 'e2-medium', 'e2-small', true, $2, $3)`, [ZONE, f.s.clock.now(), `${hostname()}:${process.pid}:${processStart(process.pid) ?? ''}`]);

      // Two daemons starting at once (two starts here) each find them; one puts each VM back.
      await Promise.all([f.s.gcloud.startup(), f.s.gcloud.startup()]);

      const state = (name: string) => {
        const vm = f.fake.instance('vm-host-4711', ZONE, name)!;
        return `${String(vm.status)} ${String(vm.machineType).split('/').pop()}`;
      };
      assert.deepEqual([state('cut-running'), state('cut-stopped')], ['RUNNING e2-standard-2', 'TERMINATED e2-small']);
      assert.deepEqual(await inFlight(), ['live']);
      const rows = (await f.s.audit.list({ action: 'gcloud.resize_vm', limit: 20 })).filter((r) => r.detail.cutOff === true);
      assert.deepEqual(rows.map((r) => [r.target, r.detail.restarted, r.detail.found]).sort(), [
        [`vm-host-4711/${ZONE}/cut-running`, true, 'TERMINATED on e2-standard-2'],
        [`vm-host-4711/${ZONE}/cut-stopped`, false, 'TERMINATED on e2-small'],
      ]);
      assert.ok(capturedLogLines.some((l) => l.includes('a resize of cut-running from e2-medium to e2-standard-2 was cut off when its daemon stopped; found it TERMINATED on e2-standard-2: started it again')));
      await f.s.db.query(`DELETE FROM gcloud_resizes_in_flight`);
    });

    test('a resize cut off that cannot be looked at now (Google unavailable) is left for the next start, and does not hold the VM meanwhile', async () => {
      f.fake.addInstance('vm-host-4711', ZONE, { name: 'cut-flaky', machineType: 'e2-standard-2', status: 'TERMINATED' });
      const gone = `${hostname()}:999999999:1`;
      await f.s.db.query(
        `INSERT INTO gcloud_resizes_in_flight (project_id, zone, instance, account, from_type, to_type, was_running, started_at, owner) VALUES ('vm-host-4711', $1, 'cut-flaky', 'vm-host', 'e2-medium', 'e2-standard-2', true, $2, $3)`,
        [ZONE, f.s.clock.now(), gone],
      );
      f.fake.failAlways({ status: 503 }, { service: 'compute', method: 'GET', pathIncludes: '/instances/cut-flaky' });
      try {
        await f.s.gcloud.startup();
      } finally {
        f.fake.clearFaults();
      }
      const { rows } = await f.s.db.query<{ owner: string }>("SELECT owner FROM gcloud_resizes_in_flight WHERE instance = 'cut-flaky'");
      assert.deepEqual(rows, [{ owner: gone }], 'still the gone daemon\'s: the next start looks again');
      assert.equal(String(f.fake.instance('vm-host-4711', ZONE, 'cut-flaky')?.status), 'TERMINATED');
      // Nobody runs it, so a resize by hand is not refused as one under way: it takes the VM over.
      const answer = await f.call('gcloud_resize_vm', { project: 'vm-host', zone: ZONE, instanceName: 'cut-flaky', newMachineType: 'e2-medium' });
      assert.deepEqual([answer.to, answer.status], ['e2-medium', 'TERMINATED']);
      assert.deepEqual((await f.s.db.query("SELECT 1 FROM gcloud_resizes_in_flight WHERE instance = 'cut-flaky'")).rows, []);
    });

    test('an expired token is refreshed once and the call succeeds', async () => {
      await f.call('gcloud_get_vm', { project: 'vm-host', zone: ZONE, instanceName: 'expiry' });
      const grants = f.fake.grantCount(alpha.email);
      f.fake.expireAllTokens();
      const answer = await f.call('gcloud_stop_vm', { project: 'vm-host', zone: ZONE, instanceName: 'expiry' });
      assert.equal((answer.vm as Json).status, 'TERMINATED');
      assert.equal(f.fake.grantCount(alpha.email), grants + 1, 'one new token');
      assert.equal(f.fake.calls.filter((c) => c.status === 401).length, 1, 'one 401, then the refreshed token');
    });

    test('a key that cannot reach its project (no role on it, or no such project) is refused naming both, and nothing is stored', async () => {
      f.fake.addServiceAccount({ projectId: 'locked-proj', email: 'owner@locked-proj.iam.gserviceaccount.com' });
      const noRole = f.fake.addServiceAccount({ projectId: 'locked-proj', email: 'norole@locked-proj.iam.gserviceaccount.com', projects: [] });
      const nowhere = f.fake.addServiceAccount({ projectId: 'gone-proj', email: 'orphan@gone-proj.iam.gserviceaccount.com', projects: [] });
      const denied = await assertRejects(
        f.call('gcloud_add_account', { account: 'locked', key: JSON.stringify(noRole.key) }),
        'forbidden',
        /^account locked was not added, nothing was stored: service account norole@locked-proj\.iam\.gserviceaccount\.com cannot reach Google project locked-proj: .*\(HTTP 403 forbidden: Required 'compute\.instances\.list' permission for 'projects\/locked-proj'\); service account \S+ lacks that permission: grant it a role that has it on the project$/,
      );
      assert.deepEqual([denied.details.project, denied.details.field], ['locked-proj', 'key']);
      await assertRejects(
        f.call('gcloud_add_account', { account: 'gone', key: JSON.stringify(nowhere.key) }),
        'not_found',
        /^account gone was not added, nothing was stored: service account orphan@gone-proj\.iam\.gserviceaccount\.com cannot reach Google project gone-proj: .*\(HTTP 404 notFound: The resource 'projects\/gone-proj' was not found\); check project_id in the key \(gone-proj\)$/,
      );
      // The check was a real call with the new key, to the key's project.
      assert.ok(f.apiCalls().some((c) => c.path.endsWith('/projects/locked-proj/aggregated/instances') && c.account === noRole.email));
      const { items } = (await f.call('gcloud_list_accounts', {})) as { items: Json[] };
      assert.deepEqual(items.filter((a) => a.account === 'locked' || a.account === 'gone'), []);
      for (const name of ['locked', 'gone']) await assertRejects(f.call('get_secret', { path: `meta/gcloud/${name}` }), 'not_found');
    });

    test('a new key for an account is for its Google project: one for another project is refused, and nothing changes', async () => {
      const first = f.fake.addServiceAccount({ projectId: 'move-a', email: 'ops@move-a.iam.gserviceaccount.com' });
      await f.call('gcloud_add_account', { account: 'mover', key: JSON.stringify(first.key) });
      const other = f.fake.addServiceAccount({ projectId: 'move-b', email: 'ops@move-b.iam.gserviceaccount.com' });
      await assertRejects(f.call('gcloud_add_account', { account: 'mover', key: JSON.stringify(other.key) }), 'conflict', /^account mover is for Google project move-a, and this key is for move-b; add it under another account name/);
      const { items } = (await f.call('gcloud_list_accounts', {})) as { items: Json[] };
      assert.equal(items.find((a) => a.account === 'mover')?.projectId, 'move-a');
      // A new key for the same project replaces the old one.
      const rotated = f.fake.addServiceAccount({ projectId: 'move-a', email: 'ops2@move-a.iam.gserviceaccount.com' });
      assert.equal(((await f.call('gcloud_add_account', { account: 'mover', key: JSON.stringify(rotated.key) })) as Json).created, false);
      await assertRejects(f.call('gcloud_remove_account', { account: 'mover' }), 'invalid_input', /^confirm: removing account mover cannot be undone/);
      await f.call('gcloud_remove_account', { account: 'mover', confirm: true });
      // An account that is not there is named before any confirmation is asked for.
      await assertRejects(f.call('gcloud_remove_account', { account: 'mover' }), 'not_found', /^no Google Cloud account mover; /);
    });

    test("an account name that is another account's project id, or a key whose project is another account's name, is refused: calls by that id would reach the wrong project", async () => {
      await f.account('cross-a', 'cross-a-proj');
      const b = f.fake.addServiceAccount({ projectId: 'cross-b-proj', email: 'ops@cross-b-proj.iam.gserviceaccount.com' });
      await assertRejects(
        f.call('gcloud_add_account', { account: 'cross-a-proj', key: JSON.stringify(b.key) }),
        'conflict',
        /^cross-a-proj is the Google project of account cross-a: calls naming cross-a-proj would reach the wrong project; add it under another account name$/,
      );
      const named = f.fake.addServiceAccount({ projectId: 'cross-a', email: 'ops@cross-a.iam.gserviceaccount.com' });
      await assertRejects(f.call('gcloud_add_account', { account: 'cross-c', key: JSON.stringify(named.key) }), 'conflict', /^this key's project cross-a is the name of account cross-a \(for cross-a-proj\)/);
      // The name of its own project, or a second account for one project, is fine.
      await f.call('gcloud_add_account', { account: 'cross-b-proj', key: JSON.stringify(b.key) });
      const second = f.fake.addServiceAccount({ projectId: 'cross-a-proj', email: 'ops2@cross-a-proj.iam.gserviceaccount.com' });
      await f.call('gcloud_add_account', { account: 'cross-a2', key: JSON.stringify(second.key) });
      const { items } = (await f.call('gcloud_list_accounts', {})) as { items: Json[] };
      assert.deepEqual(items.filter((a) => String(a.account).startsWith('cross')).map((a) => [a.account, a.projectId]), [['cross-a', 'cross-a-proj'], ['cross-a2', 'cross-a-proj'], ['cross-b-proj', 'cross-b-proj']]);
      for (const account of ['cross-a', 'cross-a2', 'cross-b-proj']) await f.call('gcloud_remove_account', { account, confirm: true });
    });

    test("a key stored again as the account's secret (secrets set) is the one the next call uses, with no time passing", async () => {
      const first = await f.account('swapper', 'swap-p');
      f.fake.addInstance('swap-p', ZONE, { name: 'box', machineType: 'e2-small' });
      await f.call('gcloud_get_vm', { project: 'swapper', zone: ZONE, instanceName: 'box' });
      const second = f.fake.addServiceAccount({ projectId: 'swap-p', email: 'ops2@swap-p.iam.gserviceaccount.com' });
      await f.s.secrets.set(adminPrincipal('test-admin'), { path: 'meta/gcloud/swapper', value: JSON.stringify(second.key) });
      f.fake.revokeKey(first.email);
      await f.call('gcloud_get_vm', { project: 'swapper', zone: ZONE, instanceName: 'box' });
      assert.equal(f.fake.grantCount(second.email), 1, 'a token was granted for the new key');
      // The account shows the key in use, not the one it was added with.
      const listed = ((await f.call('gcloud_list_accounts', {})) as { items: Json[] }).items.find((a) => a.account === 'swapper')!;
      assert.deepEqual([listed.clientEmail, listed.keyId], [second.email, second.key.private_key_id]);
    });

    test("a key written to the account's secret by hand that is unusable, or another project's, is not_configured saying how to put a good one back", async () => {
      await f.account('handset', 'handset-p');
      f.fake.addInstance('handset-p', ZONE, { name: 'box', machineType: 'e2-small' });
      const admin = adminPrincipal('test-admin');
      await f.s.secrets.set(admin, { path: 'meta/gcloud/handset', value: 'oops' });
      const fix = /store the key file again with `?gcloud_add_account`? handset \(it checks the key first\), or put the last good one back with `?rollback_secret`?$/;
      const unusable = await assertRejects(f.call('gcloud_get_vm', { project: 'handset', zone: ZONE, instanceName: 'box' }), 'not_configured', /^secret meta\/gcloud\/handset is not a usable service-account key: the key is not valid JSON/);
      assert.match(unusable.message, fix);
      const other = f.fake.addServiceAccount({ projectId: 'elsewhere-p', email: 'ops@elsewhere-p.iam.gserviceaccount.com' });
      await f.s.secrets.set(admin, { path: 'meta/gcloud/handset', value: JSON.stringify(other.key) });
      const foreign = await assertRejects(f.call('gcloud_get_vm', { project: 'handset', zone: ZONE, instanceName: 'box' }), 'not_configured', /^secret meta\/gcloud\/handset holds a key of project elsewhere-p, but account handset is for project handset-p; add that key as an account of its own/);
      assert.match(foreign.message, fix);
      assert.equal(f.fake.grantCount(other.email), 0, 'no token was asked for with the other project\'s key');
      await f.call('gcloud_remove_account', { account: 'handset', confirm: true });
    });

    test('two keys for different Google projects added under one new name at once: one wins, the other is refused, the stored key is the winner\'s', async () => {
      for (let round = 0; round < 3; round++) {
        const name = `racer-${round}`;
        const keys = ['race-a', 'race-b'].map((projectId) => f.fake.addServiceAccount({ projectId, email: `ops${round}@${projectId}.iam.gserviceaccount.com` }).key);
        const results = await Promise.allSettled(keys.map((key) => f.call('gcloud_add_account', { account: name, key: JSON.stringify(key) })));
        assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected'], JSON.stringify(results));
        const refused = results.find((r) => r.status === 'rejected')!.reason as { code?: string };
        assert.equal(refused.code, 'conflict');
        const { items } = (await f.call('gcloud_list_accounts', {})) as { items: Json[] };
        const listed = items.find((a) => a.account === name)!;
        // The row and the stored key agree: the key in the secret (its description names its service account) is for the listed project.
        const { items: secrets } = (await f.call('list_secrets', { prefix: 'meta/gcloud/' })) as { items: Json[] };
        assert.match(String(secrets.find((s) => s.path === `meta/gcloud/${name}`)?.description), new RegExp(`@${String(listed.projectId)}\\.iam`));
        await f.call('gcloud_remove_account', { account: name, confirm: true });
      }
    });

    test('a revoked key is a clear error naming the account, and the account shows the failure', async () => {
      const { email, key } = f.fake.addServiceAccount({ projectId: 'revoked-proj', email: 'old@revoked-proj.iam.gserviceaccount.com' });
      await f.call('gcloud_add_account', { account: 'revoked', key: JSON.stringify(key) });
      f.fake.addInstance('revoked-proj', ZONE, { name: 'vm' });
      f.fake.revokeKey(email);
      f.fake.expireAllTokens();
      const err = await assertRejects(f.call('gcloud_get_vm', { project: 'revoked', zone: ZONE, instanceName: 'vm' }), 'not_configured');
      assert.match(err.message, /service account old@revoked-proj\.iam\.gserviceaccount\.com/);
      assert.match(err.message, /create a new JSON key for old@revoked-proj\.iam\.gserviceaccount\.com in the Cloud console and store it again with gcloud_add_account revoked <key\.json>$/);
      assert.deepEqual([err.details.account, err.details.serviceAccount], ['revoked', email]);
      const { items } = (await f.call('gcloud_list_accounts', {})) as { items: Json[] };
      const row = items.find((a) => a.account === 'revoked')!;
      assert.match(String(row.lastFailure), /^not_configured: Google refused an access token/);
      // Across the fleet, the other accounts' figures still come back; the revoked one is named.
      for (const op of ['gcloud_cost', 'gcloud_vm_health']) {
        const fleet = (await f.call(op, {})) as { failed: Json[]; accounts?: Json[]; vms?: Json[] };
        assert.deepEqual(fleet.failed.map((x) => [x.account, x.project]), [['revoked', 'revoked-proj']], op);
        assert.match(String(fleet.failed[0]!.error), /^not_configured: Google refused an access token/);
        assert.ok((fleet.accounts ?? fleet.vms ?? []).length > 0, `${op}: the others are there`);
      }
      // A second, working key for the same project is the one the fleet-wide reads use.
      const good = f.fake.addServiceAccount({ projectId: 'revoked-proj', email: 'new@revoked-proj.iam.gserviceaccount.com' });
      await f.call('gcloud_add_account', { account: 'renewed', key: JSON.stringify(good.key) });
      const cost = (await f.call('gcloud_cost', {})) as { failed: Json[]; accounts: Json[] };
      assert.deepEqual(cost.failed, []);
      assert.ok(cost.accounts.some((a) => a.account === 'renewed'));
      await f.call('gcloud_remove_account', { account: 'renewed', confirm: true });
      await f.call('gcloud_remove_account', { account: 'revoked', confirm: true });
      await assertRejects(f.call('get_secret', { path: 'meta/gcloud/revoked' }), 'not_found');
    });

    test('a key that cannot be deleted keeps its account listed, and removing it again finishes the job', async () => {
      const { key } = f.fake.addServiceAccount({ projectId: 'flaky-proj', email: 'ops@flaky-proj.iam.gserviceaccount.com' });
      await f.call('gcloud_add_account', { account: 'flaky', key: JSON.stringify(key) });
      const secrets = f.s.secrets;
      const del = secrets.delete;
      secrets.delete = () => Promise.reject(new SupervisorError('unavailable', 'database not reachable'));
      try {
        await assertRejects(f.call('gcloud_remove_account', { account: 'flaky', confirm: true }), 'unavailable');
      } finally {
        secrets.delete = del;
      }
      const listed = (await f.call('gcloud_list_accounts', {})) as { items: Json[] };
      assert.ok(listed.items.some((a) => a.account === 'flaky'), 'the account is still there to remove');
      await f.call('gcloud_remove_account', { account: 'flaky', confirm: true });
      await assertRejects(f.call('get_secret', { path: 'meta/gcloud/flaky' }), 'not_found');
      await assertRejects(f.call('gcloud_remove_account', { account: 'flaky', confirm: true }), 'not_found', /no Google Cloud account flaky/);
    });

    test('bad input names the field, calls nothing and stores nothing', async () => {
      f.fake.resetCalls();
      const secretsBefore = await f.call('list_secrets', { prefix: 'meta/gcloud/' });
      const cases: Array<[string, Json, RegExp]> = [
        ['gcloud_get_vm', { project: 'vm-host', zone: 'us-central-1', instanceName: 'web' }, /zone: must be a zone such as us-central1-a/],
        ['gcloud_start_vm', { project: 'vm-host', zone: 'mars-north1-a', instanceName: 'web' }, /zone: unknown region mars-north1/],
        ['gcloud_set_autoscale_policy', { project: 'vm-host', zone: ZONE, instanceName: 'web', mode: 'act', ladder: ['e2-small', 'e2-giant'] }, /ladder\.1: e2-giant is not a machine type/],
        ['gcloud_set_autoscale_policy', { project: 'vm-host', zone: ZONE, instanceName: 'web', mode: 'act', rules: { upAveragePercent: 170 } }, /rules\.upAveragePercent: must be from 1 to 100/],
        [
          'gcloud_set_autoscale_policy',
          { project: 'vm-host', zone: ZONE, instanceName: 'web', mode: 'act', rules: { upAveragePercent: 10, downAveragePercent: 50 } },
          /^rules: downAveragePercent 50 must be under upAveragePercent 10 \(defaults fill/,
        ],
        ['gcloud_delete_vm', { project: 'vm-host', zone: ZONE, instanceName: 'web' }, /^confirm: deleting VM web/],
        ['gcloud_remove_account', { account: 'vm-host' }, /^confirm: /],
        ['gcloud_add_account', { account: 'broken', key: '{"type": "service_account", "private_key": "-----BEGIN' }, /key is not a usable service-account key: the key is not valid JSON/],
        ['gcloud_add_account', { account: 'broken', key: JSON.stringify({ ...alpha.key, token_uri: 'http://evil.example.com/token' }) }, /token_uri must be an https URL/],
        ['gcloud_add_account', { account: 'Bad Name', key: '{}' }, /account: must be 1-40 lowercase/],
      ];
      for (const [op, input, message] of cases) await assertRejects(f.call(op, input), 'invalid_input', message);
      assert.deepEqual(f.fake.calls, [], 'no Google API (or token) call');
      assert.deepEqual(await f.call('list_secrets', { prefix: 'meta/gcloud/' }), secretsBefore);
      assert.deepEqual(((await f.call('gcloud_get_autoscale_policy', {})) as { items: unknown[] }).items, []);
      assert.ok(!((await f.call('gcloud_list_accounts', {})) as { items: Json[] }).items.some((a) => a.account === 'broken'));
    });

    test('a VM is attached to a supervisor project, shown on the VM, and goes with the project', async () => {
      await f.call('add_project', { project: 'consilio' });
      const attached = await f.call('gcloud_attach_vm', { project: 'openhorizon', zone: ZONE, instanceName: 'web', attachTo: 'consilio' });
      assert.deepEqual([attached.attachedTo, attached.changed], ['consilio', true]);
      assert.equal((await f.call('gcloud_get_vm', { project: 'openhorizon', zone: ZONE, instanceName: 'web' })).attachedTo, 'consilio');
      assert.deepEqual((await f.s.gcloud.vmsOf('consilio')).map((a) => a.name), ['web']);
      await assertRejects(f.call('remove_project', { project: 'consilio' }), 'conflict', /vm openhorizon-prod\/us-central1-a\/web/);
      await assertRejects(f.call('gcloud_attach_vm', { project: 'openhorizon', zone: ZONE, instanceName: 'web', attachTo: 'nosuch' }), 'not_found');
      await f.call('remove_project', { project: 'consilio', force: true });
      assert.equal((await f.call('gcloud_get_vm', { project: 'openhorizon', zone: ZONE, instanceName: 'web' })).attachedTo, null);
    });

    test('a VM deleted in the console: it can be detached, and vm delete removes what is kept for it here', async () => {
      await f.call('add_project', { project: 'ghosts' });
      f.fake.addInstance('openhorizon-prod', ZONE, { name: 'ghost-1', machineType: 'e2-small' });
      f.fake.addInstance('openhorizon-prod', ZONE, { name: 'ghost-2', machineType: 'e2-small' });
      for (const name of ['ghost-1', 'ghost-2']) {
        await f.call('gcloud_attach_vm', { project: 'openhorizon', zone: ZONE, instanceName: name, attachTo: 'ghosts' });
        f.fake.removeInstance('openhorizon-prod', ZONE, name);
      }
      const detached = await f.call('gcloud_attach_vm', { project: 'openhorizon', zone: ZONE, instanceName: 'ghost-1', attachTo: null });
      assert.deepEqual([detached.attachedTo, detached.changed], [null, true]);
      await assertRejects(
        f.call('gcloud_delete_vm', { project: 'openhorizon', zone: ZONE, instanceName: 'ghost-2', confirm: true }),
        'not_found',
        /; the VM is gone already, so its attachment here was removed$/,
      );
      assert.deepEqual(await f.s.gcloud.vmsOf('ghosts'), []);
      await f.call('remove_project', { project: 'ghosts' });
    });

    test('create with dryRun: what Google would refuse is refused by the plan, and nothing is created', async () => {
      const plan = { project: 'openhorizon', zone: ZONE, machineType: 'e2-small', dryRun: true };
      const ok = await f.call('gcloud_create_vm', { ...plan, instanceName: 'planned' });
      assert.deepEqual([ok.dryRun, ok.vm], [true, null]);
      await assertRejects(f.call('gcloud_create_vm', { ...plan, instanceName: 'web' }), 'conflict', /^a VM named web already exists in us-central1-a \(RUNNING, e2-standard-2\); choose another name/);
      await assertRejects(f.call('gcloud_create_vm', { ...plan, instanceName: 'planned', machineType: 'e2-bogus' }), 'invalid_input', /^machineType: e2-bogus is not offered in us-central1-a/);
      await assertRejects(f.call('gcloud_create_vm', { ...plan, instanceName: 'planned', labels: { Env: 'Prod' } }), 'invalid_input', /labels\.Env: a label key is 1-63 lowercase letters/);
      await assertRejects(f.call('gcloud_create_vm', { ...plan, instanceName: 'planned', labels: { env: 'Prod' } }), 'invalid_input', /labels\.env: a label value is at most 63 lowercase/);
      assert.equal(f.fake.instance('openhorizon-prod', ZONE, 'planned'), undefined);
    });

    test('create and delete: the new VM with its cost; delete needs confirm and waits', async () => {
      const created = await f.call('gcloud_create_vm', { project: 'openhorizon', zone: ZONE, instanceName: 'api', machineType: 'e2-small', diskSizeGb: 20, labels: { team: 'ops' }, startupScript: 'echo hi' });
      assert.deepEqual([(created.vm as Json).status, (created.vm as Json).machineType, (created.vm as Json).labels], ['RUNNING', 'e2-small', { team: 'ops' }]);
      // Created with an external address (the default access config): $0.005 an hour while it runs.
      assert.deepEqual([(created.cost as Json).externalIpUsd, (created.cost as Json).totalUsd], [3.65, Math.round((0.01675 * 730 + 20 * 0.1 + 3.65) * 100) / 100]);
      const listed = (await f.call('gcloud_cost', { project: 'openhorizon' })) as { accounts: Array<{ vms: Json[] }> };
      assert.equal((listed.accounts[0]!.vms.find((v) => v.name === 'api')!.cost as Json).externalIpUsd, 3.65, 'a listed VM with an access config pays for its address');
      const deleted = await f.call('gcloud_delete_vm', { project: 'openhorizon', zone: ZONE, instanceName: 'api', confirm: true });
      assert.equal(deleted.deleted, true);
      assert.equal(f.fake.instance('openhorizon-prod', ZONE, 'api'), undefined);
    });

    test('a type the price table lacks: the plan says to pick a listed one; once created, the answer says the VM has no figure and the total leaves it out', async () => {
      const input = { project: 'openhorizon', zone: ZONE, instanceName: 'roomy', machineType: 'e2-highmem-2' };
      const reason = 'no price for e2-highmem-2 in us-central1 in price table 2025-01-gcp-on-demand-list (the dated table this version ships)';
      const plan = await f.call('gcloud_create_vm', { ...input, dryRun: true });
      assert.deepEqual([plan.cost, plan.note], [null, `${reason}; pick a type the table lists for a figure`]);
      const created = await f.call('gcloud_create_vm', input);
      assert.equal((created.vm as Json).machineType, 'e2-highmem-2');
      assert.deepEqual([created.cost, created.note], [null, `${reason}, so roomy has no cost figure: gcloud_cost names it under leftOut, outside its total`]);
      // What the note says holds.
      const cost = (await f.call('gcloud_cost', { project: 'openhorizon' })) as { leftOut: Json[] };
      assert.deepEqual(cost.leftOut.map((v) => [v.name, v.reason]), [['roomy', reason]]);
      // A type with a price: a figure and no note, before and after.
      const small = { ...input, instanceName: 'tidy', machineType: 'e2-small' };
      const [planned, made] = [await f.call('gcloud_create_vm', { ...small, dryRun: true }), await f.call('gcloud_create_vm', small)];
      assert.deepEqual([(planned.cost as Json).totalUsd, planned.note, (made.cost as Json).totalUsd, made.note], [(made.cost as Json).totalUsd, undefined, Math.round((0.01675 * 730 + 10 * 0.1 + 3.65) * 100) / 100, undefined]);
      for (const name of ['roomy', 'tidy']) await f.call('gcloud_delete_vm', { project: 'openhorizon', zone: ZONE, instanceName: name, confirm: true });
    });

    test('a VM created without a public address has none and pays nothing for one; stopped, an address costs nothing either', async () => {
      const created = await f.call('gcloud_create_vm', { project: 'openhorizon', zone: ZONE, instanceName: 'inner', machineType: 'e2-small', externalIp: false });
      assert.equal((created.vm as Json).externalIp, undefined);
      assert.deepEqual([(created.cost as Json).externalIpUsd, (created.cost as Json).totalUsd], [0, Math.round((0.01675 * 730 + 10 * 0.1) * 100) / 100]);
      const outside = await f.call('gcloud_create_vm', { project: 'openhorizon', zone: ZONE, instanceName: 'outside', machineType: 'e2-small' });
      assert.match(String((outside.vm as Json).externalIp), /^34\./);
      await f.call('gcloud_stop_vm', { project: 'openhorizon', zone: ZONE, instanceName: 'outside' });
      const cost = (await f.call('gcloud_cost', { project: 'openhorizon' })) as { accounts: Array<{ vms: Json[] }> };
      const stopped = cost.accounts[0]!.vms.find((v) => v.name === 'outside')!;
      assert.deepEqual([(stopped.cost as Json).externalIpUsd, stopped.monthlyUsd], [0, 1], 'its ephemeral address is released while it is stopped');
      for (const name of ['inner', 'outside']) await f.call('gcloud_delete_vm', { project: 'openhorizon', zone: ZONE, instanceName: name, confirm: true });
    });

    test('cost per VM and per account from the dated price table', async () => {
      const cost = (await f.call('gcloud_cost', {})) as { accounts: Array<{ account: string; monthlyUsd: number; vms: Array<{ name: string; monthlyUsd: number | null }> }>; monthlyUsd: number; asOf: string };
      assert.equal(cost.asOf, '2025-01-01');
      const host = cost.accounts.find((a) => a.account === 'vm-host')!;
      assert.equal(host.monthlyUsd, Math.round(host.vms.reduce((n, v) => n + (v.monthlyUsd ?? 0), 0) * 100) / 100);
      assert.equal(cost.monthlyUsd, Math.round(cost.accounts.reduce((n, a) => n + a.monthlyUsd, 0) * 100) / 100);
      const eu = host.vms.find((v) => v.name === 'eu-worker')!;
      assert.equal(eu.monthlyUsd, Math.round((Math.round(0.01675 * 1.1 * 1e5) / 1e5) * 730 * 100 + 10 * 0.1 * 100) / 100);
    });

    test('VMs the total leaves out (a type with no price) are named beside it, with the reason', async () => {
      await f.account('pricey', 'pricey-proj');
      f.fake.addInstance('pricey-proj', ZONE, { name: 'big', machineType: 'e2-highmem-2' });
      f.fake.addInstance('pricey-proj', ZONE, { name: 'small', machineType: 'e2-medium' });
      const cost = (await f.call('gcloud_cost', { project: 'pricey' })) as { monthlyUsd: number; leftOut: Json[]; accounts: Array<{ unpriced: number; vms: Json[] }> };
      assert.deepEqual(cost.leftOut.map((v) => [v.account, v.zone, v.name, v.machineType]), [['pricey', ZONE, 'big', 'e2-highmem-2']]);
      assert.match(String(cost.leftOut[0]!.reason), /^no price for e2-highmem-2 in us-central1 in price table 2025-01-gcp-on-demand-list/);
      // The reason is said once, there: the VM's own entry has no figure and no note repeating it.
      const big = cost.accounts[0]!.vms.find((v) => v.name === 'big')!;
      assert.deepEqual([big.monthlyUsd, big.cost, big.note], [null, null, undefined]);
      assert.equal(cost.accounts[0]!.unpriced, 1);
      assert.equal(cost.monthlyUsd, cost.accounts[0]!.vms.find((v) => v.name === 'small')!.monthlyUsd, 'the total is the priced VM alone');
      await f.call('gcloud_remove_account', { account: 'pricey', confirm: true });
    });

    test('a VM stopping or suspended costs its disk only; a suspended one is noted for its preserved memory', async () => {
      for (const [name, status] of [['winding-down', 'STOPPING'], ['asleep', 'SUSPENDED'], ['waking', 'STAGING']] as const) {
        f.fake.addInstance('openhorizon-prod', 'europe-west1-b', { name, machineType: 'e2-medium', status });
      }
      const cost = (await f.call('gcloud_cost', { project: 'openhorizon' })) as { accounts: Array<{ vms: Json[] }> };
      const vm = (name: string) => cost.accounts[0]!.vms.find((v) => v.name === name)!;
      const disk = 10 * 0.1;
      assert.deepEqual([vm('winding-down').monthlyUsd, vm('winding-down').note], [disk, undefined]);
      assert.equal(vm('asleep').monthlyUsd, disk);
      assert.match(String(vm('asleep').note), /^SUSPENDED: its preserved memory is billed as well, not counted here$/);
      assert.ok((vm('waking').monthlyUsd as number) > 20, 'a VM on its way up is billed as running');
    });
  });
}

for (const backend of testBackends()) {
  describe(`gcloud with no account stored [${backend}]`, { skip: await skipReason(backend) }, () => {
    let f: DomainFixture;
    before(async () => {
      f = await openDomain(backend);
    });
    after(() => f?.close());

    test('health and cost of every account say there is none and how to add one, instead of an empty answer', async () => {
      for (const [tool, input] of [['gcloud_vm_health', {}], ['gcloud_cost', {}]] as const) {
        await assertRejects(f.call(tool, input), 'not_configured', /^no Google Cloud account is stored yet, so there is nothing to look in; add one with gcloud_add_account/);
      }
    });
  });
}
