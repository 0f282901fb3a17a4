// A VM change with its progress, as an agent makes it over MCP (the official client asking for
// progress notifications) and as the CLI on a terminal makes it through the daemon (steps as
// JSON lines before the answer): the daemon pointed at the fake Google, steps arriving while
// the zone operations run, and the answer once they are DONE.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Invoker } from '../../src/catalog/invoker.js';
import { RemoteInvoker } from '../../src/catalog/remote-invoker.js';
import { HttpInvoker } from '../../src/cli/http-invoker.js';
import { adminPrincipal } from '../../src/core/principal.js';
import { assertRejects } from '../helpers/errors.js';
import { daemonBackend } from '../cli/run-cli.js';
import { startFakeGoogle, type FakeGoogle } from '../fakes/gcloud/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { connectMcp } from '../http/client.js';

const PROJECT_ID = 'progress-proj';
const ZONE = 'us-central1-a';
let fake: FakeGoogle;
let daemon: TestDaemon;

before(async () => {
  const t0 = Date.now();
  // The test daemon's clock stands at 2026-11-23T10:00Z; the fake's runs on from there.
  fake = await startFakeGoogle({ now: () => Date.parse('2026-11-23T10:00:00Z') + (Date.now() - t0), operationTiming: { pendingMs: 50, runningMs: 300 } });
  daemon = await startTestDaemon(await daemonBackend(), { SUPERVISOR_GCLOUD_COMPUTE_URL: fake.computeRootUrl, SUPERVISOR_GCLOUD_MONITORING_URL: fake.monitoringUrl, SUPERVISOR_GCLOUD_POLL_MS: '20' });
  const { key } = fake.addServiceAccount({ projectId: PROJECT_ID });
  await daemon.services.gcloud.addAccount(adminPrincipal('setup'), { account: 'progress', key: JSON.stringify(key) });
  fake.addInstance(PROJECT_ID, ZONE, { name: 'web', machineType: 'e2-medium' });
  fake.addInstance(PROJECT_ID, ZONE, { name: 'capacity', machineType: 'e2-medium' });
  for (const name of ['cli', 'remote']) fake.addInstance(PROJECT_ID, ZONE, { name, machineType: 'e2-medium', status: 'TERMINATED' });
});
after(async () => {
  await daemon?.close();
  await fake?.close();
});

test('gcloud_resize_vm over MCP reports each step of each zone operation as progress, then answers', async () => {
  const session = await connectMcp(daemon.url, 'meta', daemon.adminToken);
  try {
    const steps: string[] = [];
    const result = await session.client.callTool(
      { name: 'gcloud_resize_vm', arguments: { project: PROJECT_ID, zone: ZONE, instanceName: 'web', newMachineType: 'e2-standard-2' } },
      { onprogress: (p) => void steps.push(String(p.message)) },
    );
    assert.notEqual(result.isError, true, JSON.stringify(result.content));
    const answer = result.structuredContent as { from: string; to: string; status: string };
    assert.deepEqual([answer.from, answer.to, answer.status], ['e2-medium', 'e2-standard-2', 'RUNNING']);
    for (const step of ['stop', 'setMachineType', 'start']) assert.ok(steps.some((m) => m.startsWith(`${step} web: DONE`)), `${step} DONE in ${steps.join(' | ')}`);
    assert.ok(steps.indexOf(steps.find((m) => m.startsWith('stop web: DONE'))!) < steps.indexOf(steps.find((m) => m.startsWith('start web: DONE'))!));
  } finally {
    await session.close();
  }
});

for (const [label, vm, invokerOf] of [
  ['the node:http invoker the CLI uses', 'cli', (url: string, token: string): Invoker => new HttpInvoker({ baseUrl: url, token })],
  ['the fetch invoker', 'remote', (url: string, token: string): Invoker => new RemoteInvoker({ baseUrl: url, token, via: 'cli' })],
] as const) {
  test(`through the daemon with ${label}: the steps come as JSON lines, then the answer or the error`, async () => {
    const invoker = invokerOf(daemon.url, daemon.adminToken);
    const steps: string[] = [];
    const answer = await invoker.invoke('gcloud_start_vm', { project: 'progress', zone: ZONE, instanceName: vm }, { onProgress: (p) => void steps.push(p.message) });
    assert.equal((answer.vm as { status: string }).status, 'RUNNING');
    assert.ok(steps.some((m) => new RegExp(`^start projects/progress-proj/zones/us-central1-a/instances/${vm}: DONE`).test(m)), steps.join(' | '));
    await assertRejects(invoker.invoke('gcloud_delete_vm', { project: 'progress', zone: ZONE, instanceName: vm }, { onProgress: () => undefined }), 'invalid_input', /^confirm: /);
    assert.equal((await invoker.invoke('gcloud_get_vm', { project: 'progress', zone: ZONE, instanceName: vm })).status, 'RUNNING', 'without onProgress: one JSON answer, as before');
  });
}

test('a resize put back because the zone had no room for the new type asks a REST client to wait minutes: a retry stops the VM again', async () => {
  fake.failOperations({ instance: 'capacity', operationType: 'start' }, { code: 'ZONE_RESOURCE_POOL_EXHAUSTED', message: 'The zone does not have enough resources available to fulfill the request.', httpStatus: 503 });
  const answer = await fetch(`${daemon.url}/api/v1/gcloud/vm/resize`, {
    method: 'POST',
    headers: { authorization: `Bearer ${daemon.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ project: PROJECT_ID, zone: ZONE, instanceName: 'capacity', newMachineType: 'e2-standard-16' }),
  });
  const body = (await answer.json()) as { error: { code: string; message: string } };
  assert.deepEqual([answer.status, answer.headers.get('retry-after'), body.error.code], [503, '600', 'unavailable']);
  assert.match(body.error.message, /it is now RUNNING on e2-medium\. Another try stops it again/);
});
