// The price table the migration seeds is the published list in src/gcloud/prices.ts, row for
// row, and is what PriceBook estimates from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/core/clock.js';
import { estimateMonthlyCost } from '../../src/gcloud/cost.js';
import { SEED_PRICE_TABLE } from '../../src/gcloud/prices.js';
import { PriceBook } from '../../src/gcloud/pricing.js';
import { openTestDb } from '../helpers/db.js';

test('the seeded price version holds exactly the published list of prices.ts, and estimates match', async () => {
  const db = await openTestDb('pglite');
  try {
    const book = await new PriceBook(db, new ManualClock(new Date('2026-11-23T10:00:00Z'))).current();
    const sort = <T>(rows: T[], key: (r: T) => string) => [...rows].sort((a, b) => (key(a) < key(b) ? -1 : 1));
    assert.equal(book.version, SEED_PRICE_TABLE.version);
    assert.equal(book.asOf, '2025-01-01');
    assert.deepEqual(sort(book.machines, (m) => `${m.region}/${m.machineType}`), sort(SEED_PRICE_TABLE.machines, (m) => `${m.region}/${m.machineType}`));
    assert.deepEqual(sort(book.disks, (d) => `${d.region}/${d.diskType}`), sort(SEED_PRICE_TABLE.disks, (d) => `${d.region}/${d.diskType}`));
    assert.equal(book.externalIpv4HourlyUsd, SEED_PRICE_TABLE.externalIpv4HourlyUsd);
    const req = { machineType: 'n1-standard-4', location: 'europe-west1-b', diskGb: 50, externalIpv4: true };
    assert.deepEqual(estimateMonthlyCost(book, req), estimateMonthlyCost(SEED_PRICE_TABLE, req));
  } finally {
    await db.close();
  }
});
