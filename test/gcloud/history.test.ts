// gcloud_health_history: the samples health reads stored, read back per time bucket for charts,
// from the database alone, on both storage backends.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { skipReason, testBackends } from '../helpers/db.js';
import { assertRejects } from '../helpers/errors.js';
import type { HistoryPoint } from '../../src/gcloud/samples.js';
import { openDomain, type DomainFixture } from './gfixture.js';

const ZONE = 'us-central1-a';
const MINUTE = 60_000;

/** A bucket as the answer carries it: the time as ISO text. */
type Row = Omit<HistoryPoint, 'at'> & { at: string };
interface History {
  project: string;
  from: string;
  to: string;
  stepMinutes: number;
  items: Row[];
  note?: string;
}

for (const backend of testBackends()) {
  describe(`gcloud_health_history [${backend}]`, { skip: await skipReason(backend) }, () => {
    let f: DomainFixture;
    let now: number;

    before(async () => {
      f = await openDomain(backend);
      await f.account('charts', 'charts-prod');
      f.fake.addInstance('charts-prod', ZONE, { name: 'api', machineType: 'e2-medium' });
      now = f.s.clock.now().getTime();
      // CPU 20% until 90 minutes ago, 80% since; memory flat at 45%; no disk series.
      const switchAt = now - 90 * MINUTE;
      f.fake.setLoad('charts-prod', 'api', { cpu: (at) => (at.getTime() < switchAt ? 0.2 : 0.8), memory: 45 });
      await f.call('gcloud_vm_health', { project: 'charts', zone: ZONE, instanceName: 'api', minutes: 120 });
    });
    after(() => f.close());

    test("two hours in two buckets: each hour's average and max per metric side by side, every stored sample counted once, no Google call", async () => {
      f.fake.resetCalls();
      const h = (await f.call('gcloud_health_history', { project: 'charts', zone: ZONE, instanceName: 'api', minutes: 120, points: 2 })) as unknown as History;
      assert.deepEqual(f.apiCalls(), [], 'read from the database only');
      assert.equal(h.project, 'charts-prod');
      assert.equal(h.stepMinutes, 60);
      assert.equal(Date.parse(h.to) - Date.parse(h.from), 120 * MINUTE);
      // Oldest first, labelled by their start. The older hour is half 20%, half 80%; the newer all 80%.
      assert.deepEqual(h.items.map((r) => r.at), [h.from, new Date(Date.parse(h.from) + 60 * MINUTE).toISOString()]);
      const [older, newer] = h.items as [Row, Row];
      assert.ok(Math.abs(older.cpuAverage! - 50) <= 1.5, `older hour averages about 50%, got ${older.cpuAverage}`);
      assert.deepEqual([older.cpuMax, newer.cpuAverage, newer.cpuMax], [80, 80, 80]);
      assert.deepEqual([older.memoryAverage, older.memoryMax, newer.memoryAverage], [45, 45, 45]);
      assert.deepEqual([older.diskAverage, older.diskMax, newer.diskMax], [null, null, null], 'a metric without data is null');
      const { rows } = await f.s.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM gcloud_health_samples WHERE instance_name = 'api' AND metric = 'cpu' AND at > $1 AND at <= $2`,
        [new Date(h.from), new Date(h.to)],
      );
      assert.equal(older.samples + newer.samples, rows[0]!.n);
      assert.ok(rows[0]!.n >= 118, `about a sample a minute, got ${rows[0]!.n}`);
      assert.equal(h.note, undefined);
    });

    test('default points: at most 120 buckets, oldest first; the account may be named by its project id', async () => {
      const h = (await f.call('gcloud_health_history', { project: 'charts-prod', zone: ZONE, instanceName: 'api', minutes: 1440 })) as unknown as History;
      assert.equal(h.stepMinutes, 12);
      assert.ok(h.items.length >= 10 && h.items.length <= 11, `two hours of data in 12-minute buckets, got ${h.items.length}`);
      assert.ok(h.items.every((r) => r.memoryAverage === 45 && r.memoryMax === 45));
      assert.ok(h.items.every((r, i) => i === 0 || Date.parse(r.at) - Date.parse(h.items[i - 1]!.at) === 12 * MINUTE), 'consecutive buckets');
    });

    test('health read again and again within minutes stores each minute once: a sample a minute, not one per read', async () => {
      f.fake.addInstance('charts-prod', ZONE, { name: 'busy', machineType: 'e2-medium' });
      f.fake.setLoad('charts-prod', 'busy', { cpu: 0.5, memory: 30 });
      // Reads at odd seconds, as people and the auto-scaler make them.
      for (const step of [17_000, 20_000, 45_000, 3_000]) {
        f.s.clock.advance(step);
        await f.call('gcloud_vm_health', { project: 'charts', zone: ZONE, instanceName: 'busy', minutes: 10 });
      }
      const h = (await f.call('gcloud_health_history', { project: 'charts', zone: ZONE, instanceName: 'busy', minutes: 10, points: 10 })) as unknown as History;
      assert.ok(h.items.length >= 8, `about ten minutes of data, got ${h.items.length}`);
      assert.deepEqual([...new Set(h.items.map((r) => r.samples))], [1], JSON.stringify(h.items.map((r) => r.samples)));
    });

    test('a VM with no stored samples answers empty series and says how samples get there', async () => {
      const h = (await f.call('gcloud_health_history', { project: 'charts', zone: ZONE, instanceName: 'never-read' })) as unknown as History;
      assert.deepEqual(h.items, []);
      assert.match(h.note ?? '', /no samples stored for never-read .*gcloud_vm_health or the auto-scaler/);
    });

    test('bad input is refused before anything is read', async () => {
      await assertRejects(f.call('gcloud_health_history', { project: 'nobody', zone: ZONE, instanceName: 'api' }), 'not_found', /no Google Cloud account named nobody/);
      await assertRejects(f.call('gcloud_health_history', { project: 'charts', zone: ZONE, instanceName: 'api', points: 0 }), 'invalid_input', /points/);
      await assertRejects(f.call('gcloud_health_history', { project: 'charts', zone: ZONE, instanceName: 'api', minutes: 60_481 }), 'invalid_input', /minutes/);
      await assertRejects(f.call('gcloud_health_history', { project: 'charts', instanceName: 'api' }), 'invalid_input', /zone/);
    });
  });
}
