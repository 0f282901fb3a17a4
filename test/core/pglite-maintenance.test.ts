// The embedded database has none of PostgreSQL's background processes (PGlite runs it in
// single-user mode): without the daemon's maintenance, rows deleted (call records past their
// retention) were never reclaimed and the write-ahead log grew with every write, both staying on
// disk across restarts. Opened with `maintenance`, it checkpoints and vacuums itself, and closing
// waits for a run under way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { openPglite } from '../../src/core/db-pglite.js';

const ROUND = [`INSERT INTO churn (body) SELECT repeat('x', 150) FROM generate_series(1, 20000)`, `DELETE FROM churn WHERE id <= (SELECT max(id) - 20000 FROM churn)`];
const megabytes = (dir: string) => Number(execFileSync('du', ['-sm', dir]).toString().split('\t')[0]);

/** The table's size and the log's after each of `rounds` rounds of inserts and deletes. */
async function churn(maintenance: { everyMs: number; vacuumEveryMs: number } | undefined, rounds: number): Promise<Array<{ table: number; walMb: number }>> {
  const home = await mkdtemp(join(tmpdir(), 'supervisor-maintenance-'));
  const dataDir = join(home, 'db');
  const db = await openPglite({ dataDir, maintenance });
  try {
    await db.query('CREATE TABLE churn (id bigserial PRIMARY KEY, body text)');
    const sizes: Array<{ table: number; walMb: number }> = [];
    for (let round = 0; round < rounds; round++) {
      for (const statement of ROUND) await db.query(statement);
      // Room for the maintenance timer to run between rounds, as minutes pass between a daemon's bursts.
      await delay(200);
      sizes.push({ table: Number((await db.query<{ s: string }>("SELECT pg_relation_size('churn') AS s")).rows[0]!.s), walMb: megabytes(join(dataDir, 'pg_wal')) });
    }
    return sizes;
  } finally {
    await db.close();
    await rm(home, { recursive: true, force: true });
  }
}

test('without maintenance the table and the write-ahead log grow with every round; with it, space is reused and the log stays at its 32 MB', async () => {
  const bare = await churn(undefined, 8);
  const kept = await churn({ everyMs: 50, vacuumEveryMs: 50 }, 8);
  assert.ok(bare[7]!.table >= 6 * bare[0]!.table, `table without maintenance: ${bare.map((s) => s.table).join(', ')}`);
  assert.ok(bare[7]!.walMb > 48, `log without maintenance: ${bare.map((s) => s.walMb).join(', ')} MB`);
  assert.ok(kept[7]!.table <= 2.5 * kept[0]!.table, `table with maintenance: ${kept.map((s) => s.table).join(', ')}`);
  assert.ok(kept.every((s) => s.walMb <= 34), `log with maintenance: ${kept.map((s) => s.walMb).join(', ')} MB`);
});

test('statistics are gathered too (ANALYZE) at the first run, and close waits for a run under way', async () => {
  const db = await openPglite({ maintenance: { everyMs: 20, vacuumEveryMs: 3_600_000 } });
  await db.query('CREATE TABLE counted (id int)');
  await db.query('INSERT INTO counted SELECT generate_series(1, 1000)');
  await delay(200);
  const { rows } = await db.query<{ last_vacuum: Date | null; last_analyze: Date | null }>("SELECT last_vacuum, last_analyze FROM pg_stat_user_tables WHERE relname = 'counted'");
  assert.ok(rows[0]?.last_vacuum && rows[0].last_analyze, JSON.stringify(rows));
  await db.close();
});
