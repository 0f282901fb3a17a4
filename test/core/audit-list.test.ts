// The audit log listed with filters, as `supervisor audit list <target>` asks: newest first, the
// filters combined, and a page of one busy target read from the index's end, not every row of it
// sorted (a secret read 45,000 times took ~25 ms a page, and held up the embedded database).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditLog } from '../../src/core/audit.js';
import { ManualClock } from '../../src/core/clock.js';
import type { Db } from '../../src/core/db.js';
import { interceptStatements } from '../helpers/db-intercept.js';
import { openTestDb, skipReason, testBackends } from '../helpers/db.js';

for (const backend of testBackends()) {
  describe(`the audit log listed [${backend}]`, { skip: await skipReason(backend) }, () => {
    let db: Db;
    let statements: Array<{ sql: string; params: readonly unknown[] }>;
    let audit: AuditLog;
    before(async () => {
      db = await openTestDb(backend);
      await db.query(`INSERT INTO audit_log (at, actor, action, target, outcome, detail)
        SELECT now(), CASE WHEN g % 2 = 0 THEN 'token:a' ELSE 'token:b' END, CASE WHEN g % 3 = 0 THEN 'secret.write' ELSE 'secret.read' END,
               CASE WHEN g % 100 = 0 THEN 'project/quiet/k' WHEN g % 2 = 0 THEN 'project/busy/k' ELSE 'project/other/' || (g % 97) END, 'ok', '{}'::jsonb
        FROM generate_series(1, 20000) g`);
      await db.query('ANALYZE audit_log');
      statements = [];
      const seen = interceptStatements(db, (sql, params, run) => (statements.push({ sql, params: params ?? [] }), run()));
      audit = new AuditLog(seen, new ManualClock(new Date('2026-12-02T03:00:00Z')));
    });
    after(() => db?.close());

    test('filters combine, newest first, and `before` pages on', async () => {
      const page = await audit.list({ target: 'project/busy/k', actor: 'token:a', action: 'secret.w', limit: 3 });
      assert.equal(page.length, 3);
      assert.ok(page.every((r) => r.target === 'project/busy/k' && r.actor === 'token:a' && r.action === 'secret.write'));
      assert.ok(page[0]!.id > page[1]!.id && page[1]!.id > page[2]!.id);
      const next = await audit.list({ target: 'project/busy/k', actor: 'token:a', action: 'secret.w', limit: 3, before: page[2]!.id });
      assert.ok(next[0]!.id < page[2]!.id);
      assert.equal((await audit.list({ target: 'project/quiet/k', limit: 5000 })).length, 200);
    });

    /** The most rows any step of the statement list() sends for `target` handled (EXPLAIN ANALYZE: rows out, and rows read and filtered away). */
    async function rowsTouched(target: string): Promise<number> {
      statements.length = 0;
      await audit.list({ target, limit: 50 });
      const { sql, params } = statements.find((s) => s.sql.includes('FROM audit_log'))!;
      const { rows } = await db.query<{ 'QUERY PLAN': Array<{ Plan: Record<string, unknown> }> | string }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
      const raw = rows[0]!['QUERY PLAN'];
      const walk = (node: Record<string, unknown>): number =>
        Math.max(Number(node['Actual Rows'] ?? 0) + Number(node['Rows Removed by Filter'] ?? 0), ...((node.Plans as Array<Record<string, unknown>> | undefined) ?? []).map(walk));
      return walk((typeof raw === 'string' ? (JSON.parse(raw) as Array<{ Plan: Record<string, unknown> }>) : raw)[0]!.Plan);
    }

    test("a page of one target, busy or quiet, touches about a page of rows, not every row of the target or the log", async () => {
      // Run a few times: a prepared statement may be re-planned generically after its fifth use.
      for (let i = 0; i < 7; i++) await audit.list({ target: 'project/busy/k', limit: 50 });
      for (const target of ['project/busy/k', 'project/quiet/k']) {
        const touched = await rowsTouched(target);
        assert.ok(touched <= 250, `${target}: ${touched} rows`);
      }
    });
  });
}
