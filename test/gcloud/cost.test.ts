// Monthly cost arithmetic and the seed price list.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SupervisorError } from '../../src/core/errors.js';
import { estimateMonthlyCost, HOURS_PER_MONTH, regionOf, type PriceTable } from '../../src/gcloud/cost.js';
import { SEED_PRICE_TABLE } from '../../src/gcloud/prices.js';

const TABLE: PriceTable = {
  version: 'test-1',
  currency: 'USD',
  machines: [
    { region: 'us-central1', machineType: 'e2-medium', hourlyUsd: 0.03351 },
    { region: 'europe-west1', machineType: 'e2-medium', hourlyUsd: 0.036861 },
  ],
  disks: [
    { region: 'us-central1', diskType: 'pd-balanced', gbMonthUsd: 0.1 },
    { region: 'us-central1', diskType: 'pd-ssd', gbMonthUsd: 0.17 },
    { region: 'europe-west1', diskType: 'pd-balanced', gbMonthUsd: 0.1 },
  ],
  externalIpv4HourlyUsd: 0.005,
};

describe('estimateMonthlyCost', () => {
  test('hourly rate × 730 h plus disk GB × GB-month rate, in cents', () => {
    const e = estimateMonthlyCost(TABLE, { machineType: 'e2-medium', location: 'us-central1-a', diskGb: 20 });
    // 0.03351 × 730 = 24.4623 → 24.46; 20 × 0.10 = 2.00
    assert.deepEqual(
      [e.region, e.runningHours, e.computeUsd, e.diskType, e.diskUsd, e.totalUsd, e.priceVersion],
      ['us-central1', HOURS_PER_MONTH, 24.46, 'pd-balanced', 2, 26.46, 'test-1'],
    );
  });

  test('a region, another disk type, fewer running hours (a stopped VM still pays for its disk)', () => {
    const ssd = estimateMonthlyCost(TABLE, { machineType: 'e2-medium', location: 'us-central1', diskGb: 50, diskType: 'pd-ssd', runningHours: 200 });
    assert.deepEqual([ssd.computeUsd, ssd.diskUsd, ssd.totalUsd], [6.7, 8.5, 15.2]);
    const stopped = estimateMonthlyCost(TABLE, { machineType: 'e2-medium', location: 'europe-west1-b', diskGb: 10, runningHours: 0 });
    assert.deepEqual([stopped.computeUsd, stopped.totalUsd], [0, 1]);
    assert.equal(estimateMonthlyCost(TABLE, { machineType: 'e2-medium', location: 'us-central1', diskGb: 10, runningHours: 10_000 }).runningHours, HOURS_PER_MONTH);
  });

  test('an external IPv4 address is billed by the running hour: $3.65 a month, nothing while stopped', () => {
    const running = estimateMonthlyCost(TABLE, { machineType: 'e2-medium', location: 'us-central1-a', diskGb: 20, externalIpv4: true });
    assert.deepEqual([running.externalIpUsd, running.totalUsd], [3.65, 30.11]);
    const part = estimateMonthlyCost(TABLE, { machineType: 'e2-medium', location: 'us-central1-a', diskGb: 20, externalIpv4: true, runningHours: 200 });
    assert.equal(part.externalIpUsd, 1);
    const stopped = estimateMonthlyCost(TABLE, { machineType: 'e2-medium', location: 'us-central1-a', diskGb: 20, externalIpv4: true, runningHours: 0 });
    assert.deepEqual([stopped.externalIpUsd, stopped.totalUsd], [0, 2]);
    assert.equal(estimateMonthlyCost(TABLE, { machineType: 'e2-medium', location: 'us-central1-a', diskGb: 20 }).externalIpUsd, 0, 'no access config, no charge');
  });

  test('a type or disk missing from the table is not_found, naming the table version', () => {
    for (const req of [
      { machineType: 'n2-standard-2', location: 'us-central1-a', diskGb: 10 },
      { machineType: 'e2-medium', location: 'europe-west1-b', diskGb: 10, diskType: 'pd-ssd' },
    ]) {
      assert.throws(() => estimateMonthlyCost(TABLE, req), (err: unknown) => err instanceof SupervisorError && err.code === 'not_found' && /price table test-1/.test(err.message));
    }
  });

  test('zones map to their region', () => {
    assert.equal(regionOf('asia-northeast1-a'), 'asia-northeast1');
    assert.equal(regionOf('us-central1'), 'us-central1');
  });
});

describe('seed price list', () => {
  test('covers the e2/n1/n2 types in every listed region, each with its disks, at positive prices', () => {
    const regions = new Set(SEED_PRICE_TABLE.machines.map((m) => m.region));
    assert.ok(regions.size >= 4);
    for (const region of regions) {
      for (const type of ['e2-micro', 'e2-medium', 'e2-standard-4', 'n1-standard-1', 'n2-standard-2']) {
        assert.ok(SEED_PRICE_TABLE.machines.some((m) => m.region === region && m.machineType === type && m.hourlyUsd > 0), `${type} in ${region}`);
      }
      for (const disk of ['pd-standard', 'pd-balanced', 'pd-ssd']) assert.ok(SEED_PRICE_TABLE.disks.some((d) => d.region === region && d.diskType === disk));
    }
    const keys = SEED_PRICE_TABLE.machines.map((m) => `${m.region}/${m.machineType}`);
    assert.equal(new Set(keys).size, keys.length, 'one price per type and region');
  });

  test('a typical small VM comes out at the familiar figure (e2-medium, 10 GB balanced, us-central1)', () => {
    const e = estimateMonthlyCost(SEED_PRICE_TABLE, { machineType: 'e2-medium', location: 'us-central1-c', diskGb: 10 });
    assert.equal(e.totalUsd, 25.46);
    assert.match(e.priceVersion, /^2025-01/);
  });

  test('bigger types in a family cost more, and the same type costs no less outside the US', () => {
    const price = (region: string, type: string) => SEED_PRICE_TABLE.machines.find((m) => m.region === region && m.machineType === type)?.hourlyUsd ?? NaN;
    const e2 = ['e2-micro', 'e2-small', 'e2-medium', 'e2-standard-2', 'e2-standard-4', 'e2-standard-8', 'e2-standard-16'];
    for (let i = 1; i < e2.length; i++) assert.ok(price('us-central1', e2[i] as string) > price('us-central1', e2[i - 1] as string));
    assert.ok(price('europe-west1', 'e2-medium') >= price('us-central1', 'e2-medium'));
  });
});
