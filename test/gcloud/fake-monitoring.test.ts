// Wire checks of the fake Cloud Monitoring over plain HTTP: the filter, interval, aggregation
// and paging rules, newest-first points, and agent metrics only where an Ops Agent runs.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceAccountTokenSource } from '../../src/gcloud/auth.js';
import { parseServiceAccountKey } from '../../src/gcloud/key.js';
import { startFakeGoogle, type FakeGoogle } from '../fakes/gcloud/index.js';

const P = 'alpha-project';
const END = new Date('2026-03-02T12:00:30Z');
const CPU = 'compute.googleapis.com/instance/cpu/utilization';
const MEM = 'agent.googleapis.com/memory/percent_used';

let fake: FakeGoogle;
let token: string;
let betaToken: string;

interface Series {
  metric: { type: string; labels: Record<string, string> };
  resource: { type: string; labels: Record<string, string> };
  metricKind: string;
  valueType: string;
  points?: Array<{ interval: { startTime: string; endTime: string }; value: { doubleValue: number } }>;
}
interface Reply {
  status: number;
  body: { timeSeries?: Series[]; nextPageToken?: string; unit?: string; error?: { code: number; message: string; status: string } };
}

async function list(params: Record<string, string>, auth: string | null = token): Promise<Reply> {
  const query = new URLSearchParams({ 'interval.endTime': END.toISOString(), 'interval.startTime': new Date(END.getTime() - 10 * 60_000).toISOString(), ...params });
  for (const [k, v] of Object.entries(params)) if (v === '') query.delete(k);
  const res = await fetch(`${fake.monitoringUrl}/projects/${P}/timeSeries?${query.toString()}`, { headers: auth === null ? {} : { Authorization: `Bearer ${auth}` } });
  return { status: res.status, body: (await res.json()) as Reply['body'] };
}

const cpuOf = (name: string) => `metric.type = "${CPU}" AND metric.labels.instance_name = "${name}"`;

before(async () => {
  fake = await startFakeGoogle();
  const alpha = fake.addServiceAccount({ projectId: P });
  const beta = fake.addServiceAccount({ projectId: 'beta-project' });
  token = await new ServiceAccountTokenSource(parseServiceAccountKey(alpha.key)).token();
  betaToken = await new ServiceAccountTokenSource(parseServiceAccountKey(beta.key)).token();
  fake.addInstance(P, 'us-central1-a', { name: 'web' });
  fake.addInstance(P, 'us-central1-a', { name: 'bare' });
  // CPU climbs one point of percent a minute from 0.10 at the end of the window backwards.
  fake.setLoad(P, 'web', { cpu: (at) => 0.1 + (END.getTime() - at.getTime()) / 60_000 / 100, memory: 42, disk: 61 });
  fake.setLoad(P, 'bare', { cpu: 0.05 });
});

after(() => fake.close());

describe('timeSeries.list', () => {
  test('raw CPU points: one a minute in (start, end], newest first, as 0–1 fractions', async () => {
    const r = await list({ filter: cpuOf('web') });
    assert.equal(r.status, 200);
    const [series, ...rest] = r.body.timeSeries ?? [];
    assert.equal(rest.length, 0);
    assert.ok(series);
    assert.deepEqual(series.metric, { labels: { instance_name: 'web' }, type: CPU });
    assert.equal(series.resource.type, 'gce_instance');
    assert.deepEqual(Object.keys(series.resource.labels).sort(), ['instance_id', 'project_id', 'zone']);
    assert.deepEqual([series.metricKind, series.valueType], ['GAUGE', 'DOUBLE']);
    const points = series.points ?? [];
    assert.equal(points.length, 10);
    const times = points.map((p) => Date.parse(p.interval.endTime));
    assert.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first');
    assert.equal(points[0]?.interval.endTime, '2026-03-02T12:00:00Z');
    for (const p of points) assert.ok(p.value.doubleValue > 0 && p.value.doubleValue < 1);
  });

  test('ALIGN_MEAN buckets end at the end time; an aligner needs a period of at least 60 s', async () => {
    const r = await list({ filter: cpuOf('web'), 'aggregation.alignmentPeriod': '300s', 'aggregation.perSeriesAligner': 'ALIGN_MEAN' });
    const points = r.body.timeSeries?.[0]?.points ?? [];
    assert.deepEqual(points.map((p) => p.interval.endTime), ['2026-03-02T12:00:30Z', '2026-03-02T11:55:30Z']);
    assert.equal((await list({ filter: cpuOf('web'), 'aggregation.perSeriesAligner': 'ALIGN_MEAN' })).status, 400);
    assert.equal((await list({ filter: cpuOf('web'), 'aggregation.alignmentPeriod': '30s', 'aggregation.perSeriesAligner': 'ALIGN_MEAN' })).status, 400);
    assert.equal((await list({ filter: cpuOf('web'), 'aggregation.alignmentPeriod': '5m', 'aggregation.perSeriesAligner': 'ALIGN_MEAN' })).status, 400);
  });

  test('pageSize counts points, so one series continues on the next page', async () => {
    const first = await list({ filter: cpuOf('web'), pageSize: '4' });
    assert.equal(first.body.timeSeries?.[0]?.points?.length, 4);
    assert.ok(first.body.nextPageToken);
    const second = await list({ filter: cpuOf('web'), pageSize: '4', pageToken: first.body.nextPageToken ?? '' });
    assert.deepEqual(second.body.timeSeries?.[0]?.metric, first.body.timeSeries?.[0]?.metric);
    const a = first.body.timeSeries?.[0]?.points?.at(-1)?.interval.endTime ?? '';
    const b = second.body.timeSeries?.[0]?.points?.[0]?.interval.endTime ?? '';
    assert.ok(Date.parse(a) > Date.parse(b), 'the next page goes on further back in time');
    const other = await list({ filter: cpuOf('bare'), pageSize: '4', pageToken: first.body.nextPageToken ?? '' });
    assert.equal(other.status, 400, 'a page token belongs to its own query');
  });

  test('memory comes per state, from the Ops Agent only, and carries no instance_name label', async () => {
    const web = fake.instance(P, 'us-central1-a', 'web');
    const all = await list({ filter: `metric.type = "${MEM}" AND resource.labels.instance_id = "${String(web?.id)}"` });
    assert.deepEqual(all.body.timeSeries?.map((s) => s.metric.labels.state).sort(), ['cached', 'free', 'used']);
    assert.equal(all.body.unit, '%');
    const used = await list({ filter: `metric.type = "${MEM}" AND resource.labels.instance_id = "${String(web?.id)}" AND metric.labels.state = "used"` });
    assert.deepEqual(used.body.timeSeries?.[0]?.points?.map((p) => p.value.doubleValue).slice(0, 2), [42, 42]);
    assert.deepEqual((await list({ filter: `metric.type = "${MEM}" AND metric.labels.instance_name = "web"` })).body, {});
    const bare = fake.instance(P, 'us-central1-a', 'bare');
    assert.deepEqual((await list({ filter: `metric.type = "${MEM}" AND resource.labels.instance_id = "${String(bare?.id)}"` })).body, {}, 'no Ops Agent, no series');
  });

  test('filters, intervals and parameters are checked', async () => {
    const bad: Array<[Record<string, string>, number]> = [
      [{ filter: '' }, 400],
      [{ filter: 'metric.labels.instance_name = "web"' }, 400],
      [{ filter: `metric.type = "${CPU}" OR metric.type = "${MEM}"` }, 400],
      [{ filter: `metric.type = "${CPU}" AND metric.label.instance_name = "web"` }, 400],
      [{ filter: 'metric.type = "compute.googleapis.com/instance/cpu/usage"' }, 404],
      [{ filter: cpuOf('web'), 'interval.endTime': '' }, 400],
      [{ filter: cpuOf('web'), 'interval.endTime': '2026-03-02 12:00' }, 400],
      [{ filter: cpuOf('web'), 'interval.startTime': '2026-03-03T00:00:00Z' }, 400],
      [{ filter: cpuOf('web'), 'aggregation.crossSeriesReducer': 'REDUCE_MEAN' }, 400],
      [{ filter: cpuOf('web'), orderBy: 'time' }, 400],
      [{ filter: cpuOf('web'), interval: 'PT1H' }, 400],
    ];
    for (const [params, status] of bad) {
      const r = await list(params);
      assert.equal(r.status, status, JSON.stringify(params));
      assert.equal(typeof r.body.error?.status, 'string');
    }
  });

  test('HEADERS view pages series without points', async () => {
    const r = await list({ filter: `metric.type = "${MEM}"`, view: 'HEADERS', pageSize: '2' });
    assert.equal(r.body.timeSeries?.length, 2);
    assert.equal(r.body.timeSeries?.[0]?.points, undefined);
    assert.ok(r.body.nextPageToken);
  });

  test('a token is required, and only for a project the account may read', async () => {
    const anon = await list({ filter: cpuOf('web') }, null);
    assert.equal(anon.status, 401);
    assert.equal(anon.body.error?.status, 'UNAUTHENTICATED');
    const other = await list({ filter: cpuOf('web') }, betaToken);
    assert.equal(other.status, 403);
    assert.equal(other.body.error?.status, 'PERMISSION_DENIED');
  });
});
