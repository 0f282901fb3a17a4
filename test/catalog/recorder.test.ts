import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CallRecorder, type CallRecord } from '../../src/catalog/recorder.js';
import { ManualClock } from '../../src/core/clock.js';
import type { Db } from '../../src/core/db.js';
import { createLogger } from '../../src/core/log.js';
import { openTestDb, skipReason, testBackends } from '../helpers/db.js';
import { interceptStatements } from '../helpers/db-intercept.js';

const DAY = 86_400_000;

const call = (at: Date, operation: string): CallRecord => ({ at, operation, via: 'rest', actor: 'token:t', project: null, outcome: 'ok', durationMs: 1, input: {} });

for (const backend of testBackends()) {
  describe(`operation call records: retention (${backend})`, async () => {
    const skip = await skipReason(backend);
    let db: Db;
    before(async () => {
      if (!skip) db = await openTestDb(backend);
    });
    after(async () => db?.close());

    const operations = async () => (await db.query<{ operation: string }>('SELECT operation FROM operation_calls ORDER BY at')).rows.map((r) => r.operation);

    test('records past the retention are deleted as new ones are written, at most once an hour', { skip }, async () => {
      await db.query('DELETE FROM operation_calls');
      const clock = new ManualClock(new Date('2026-06-01T12:00:00Z'));
      let days = 30;
      const recorder = new CallRecorder(db, createLogger('silent'), { clock, days: () => days });
      const ago = (d: number) => new Date(clock.now().getTime() - d * DAY);
      recorder.record(call(ago(40), 'old'));
      recorder.record(call(ago(29), 'recent'));
      await recorder.flush();
      // The first write prunes: the 40-day-old record was already past 30 days.
      assert.deepEqual(await operations(), ['recent']);

      // The retention is read at each prune (a live setting): shortening it takes effect at the next one, not before an hour has passed.
      days = 7;
      recorder.record(call(ago(0), 'now'));
      await recorder.flush();
      assert.deepEqual(await operations(), ['recent', 'now']);
      clock.advance(3_600_000);
      recorder.record(call(clock.now(), 'later'));
      await recorder.flush();
      assert.deepEqual(await operations(), ['now', 'later']);
    });

    test('a prune far behind deletes in bounded statements, so none runs past the database statement limit', { skip }, async () => {
      await db.query('DELETE FROM operation_calls');
      const clock = new ManualClock(new Date('2026-06-01T12:00:00Z'));
      await db.query(
        `INSERT INTO operation_calls (at, operation, interface, actor, outcome, duration_ms)
         SELECT $1::timestamptz - make_interval(secs => i), 'old', 'rest', 'token:t', 'ok', 1 FROM generate_series(1, 12000) AS i`,
        [new Date(clock.now().getTime() - 40 * DAY)],
      );
      const deletes: number[] = [];
      const counted = interceptStatements(db, async (sql, params, run) => {
        const result = await run();
        if (/^DELETE FROM operation_calls/.test(sql)) deletes.push(result.rowCount);
        return result;
      }, { keepOpen: true });
      const recorder = new CallRecorder(counted, createLogger('silent'), { clock, days: () => 30 });
      recorder.record(call(clock.now(), 'now'));
      await recorder.flush();
      assert.deepEqual(await operations(), ['now']);
      assert.deepEqual(deletes, [5000, 5000, 2000]);
    });
  });
}
