// Wire checks of the fake Compute Engine over plain HTTP: it must refuse whatever Google
// refuses (paths, bodies, parameters, tokens, states), and move operations and instances
// through their states over time. The fake's clock is moved by hand, so no check is timed.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/core/clock.js';
import { ServiceAccountTokenSource } from '../../src/gcloud/auth.js';
import { parseServiceAccountKey } from '../../src/gcloud/key.js';
import { quotaExceeded, startFakeGoogle, type FakeGoogle } from '../fakes/gcloud/index.js';

const P = 'alpha-project';
const Z = 'us-central1-a';
const RID = '6f1c2a9e-0d3b-4c5e-9a7f-2b8d4e6c1a00';

let fake: FakeGoogle;
let clock: ManualClock;
let token: string;
let betaToken: string;

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  body: { error?: { code: number; message: string; errors?: Array<{ reason: string; domain: string; message: string }>; status: string } } & Record<string, unknown>;
}

async function call(method: string, path: string, opts: { body?: unknown; raw?: string; auth?: string | null } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  const auth = opts.auth === undefined ? token : opts.auth;
  if (auth !== null) headers.Authorization = `Bearer ${auth}`;
  const body = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${fake.computeRootUrl}compute/v1/${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: Reply['body'] = {};
  try {
    parsed = JSON.parse(text) as Reply['body'];
  } catch {
    // HTML answers stay text
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

const vm = (name: string) => `projects/${P}/zones/${Z}/instances/${name}`;
const reason = (r: Reply) => r.body.error?.errors?.[0]?.reason;

const insertBody = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  machineType: `zones/${Z}/machineTypes/e2-small`,
  disks: [{ boot: true, autoDelete: true, initializeParams: { sourceImage: 'projects/debian-cloud/global/images/family/debian-12', diskSizeGb: '20' } }],
  networkInterfaces: [{ network: 'global/networks/default' }],
  ...extra,
});

before(async () => {
  clock = new ManualClock(new Date());
  fake = await startFakeGoogle({ now: () => clock.now().getTime() });
  const alpha = fake.addServiceAccount({ projectId: P });
  const beta = fake.addServiceAccount({ projectId: 'beta-project' });
  const clockOpt = { clock };
  token = await new ServiceAccountTokenSource(parseServiceAccountKey(alpha.key), clockOpt).token();
  betaToken = await new ServiceAccountTokenSource(parseServiceAccountKey(beta.key), clockOpt).token();
  for (const name of ['web-1', 'web-2', 'db-1']) fake.addInstance(P, Z, { name });
  fake.addInstance(P, Z, { name: 'cold-1', status: 'TERMINATED' });
});

after(() => fake.close());

describe('routing and authentication', () => {
  test('unknown paths, and known paths with the wrong method, get the front end HTML 404', async () => {
    for (const [method, path] of [
      ['GET', `projects/${P}/zones/${Z}/instance`],
      ['GET', `projects/${P}/instances`],
      ['PUT', vm('web-1')],
      ['GET', `${vm('web-1')}/stop`],
      ['POST', `${vm('web-1')}/resize`],
    ] as const) {
      const r = await call(method, path);
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.match(r.headers.get('content-type') ?? '', /text\/html/);
    }
  });

  test('no token, or one the OAuth server never issued, is 401 with the auth envelope', async () => {
    for (const auth of [null, 'ya29.made-up']) {
      const r = await call('GET', vm('web-1'), { auth });
      assert.equal(r.status, 401);
      assert.equal(r.body.error?.status, 'UNAUTHENTICATED');
      assert.deepEqual(r.body.error?.errors?.[0], { message: r.body.error?.message, domain: 'global', reason: 'authError', location: 'Authorization', locationType: 'header' });
      assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
    }
  });

  test("another project's account is refused with the permission it lacks", async () => {
    const r = await call('GET', vm('web-1'), { auth: betaToken });
    assert.equal(r.status, 403);
    assert.equal(reason(r), 'forbidden');
    assert.equal(r.body.error?.message, `Required 'compute.instances.get' permission for 'projects/${P}'`);
  });

  test('a project that does not exist is 404 notFound, in the same envelope', async () => {
    const r = await call('GET', 'projects/no-such-project/aggregated/instances?maxResults=1');
    assert.equal(r.status, 404);
    assert.equal(r.body.error?.status, 'NOT_FOUND');
    assert.deepEqual(r.body.error?.errors?.[0], { message: "The resource 'projects/no-such-project' was not found", domain: 'global', reason: 'notFound' });
  });

  test('unknown query parameters, zones and malformed names are refused, not ignored', async () => {
    assert.equal((await call('GET', `projects/${P}/zones/${Z}/instances?max_results=5`)).status, 400);
    assert.equal((await call('GET', `projects/${P}/zones/mars-1a/instances`)).status, 400);
    assert.equal((await call('GET', `projects/${P}/zones/${Z}/instances/Web_1`)).status, 400);
    assert.equal((await call('GET', `projects/${P}/zones/${Z}/instances?maxResults=501`)).status, 400);
    assert.equal((await call('GET', `projects/${P}/zones/${Z}/instances?pageToken=bogus`)).status, 400);
  });
});

describe('instances', () => {
  test('get of an unknown instance is 404 notFound in the classic envelope', async () => {
    const r = await call('GET', vm('nope'));
    assert.equal(r.status, 404);
    assert.deepEqual(r.body, {
      error: {
        code: 404,
        message: `The resource '${vm('nope')}' was not found`,
        errors: [{ message: `The resource '${vm('nope')}' was not found`, domain: 'global', reason: 'notFound' }],
        status: 'NOT_FOUND',
      },
    });
  });

  test('lists page with maxResults and nextPageToken; aggregated lists carry every zone as a scope', async () => {
    const first = await call('GET', `projects/${P}/zones/${Z}/instances?maxResults=3`);
    assert.equal(first.body.kind, 'compute#instanceList');
    assert.equal((first.body.items as unknown[]).length, 3);
    const second = await call('GET', `projects/${P}/zones/${Z}/instances?maxResults=3&pageToken=${String(first.body.nextPageToken)}`);
    assert.equal((second.body.items as unknown[]).length, 1);
    assert.equal(second.body.nextPageToken, undefined);
    const agg = await call('GET', `projects/${P}/aggregated/instances`);
    const items = agg.body.items as Record<string, { instances?: unknown[]; warning?: { code: string } }>;
    assert.equal(items[`zones/${Z}`]?.instances?.length, 4);
    assert.equal(items['zones/europe-west1-b']?.warning?.code, 'NO_RESULTS_ON_PAGE');
    const empty = await call('GET', `projects/${P}/zones/us-east1-b/instances`);
    assert.equal(empty.body.items, undefined, 'an empty list has no items field');
  });

  test('insert checks the body as the API does', async () => {
    const path = `projects/${P}/zones/${Z}/instances`;
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [insertBody('Bad_Name'), /resource\.name/],
      [insertBody('x1', { machineType: 'e2-small' }), /Invalid machine type URL/],
      [insertBody('x1', { machineType: 'zones/us-east1-b/machineTypes/e2-small' }), /same zone/],
      [insertBody('x1', { machineType: `zones/${Z}/machineTypes/e2-giant` }), /does not exist in zone/],
      [insertBody('x1', { disks: [] }), /Boot disk must be specified/],
      [insertBody('x1', { disks: [{ boot: true, initializeParams: { sourceImage: 'debian-12', diskSizeGb: '20' } }] }), /sourceImage/],
      [insertBody('x1', { disks: [{ boot: true, initializeParams: { sourceImage: 'projects/debian-cloud/global/images/family/debian-12', diskSizeGb: '5' } }] }), /smaller than the image size/],
      [insertBody('x1', { networkInterfaces: [] }), /network interface/],
      [insertBody('x1', { labels: { App: 'x' } }), /resource\.labels/],
      [insertBody('x1', { metadata: { items: [{ key: 'startup script', value: 'x' }] } }), /metadata\.items\[0\]\.key/],
      [insertBody('x1', { machine_type: 'e2-small' }), /Unknown name "machine_type"/],
    ];
    for (const [body, message] of cases) {
      const r = await call('POST', path, { body });
      assert.equal(r.status, 400, JSON.stringify(body).slice(0, 120));
      assert.match(r.body.error?.message ?? '', message);
    }
    assert.equal((await call('POST', path, { raw: '{"name": ' })).status, 400);
    const dup = await call('POST', path, { body: insertBody('web-1') });
    assert.equal(dup.status, 409);
    assert.equal(reason(dup), 'alreadyExists');
  });

  test('requestId must be a non-zero UUID; a repeat returns the first operation and changes nothing twice', async () => {
    for (const bad of ['abc', '00000000-0000-0000-0000-000000000000']) {
      const r = await call('POST', `${vm('web-2')}/stop?requestId=${bad}`);
      assert.equal(r.status, 400);
      assert.match(r.body.error?.message ?? '', /requestId/);
    }
    const path = `projects/${P}/zones/${Z}/instances?requestId=${RID}`;
    const first = await call('POST', path, { body: insertBody('api-1') });
    const again = await call('POST', path, { body: insertBody('api-1') });
    assert.equal(first.status, 200);
    assert.equal(again.status, 200, 'not 409: the repeat is recognised before the name clash');
    assert.equal(again.body.name, first.body.name);
    assert.equal(first.body.clientOperationId, RID);
    assert.equal(fake.operations().filter((o) => o.instance === 'api-1').length, 1);
    clock.advance(1000);
  });

  test('start, stop and delete take no body', async () => {
    const r = await call('POST', `${vm('web-2')}/stop`, { body: { force: true } });
    assert.equal(r.status, 400);
  });
});

describe('operations', () => {
  test('stop goes PENDING → RUNNING → DONE while the VM goes RUNNING → STOPPING → TERMINATED', async () => {
    const started = await call('POST', `${vm('web-1')}/stop?requestId=${crypto.randomUUID()}`);
    assert.equal(started.body.kind, 'compute#operation');
    assert.equal(started.body.status, 'PENDING');
    assert.equal(started.body.operationType, 'stop');
    assert.match(String(started.body.targetLink), /\/projects\/alpha-project\/zones\/us-central1-a\/instances\/web-1$/);
    const op = `projects/${P}/zones/${Z}/operations/${String(started.body.name)}`;
    const busy = await call('POST', `${vm('web-1')}/start`);
    assert.equal(busy.status, 400);
    assert.equal(reason(busy), 'resourceNotReady');

    clock.advance(30);
    assert.equal((await call('GET', op)).body.status, 'RUNNING');
    assert.equal(fake.instance(P, Z, 'web-1')?.status, 'STOPPING');
    clock.advance(100);
    const done = await call('GET', op);
    assert.equal(done.body.status, 'DONE');
    assert.equal(done.body.progress, 100);
    assert.equal(done.body.error, undefined);
    assert.equal(fake.instance(P, Z, 'web-1')?.status, 'TERMINATED');
    assert.equal((await call('GET', `projects/${P}/zones/us-east1-b/operations/${String(started.body.name)}`)).status, 404);
  });

  test('wait answers at once for a DONE operation and refuses a body', async () => {
    const started = await call('POST', `${vm('cold-1')}/start`);
    clock.advance(1000);
    const op = `projects/${P}/zones/${Z}/operations/${String(started.body.name)}`;
    assert.equal((await call('POST', `${op}/wait`)).body.status, 'DONE');
    assert.equal((await call('POST', `${op}/wait`, { body: {} })).status, 400);
  });

  test('setMachineType is refused unless the VM is TERMINATED, and checks its body', async () => {
    const running = await call('POST', `${vm('web-2')}/setMachineType`, { body: { machineType: `zones/${Z}/machineTypes/e2-standard-2` } });
    assert.equal(running.status, 400);
    assert.equal(reason(running), 'invalidResourceUsage');
    assert.match(running.body.error?.message ?? '', /STOPPED state/);
    assert.equal((await call('POST', `${vm('web-1')}/setMachineType`, { body: { machineType: 'e2-standard-2' } })).status, 400);
    assert.equal((await call('POST', `${vm('web-1')}/setMachineType`, { body: { machineType: `zones/${Z}/machineTypes/e2-standard-2`, force: true } })).status, 400);
    const ok = await call('POST', `${vm('web-1')}/setMachineType`, { body: { machineType: `zones/${Z}/machineTypes/e2-standard-2` } });
    assert.equal(ok.status, 200);
    clock.advance(1000);
    assert.match(String(fake.instance(P, Z, 'web-1')?.machineType), /\/machineTypes\/e2-standard-2$/);
  });

  test('an injected quota error ends the operation DONE with error, and the insert takes no effect', async () => {
    fake.failOperations({ operationType: 'insert' }, quotaExceeded('CPUS', 8, 'us-central1'));
    const started = await call('POST', `projects/${P}/zones/${Z}/instances`, { body: insertBody('big-1') });
    assert.equal(fake.instance(P, Z, 'big-1')?.status, 'PROVISIONING');
    clock.advance(1000);
    const done = await call('GET', `projects/${P}/zones/${Z}/operations/${String(started.body.name)}`);
    assert.equal(done.body.status, 'DONE');
    assert.equal(done.body.httpErrorStatusCode, 403);
    const errors = (done.body.error as unknown as { errors: Array<{ code: string; message: string }> }).errors;
    assert.equal(errors[0]?.code, 'QUOTA_EXCEEDED');
    assert.equal(errors[0]?.message, "Quota 'CPUS' exceeded.  Limit: 8.0 in region us-central1.");
    assert.equal(fake.instance(P, Z, 'big-1'), undefined);
  });

  test('injected 429 and 503 answers use the Google envelope', async () => {
    fake.failNext(1, { status: 429 }, { service: 'compute' });
    const limited = await call('GET', vm('web-2'));
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error?.status, 'RESOURCE_EXHAUSTED');
    assert.equal(reason(limited), 'rateLimitExceeded');
    fake.failNext(1, { status: 503 }, { service: 'compute' });
    assert.equal((await call('GET', vm('web-2'))).body.error?.status, 'UNAVAILABLE');
  });
});
