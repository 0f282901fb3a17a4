// MonitoringClient against the fake: pages followed and split series merged, and vmHealth's
// per-metric average/max/latest/coverage from scripted load, with the Ops Agent hint.
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/core/clock.js';
import type { SupervisorError } from '../../src/core/errors.js';
import { CPU_METRIC, OPS_AGENT_INSTALL } from '../../src/gcloud/monitoring.js';
import { ALPHA, BETA, openGoogle, ZONE, type GoogleFixture } from './fixture.js';
import { assertNoSecrets, errorTexts, refusals } from './secrets.js';

const NOW = new Date('2026-03-02T12:00:30Z');
const HOUR = 3_600_000;
let g: GoogleFixture;
const clock = new ManualClock(NOW);
const seen: SupervisorError[] = [];
const expectRefusal = refusals(seen);

before(async () => {
  g = await openGoogle();
  for (const name of ['busy', 'agentless', 'fresh', 'idle']) g.fake.addInstance(ALPHA, ZONE, { name });
  g.fake.addInstance(ALPHA, 'europe-west1-b', { name: 'twin' });
  g.fake.addInstance(ALPHA, 'us-east1-b', { name: 'twin' });
  g.fake.addInstance(BETA, ZONE, { name: 'busy' });
  // First hour at 50 % CPU, second at 90 %: over two hours that is 70 % average, 90 % max.
  g.fake.setLoad(ALPHA, 'busy', { cpu: (at) => (at.getTime() <= NOW.getTime() - HOUR ? 0.5 : 0.9), memory: (at) => (at.getTime() === Math.floor(NOW.getTime() / 60_000) * 60_000 ? 80 : 40), disk: 55 });
  g.fake.setLoad(ALPHA, 'agentless', { cpu: 0.3 });
  g.fake.setLoad(ALPHA, 'fresh', { cpu: 0.2, memory: 10, disk: 10, from: new Date(NOW.getTime() - 30 * 60_000) });
  g.fake.setLoad(BETA, 'busy', { cpu: 0.05, memory: 5, disk: 5 });
});

afterEach(() => g.fake.resetCalls());

after(async () => {
  assertNoSecrets([...errorTexts(seen), ...g.logs], [g.alpha.key, g.beta.key], g.fake.issuedTokens());
  await g.close();
});

describe('listTimeSeries', () => {
  test('follows nextPageToken and merges a series split across pages, newest first', async () => {
    const client = g.monitoring(g.alpha, { pageSize: 7, clock });
    const series = await client.listTimeSeries(ALPHA, {
      filter: `metric.type = "${CPU_METRIC}" AND metric.labels.instance_name = "busy"`,
      start: new Date(NOW.getTime() - 30 * 60_000),
      end: NOW,
    });
    assert.equal(series.length, 1);
    assert.equal(series[0]?.points.length, 30);
    const times = series[0]?.points.map((p) => p.at.getTime()) ?? [];
    assert.deepEqual(times, [...times].sort((a, b) => b - a));
    const pages = g.fake.calls.filter((c) => c.service === 'monitoring');
    assert.equal(pages.length, 5);
    assert.deepEqual(pages.map((c) => Boolean(c.query.pageToken)), [false, true, true, true, true]);
    assert.deepEqual(pages.map((c) => [c.query['aggregation.alignmentPeriod'], c.query['aggregation.perSeriesAligner']])[0], ['60s', 'ALIGN_MEAN']);
  });
});

describe('vmHealth', () => {
  test('CPU as percent, memory and disk from the agent, each with average, max, latest and coverage', async () => {
    const health = await g.monitoring(g.alpha, { clock }).vmHealth({ project: ALPHA, instanceName: 'busy', minutes: 120 });
    assert.deepEqual(health.cpu, { average: 70, max: 90, latest: 90, latestAt: NOW.toISOString(), samples: 120, expectedSamples: 120, coverage: 1 });
    assert.equal(health.memory?.latest, 80);
    assert.equal(health.memory?.max, 80);
    assert.equal(health.memory?.average, 40.33);
    assert.deepEqual([health.disk?.average, health.disk?.max, health.disk?.samples], [55, 55, 120]);
    assert.equal(health.opsAgent.status, 'reporting');
    assert.match(String(health.instanceId), /^\d+$/);
    const filters = g.fake.calls.filter((c) => c.service === 'monitoring').map((c) => c.query.filter ?? '');
    assert.ok(filters.some((f) => f.includes('agent.googleapis.com/memory/percent_used') && f.includes(`resource.labels.instance_id = "${String(health.instanceId)}"`) && f.includes('metric.labels.state = "used"')));
    for (const c of g.fake.calls.filter((call) => call.service === 'monitoring')) assert.equal(c.account, g.alpha.email);
  });

  test('a VM without the Ops Agent says which metrics are missing and how to install it', async () => {
    const health = await g.monitoring(g.alpha, { clock }).vmHealth({ project: ALPHA, instanceName: 'agentless', minutes: 60 });
    assert.equal(health.cpu?.average, 30);
    assert.equal(health.memory, null);
    assert.equal(health.disk, null);
    assert.deepEqual(health.opsAgent.missing, ['memory', 'disk']);
    assert.equal(health.opsAgent.status, 'missing');
    assert.match(String(health.opsAgent.message), /^Ops Agent metrics missing for agentless \(memory, disk\): install the Ops Agent/);
    assert.ok(health.opsAgent.message?.includes(OPS_AGENT_INSTALL));
  });

  test('a VM that started recently has partial coverage', async () => {
    const health = await g.monitoring(g.alpha, { clock }).vmHealth({ project: ALPHA, instanceName: 'fresh', minutes: 120 });
    assert.deepEqual([health.cpu?.samples, health.cpu?.coverage], [30, 0.25]);
  });

  test('the window must be whole minutes within the six weeks Monitoring keeps', async () => {
    for (const minutes of [0, 1.5, 7 * 24 * 60 * 6 + 1]) {
      await expectRefusal(g.monitoring(g.alpha, { clock }).vmHealth({ project: ALPHA, instanceName: 'busy', minutes }), 'invalid_input', /minutes must be a whole number/);
    }
  });

  test('no data at all leaves everything unknown, with the reason', async () => {
    const health = await g.monitoring(g.alpha, { clock }).vmHealth({ project: ALPHA, instanceName: 'idle', minutes: 60 });
    assert.deepEqual([health.cpu, health.memory, health.disk, health.opsAgent.status], [null, null, null, 'unknown']);
    assert.match(String(health.opsAgent.message), /no CPU data for idle/);
  });

  test('a name used in two zones needs the zone', async () => {
    g.fake.setLoad(ALPHA, 'twin', { cpu: 0.1 }, 'europe-west1-b');
    g.fake.setLoad(ALPHA, 'twin', { cpu: 0.2 }, 'us-east1-b');
    const client = g.monitoring(g.alpha, { clock });
    await expectRefusal(client.vmHealth({ project: ALPHA, instanceName: 'twin', minutes: 10 }), 'conflict', /more than one VM is named twin .*say which zone/);
    assert.equal((await client.vmHealth({ project: ALPHA, instanceName: 'twin', zone: 'us-east1-b', minutes: 10 })).cpu?.average, 20);
  });

  test('a project that has not enabled the Monitoring API is told to enable it (read from the ErrorInfo, as Monitoring sends no errors[])', async () => {
    const { key } = g.fake.addServiceAccount({ projectId: 'quiet-project', email: 'watcher@quiet-project.iam.gserviceaccount.com' });
    g.fake.disableApi('quiet-project', 'monitoring');
    const client = g.monitoring({ email: 'watcher@quiet-project.iam.gserviceaccount.com', key, tokens: g.tokensFor(key) }, { clock });
    const err = await expectRefusal(client.listTimeSeries('quiet-project', { filter: `metric.type = "${CPU_METRIC}"`, start: new Date(NOW.getTime() - HOUR), end: NOW }), 'forbidden', /SERVICE_DISABLED: Cloud Monitoring API has not been used/);
    assert.match(err.message, /the API is not enabled in that project/);
  });

  test("each account reads its own project's metrics with its own token", async () => {
    const beta = await g.monitoring(g.beta, { clock }).vmHealth({ project: BETA, instanceName: 'busy', minutes: 30 });
    assert.equal(beta.cpu?.average, 5);
    for (const c of g.fake.calls.filter((call) => call.service === 'monitoring')) {
      assert.equal(c.account, g.beta.email);
      assert.equal(c.project, BETA);
    }
    await expectRefusal(g.monitoring(g.beta, { clock }).vmHealth({ project: ALPHA, instanceName: 'busy', minutes: 30 }), 'forbidden', /service account deployer@beta-project/);
  });
});
