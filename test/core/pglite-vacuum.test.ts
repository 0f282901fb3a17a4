// The embedded database has no autovacuum (PGlite runs PostgreSQL in single-user mode): rows
// deleted (call records past their retention) were never reclaimed and the data dir grew without
// end. Opened with vacuumEveryMs, it reclaims them itself, and closing waits for a VACUUM under way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { openPglite } from '../../src/core/db-pglite.js';

const ROUND = `INSERT INTO churn (body) SELECT repeat('x', 150) FROM generate_series(1, 20000);
               DELETE FROM churn WHERE id <= (SELECT max(id) - 20000 FROM churn)`;

async function sizeAfterRounds(vacuumEveryMs?: number): Promise<number[]> {
  const db = await openPglite({ vacuumEveryMs });
  try {
    await db.query('CREATE TABLE churn (id bigserial PRIMARY KEY, body text)');
    const sizes: number[] = [];
    for (let round = 0; round < 4; round++) {
      for (const statement of ROUND.split(';')) await db.query(statement);
      // Room for the maintenance timer to run between rounds, as an hour passes between a daemon's prunes.
      await delay(150);
      sizes.push(Number((await db.query<{ s: string }>("SELECT pg_relation_size('churn') AS s")).rows[0]!.s));
    }
    return sizes;
  } finally {
    await db.close();
  }
}

test('without maintenance the table grows with every round of inserts and deletes; with it, the space is reused', async () => {
  const bare = await sizeAfterRounds();
  const kept = await sizeAfterRounds(50);
  assert.ok(bare[3]! >= 3.5 * bare[0]!, `without VACUUM: ${bare.join(', ')}`);
  assert.ok(kept[3]! <= 2.5 * kept[0]!, `with VACUUM every 50 ms: ${kept.join(', ')}`);
});

test('statistics are gathered too (ANALYZE), and close waits for a VACUUM under way', async () => {
  const db = await openPglite({ vacuumEveryMs: 20 });
  await db.query('CREATE TABLE counted (id int)');
  await db.query('INSERT INTO counted SELECT generate_series(1, 1000)');
  await delay(200);
  const { rows } = await db.query<{ last_vacuum: Date | null; last_analyze: Date | null }>("SELECT last_vacuum, last_analyze FROM pg_stat_user_tables WHERE relname = 'counted'");
  assert.ok(rows[0]?.last_vacuum && rows[0].last_analyze, JSON.stringify(rows));
  await db.close();
});
