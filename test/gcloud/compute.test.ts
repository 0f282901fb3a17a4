// ComputeClient — Google's @googleapis/compute under our token provider — against the fake:
// two accounts each in its own project, pagination, mutations waited to DONE, requestId on
// retries, 401 refresh, quota errors, and no key or token in any error or log line.
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SupervisorError } from '../../src/core/errors.js';
import type { OperationProgress } from '../../src/gcloud/compute.js';
import { quotaExceeded } from '../fakes/gcloud/index.js';
import { ALPHA, BETA, openGoogle, ZONE, type GoogleFixture } from './fixture.js';
import { assertNoSecrets, errorTexts, refusals } from './secrets.js';

const IMAGE = 'projects/debian-cloud/global/images/family/debian-12';
let g: GoogleFixture;
const seen: SupervisorError[] = [];
const expectRefusal = refusals(seen);
const ref = (name: string, project = ALPHA, zone = ZONE) => ({ project, zone, name });

before(async () => {
  g = await openGoogle();
  for (const name of ['a-1', 'a-2', 'a-3', 'a-4', 'a-5']) g.fake.addInstance(ALPHA, ZONE, { name });
  g.fake.addInstance(ALPHA, 'europe-west1-b', { name: 'a-eu', machineType: 'n2-standard-2' });
  g.fake.addInstance(BETA, ZONE, { name: 'b-1', machineType: 'e2-small', labels: { team: 'beta' } });
  g.fake.addInstance(BETA, 'us-east1-b', { name: 'b-2', status: 'TERMINATED' });
});

afterEach(() => {
  g.fake.clearFaults();
  g.fake.resetCalls();
});

after(async () => {
  assertNoSecrets([...errorTexts(seen), ...g.logs], [g.alpha.key, g.beta.key], g.fake.issuedTokens());
  await g.close();
});

describe('two accounts', () => {
  test('each account lists its own project, and every call carries that account\'s token for that project', async () => {
    const alpha = await g.compute(g.alpha).list(ALPHA);
    const beta = await g.compute(g.beta).list(BETA);
    assert.deepEqual(alpha.map((v) => v.name).sort(), ['a-1', 'a-2', 'a-3', 'a-4', 'a-5', 'a-eu']);
    assert.deepEqual(beta.map((v) => `${v.zone}/${v.name}/${v.status}/${v.machineType}`).sort(), ['us-central1-a/b-1/RUNNING/e2-small', 'us-east1-b/b-2/TERMINATED/e2-medium']);
    assert.deepEqual(beta.find((v) => v.name === 'b-1')?.labels, { team: 'beta' });
    const apiCalls = g.fake.calls.filter((c) => c.service === 'compute');
    assert.ok(apiCalls.length >= 2);
    for (const c of apiCalls) {
      assert.equal(c.account, c.project === ALPHA ? g.alpha.email : g.beta.email, `${c.path} went with the wrong account`);
      assert.equal(c.status, 200);
    }
  });

  test('a project that has not enabled the Compute Engine API is told to enable it, not to grant a role', async () => {
    const { key } = g.fake.addServiceAccount({ projectId: 'new-project', email: `deployer@new-project.iam.gserviceaccount.com` });
    g.fake.disableApi('new-project', 'compute');
    const err = await expectRefusal(g.compute({ email: 'deployer@new-project.iam.gserviceaccount.com', key, tokens: g.tokensFor(key) }).list('new-project'), 'forbidden', /accessNotConfigured: Compute Engine API has not been used in project new-project/);
    assert.match(err.message, /the API is not enabled in that project: enable it/);
    assert.doesNotMatch(err.message, /lacks that permission/);
  });

  test("an account used on the other's project is refused, naming the account", async () => {
    const err = await expectRefusal(g.compute(g.alpha).get(ref('b-1', BETA)), 'forbidden', /Required 'compute\.instances\.get' permission for 'projects\/beta-project'/);
    assert.match(err.message, /service account deployer@alpha-project\.iam\.gserviceaccount\.com lacks that permission/);
  });
});

describe('reads', () => {
  test('zone and aggregated lists follow nextPageToken to the end', async () => {
    const client = g.compute(g.alpha, { pageSize: 2 });
    assert.equal((await client.list(ALPHA, ZONE)).length, 5);
    const lists = g.fake.calls.filter((c) => c.path.endsWith('/instances') && c.method === 'GET');
    assert.deepEqual(lists.map((c) => [c.query.maxResults, Boolean(c.query.pageToken)]), [['2', false], ['2', true], ['2', true]]);
    g.fake.resetCalls();
    const all = await client.list(ALPHA);
    assert.equal(all.length, 6);
    assert.equal(all.find((v) => v.name === 'a-eu')?.zone, 'europe-west1-b');
    assert.equal(g.fake.calls.filter((c) => c.path.includes('/aggregated/instances')).length, 3);
  });

  test('get maps the instance to short names; an unknown one is not_found with its path', async () => {
    const vm = await g.compute(g.alpha).get(ref('a-eu', ALPHA, 'europe-west1-b'));
    assert.equal(vm.machineType, 'n2-standard-2');
    assert.equal(vm.zone, 'europe-west1-b');
    assert.match(vm.id, /^\d+$/);
    assert.equal(vm.bootDiskGb, 10);
    await expectRefusal(g.compute(g.alpha).get(ref('ghost')), 'not_found', /projects\/alpha-project\/zones\/us-central1-a\/instances\/ghost' was not found/);
  });
  test('machine types are looked up per zone', async () => {
    assert.deepEqual(await g.compute(g.alpha).machineType(ALPHA, ZONE, 'e2-standard-4'), { name: 'e2-standard-4', guestCpus: 4, memoryMb: 16384, sharedCpu: false });
    await expectRefusal(g.compute(g.alpha).machineType(ALPHA, ZONE, 'e2-giant-64'), 'not_found', /machineTypes\/e2-giant-64' was not found/);
  });
});

describe('mutations', () => {
  test('insert sends the full body, waits for DONE and reports progress', async () => {
    const seenProgress: OperationProgress[] = [];
    const outcome = await g.compute(g.alpha).insert(
      { ...ref('api-1'), machineType: 'e2-standard-2', image: IMAGE, diskSizeGb: 30, labels: { app: 'api' }, startupScript: '#!/bin/sh\necho ready' },
      { onProgress: (p) => seenProgress.push(p) },
    );
    assert.equal(outcome.type, 'insert');
    assert.match(outcome.requestId, /^[0-9a-f-]{36}$/);
    const order = ['PENDING', 'RUNNING', 'DONE'];
    const statuses = seenProgress.map((p) => order.indexOf(p.status));
    assert.deepEqual(statuses, [...statuses].sort(), 'progress only moves forward');
    assert.equal(seenProgress.at(-1)?.status, 'DONE');
    assert.equal(seenProgress[0]?.target, 'projects/alpha-project/zones/us-central1-a/instances/api-1');
    const post = g.fake.calls.find((c) => c.method === 'POST' && c.path.endsWith('/instances'));
    assert.equal(post?.query.requestId, outcome.requestId);
    const body = post?.body as { machineType: string; disks: Array<{ initializeParams: { diskSizeGb: string } }>; metadata: { items: unknown[] } };
    assert.equal(body.machineType, 'zones/us-central1-a/machineTypes/e2-standard-2');
    assert.equal(body.disks[0]?.initializeParams.diskSizeGb, '30');
    assert.deepEqual(body.metadata.items, [{ key: 'startup-script', value: '#!/bin/sh\necho ready' }]);
    const vm = await g.compute(g.alpha).get(ref('api-1'));
    assert.deepEqual([vm.status, vm.machineType, vm.bootDiskGb, vm.labels.app], ['RUNNING', 'e2-standard-2', 30, 'api']);
    assert.ok(vm.externalIp, 'an external address by default');
    await expectRefusal(g.compute(g.alpha).insert({ ...ref('api-1'), machineType: 'e2-small', image: IMAGE, diskSizeGb: 10 }), 'conflict', /already exists/);
  });

  test('stop, start and delete move the VM through its states', async () => {
    const c = g.compute(g.alpha);
    await c.stop(ref('a-5'));
    assert.equal((await c.get(ref('a-5'))).status, 'TERMINATED');
    await c.start(ref('a-5'));
    assert.equal((await c.get(ref('a-5'))).status, 'RUNNING');
    await c.delete(ref('a-5'));
    await expectRefusal(c.get(ref('a-5')), 'not_found');
  });

  test('setMachineType on a running VM is refused with the API\'s reason', async () => {
    await expectRefusal(g.compute(g.alpha).setMachineType(ref('a-4'), 'e2-standard-4'), 'invalid_input', /invalidResourceUsage: Invalid resource usage: 'Instance should be in the STOPPED state\.'/);
  });

  test('a mutation retried after a lost answer reuses its requestId, so it happens once', async () => {
    g.fake.failNext(1, { status: 503, afterApply: true }, { service: 'compute', method: 'POST', pathIncludes: '/instances' });
    const before = g.sleeps.length;
    const outcome = await g.compute(g.alpha).insert({ ...ref('api-2'), machineType: 'e2-small', image: IMAGE, diskSizeGb: 10 });
    const posts = g.fake.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/instances'));
    assert.deepEqual(posts.map((c) => [c.status, c.query.requestId]), [[503, outcome.requestId], [200, outcome.requestId]]);
    assert.equal(g.fake.operations().filter((o) => o.instance === 'api-2' && o.type === 'insert').length, 1);
    assert.equal(g.sleeps.length, before + 1, 'one backoff wait, recorded rather than slept');
  });

  test('429 and 503 are retried; a persistent 503 becomes unavailable after the retries', async () => {
    g.fake.failNext(2, { status: 429 }, { service: 'compute' });
    assert.equal((await g.compute(g.alpha).get(ref('a-1'))).name, 'a-1');
    g.fake.failAlways({ status: 503 }, { service: 'compute' });
    const err = await expectRefusal(g.compute(g.alpha, { maxRetries: 2 }).get(ref('a-1')), 'unavailable', /failed after 3 attempts \(HTTP 503 backendError/);
    assert.equal(err.details.retries, 2);
  });

  test('Compute Engine not answering at all (connection refused) is unavailable after the retries, not an internal error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const err = await expectRefusal(g.compute(g.alpha, { rootUrl: `http://127.0.0.1:${port}/`, maxRetries: 1 }).get(ref('a-1')), 'unavailable', /failed after 2 attempts \(no answer: network error: ECONNREFUSED\)/);
    assert.equal(err.details.retries, 1);
  });

  test('a quota error on the operation is surfaced, and the VM is not created', async () => {
    g.fake.failOperations({ operationType: 'insert', project: ALPHA }, quotaExceeded('CPUS', 8, 'us-central1'));
    const err = await expectRefusal(
      g.compute(g.alpha).insert({ ...ref('huge-1'), machineType: 'n2-standard-16', image: IMAGE, diskSizeGb: 10 }),
      'forbidden',
      /insert of projects\/alpha-project\/zones\/us-central1-a\/instances\/huge-1 failed: QUOTA_EXCEEDED: Quota 'CPUS' exceeded\. {2}Limit: 8\.0 in region us-central1\. \(the project's quota for it is used up: free some \(stop, shrink or delete VMs\) or ask for more on the Cloud console's Quotas page\)$/,
    );
    assert.deepEqual((err.details.errors as Array<{ code: string }>).map((e) => e.code), ['QUOTA_EXCEEDED']);
    assert.equal(g.fake.instance(ALPHA, ZONE, 'huge-1'), undefined);
  });

  test('a wait Google holds open is cut at the deadline, not two minutes later', { timeout: 30_000 }, async () => {
    // Google holds operations.wait up to 2 minutes; a 300 ms deadline must not sit through that.
    const slow = await openGoogle({ operationTiming: { pendingMs: 600_000 }, waitDeadlineMs: 120_000 });
    try {
      const account = slow.alpha;
      slow.fake.addInstance(ALPHA, ZONE, { name: 'held' });
      const err = await expectRefusal(slow.compute(account).stop(ref('held'), { timeoutMs: 300 }), 'unavailable', /stop of projects\/alpha-project\/zones\/us-central1-a\/instances\/held is still PENDING after 0 s/);
      assert.match(String(err.details.operation), /^operation-/);
      assert.ok(slow.fake.calls.some((c) => c.path.endsWith('/wait')), 'the wait was called');
    } finally {
      await slow.close();
    }
  });

  test('a change asked for while another is under way is a conflict saying to wait, not bad input', async () => {
    const slow = await openGoogle({ operationTiming: { pendingMs: 600_000 } });
    try {
      slow.fake.addInstance(ALPHA, ZONE, { name: 'changing' });
      await expectRefusal(slow.compute(slow.alpha).stop(ref('changing'), { timeoutMs: 0 }), 'unavailable', /is still PENDING/);
      const err = await expectRefusal(slow.compute(slow.alpha).start(ref('changing')), 'conflict', /resourceNotReady/);
      assert.match(err.message, /; another change of it is under way \(a stop, start or resize, maybe by the auto-scaler\): try again once it has settled \(gcloud_get_vm shows its status\)$/);
    } finally {
      await slow.close();
    }
  });

  test('an operation not DONE by the deadline is reported as such, with its name', async () => {
    const err = await expectRefusal(g.compute(g.alpha).stop(ref('a-3'), { timeoutMs: 0 }), 'unavailable', /stop of projects\/alpha-project\/zones\/us-central1-a\/instances\/a-3 is still PENDING/);
    assert.match(String(err.details.operation), /^operation-/);
    // What to do names something the caller can run (the CLI shows it as `supervisor vm get`).
    assert.match(err.message, /: read the VM again \(gcloud_get_vm\) before retrying$/);
    assert.equal(err.details.unfinished, true);
  });
});

describe('tokens during a run', () => {
  test('a token that expires mid-run is refreshed once and the call succeeds', async () => {
    const c = g.compute(g.beta);
    await c.get(ref('b-1', BETA));
    const grants = g.fake.grantCount(g.beta.email);
    g.fake.expireAllTokens();
    g.fake.resetCalls();
    assert.equal((await c.get(ref('b-1', BETA))).name, 'b-1');
    assert.deepEqual(g.fake.calls.map((call) => `${call.service} ${call.status}`), ['compute 401', 'oauth 200', 'compute 200']);
    assert.equal(g.fake.grantCount(g.beta.email), grants + 1);
    assert.ok(g.logs.some((l) => l.includes('refreshing the access token once')));
  });

  test('a 401 that survives the refresh is not_configured after exactly one refresh', async () => {
    // Tokens that are dead on arrival: every API call with one is refused.
    const dead = await openGoogle({ tokenLifetimeSeconds: 0 });
    try {
      dead.fake.addInstance(ALPHA, ZONE, { name: 'a-1' });
      const err = await expectRefusal(dead.compute(dead.alpha).get(ref('a-1')), 'not_configured', /Google did not accept a fresh token for service account deployer@alpha-project/);
      assert.deepEqual(dead.fake.calls.map((c) => `${c.service} ${c.status}`), ['oauth 200', 'compute 401', 'oauth 200', 'compute 401']);
      assert.equal(err.details.status, 401);
      assertNoSecrets([...errorTexts([err]), ...dead.logs], [dead.alpha.key], dead.fake.issuedTokens());
    } finally {
      await dead.close();
    }
  });

  test('a revoked key surfaces as a clear error naming the account', async () => {
    const { email, key } = g.fake.addServiceAccount({ projectId: ALPHA, email: `doomed@${ALPHA}.iam.gserviceaccount.com` });
    const account = { email, key, tokens: g.tokensFor(key) };
    const c = g.compute(account);
    await c.get(ref('a-1'));
    g.fake.revokeKey(email);
    g.fake.expireAllTokens();
    const err = await expectRefusal(c.get(ref('a-1')), 'not_configured', /Google refused an access token for service account doomed@alpha-project\.iam\.gserviceaccount\.com: invalid_grant/);
    assert.doesNotMatch(err.message, /BEGIN/);
  });
});
