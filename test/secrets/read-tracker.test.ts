// Buffered read audit through a database blip: the batch of secret reads already answered is
// written once the database is back, not dropped; only a refusal that is not an outage, or an
// outage past the retry window, loses rows, and then the log says how many.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Db } from '../../src/core/db.js';
import { SupervisorError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/log.js';
import { ReadTracker } from '../../src/secrets/read-tracker.js';
import { openTestDb, skipReason, testBackends } from '../helpers/db.js';

/** `db`, with its next `failures` statements refused as a dropped connection is. */
function blipping(db: Db, failures: { left: number; error: () => Error }): Db {
  return new Proxy(db, {
    get(target, key, receiver) {
      if (key !== 'query') return Reflect.get(target, key, receiver) as unknown;
      return (sql: string, params?: readonly unknown[]) => {
        if (failures.left-- > 0) return Promise.reject(failures.error());
        return target.query(sql, params);
      };
    },
  });
}

/** A logger whose lines land in `lines`. */
const loggerInto = (lines: string[]) => createLogger('warn', { write: (line: string) => void lines.push(line) });

const dropped = () => new SupervisorError('unavailable', 'lost the connection to PostgreSQL (Connection terminated unexpectedly); the daemon reconnects by itself, try again');
const at = new Date('2026-12-02T01:00:00Z');
const read = (i: number) => ({ secretId: 1, path: `project/blip/k${i}`, version: 1, actor: 'token:blip', at });

for (const backend of testBackends()) {
  describe(`secret read audit through a database blip [${backend}]`, { skip: await skipReason(backend) }, () => {
    let db: Db;
    before(async () => {
      db = await openTestDb(backend);
    });
    after(() => db?.close());

    const auditRows = async (prefix: string) =>
      (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE action = 'secret.read' AND target LIKE $1", [`${prefix}%`])).rows[0]!.n;

    test('reads buffered while the connection drops twice are all written once it is back; nothing is logged as lost', async () => {
      const waits: number[] = [];
      const lines: string[] = [];
      const tracker = new ReadTracker(blipping(db, { left: 2, error: dropped }), loggerInto(lines), async (ms) => void waits.push(ms));
      for (let i = 0; i < 5; i++) tracker.track(read(i));
      assert.equal(tracker.pending(1), 5);

      await tracker.flush();

      assert.equal(await auditRows('project/blip/'), 5);
      assert.equal(waits.length, 2, 'waited before each retry');
      assert.equal(tracker.pending(1), 0);
      assert.equal(lines.some((l) => l.includes('"lost"')), false);
      assert.equal(lines.filter((l) => l.includes('trying again')).length, 2);
    });

    test('a refusal that is not an outage is not retried: the rows are reported lost, and the next batch is written', async () => {
      const waits: number[] = [];
      const lines: string[] = [];
      const tracker = new ReadTracker(blipping(db, { left: 1, error: () => new SupervisorError('invalid_input', 'refused') }), loggerInto(lines), async (ms) => void waits.push(ms));
      tracker.track({ ...read(0), path: 'project/refused/k0' });
      await tracker.flush();
      tracker.track({ ...read(1), path: 'project/refused/k1' });
      await tracker.flush();

      assert.deepEqual(waits, []);
      assert.equal(await auditRows('project/refused/'), 1);
      assert.ok(lines.some((l) => l.includes('"lost":1') && l.includes('could not write secret read audit rows')));
    });
  });
}
