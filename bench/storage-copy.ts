// `supervisor storage copy` figures (printed, never asserted): a data dir whose audit log
// grew large, copied between PostgreSQL and the embedded database. Rows/s should hold as
// the table grows (one scan of each table, not a re-read per batch); the floor is one bare
// SELECT of the same rows as JSON on the source.
import { performance } from 'node:perf_hooks';
import { DOMAINS } from '../src/app.js';
import type { Db } from '../src/core/db.js';
import { copyDatabase } from '../src/core/db-copy.js';
import { migrate } from '../src/core/migrate.js';
import { openTestDb, type Backend } from '../test/helpers/db.js';

const SIZES = [25_000, 100_000];
const migrateAll = async (db: Db): Promise<void> => void (await migrate(db, DOMAINS));

async function once(from: Backend, to: Backend, rows: number): Promise<void> {
  const source = await openTestDb(from);
  const target = await openTestDb(to, { empty: true });
  try {
    await source.query(
      `INSERT INTO audit_log (at, actor, action, target, outcome, detail)
       SELECT now() - n * interval '1 second', 'token:agent(0123456789ab)', 'secret.read', 'project/shop/key_' || (n % 50), 'ok', jsonb_build_object('version', n % 7)
         FROM generate_series(1, ${rows}) n`,
    );
    let start = performance.now();
    await source.query('SELECT row_to_json(r)::text AS j FROM audit_log r');
    const bare = performance.now() - start;
    start = performance.now();
    await copyDatabase(source, target, { force: false, migrate: migrateAll });
    const copy = performance.now() - start;
    console.log(
      `  ${`${from} → ${to}, ${rows.toLocaleString('en')} audit rows`.padEnd(40)} ${copy.toFixed(0).padStart(6)} ms  ${((rows / copy) * 1000).toFixed(0).padStart(7)} rows/s   bare SELECT of the rows ${bare.toFixed(0).padStart(5)} ms (copy ${(copy / bare).toFixed(1)}×)`,
    );
  } finally {
    await source.close();
    await target.close();
  }
}

export async function benchStorageCopy(): Promise<void> {
  for (const [from, to] of [['postgres', 'pglite'], ['pglite', 'postgres']] as const) {
    for (const rows of SIZES) await once(from, to, rows);
  }
}
