// A daemon's stop puts the loops it runs back in the queue, to resume at its next start. A project
// removed with force during that stop must leave its loop cancelled, its state ended, rather than
// queued to run again for a project that is gone: the loop has already saved its end (cancelled)
// when the removal comes, so the removal's cancel does not see it, and only the requeue can tell.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import type { Db, QueryResult } from '../../src/core/db.js';
import { adminPrincipal } from '../../src/core/principal.js';
import { skipReason, testBackends } from '../helpers/db.js';
import { interceptStatements } from '../helpers/db-intercept.js';
import { openTestServices, type TestServices } from '../helpers/services.js';
import { fakeClaude, projectRepo, type FakeClaude } from './domain-fixture.js';
import { processGone, readPid, tempDir, waitFor } from './fixture.js';
import { FEATURE, GREETER, planRule } from './greeter.js';

const SAVE = /^UPDATE piv_runs SET state = \$2/;

/** Runs after each statement the daemon sends. */
type Hook = (sql: string, params: readonly unknown[], result: QueryResult<unknown>) => Promise<void> | void;

for (const backend of testBackends()) {
  describe(`a project removed with force while the daemon stops [${backend}]`, { skip: await skipReason(backend) }, () => {
    let s: TestServices;
    let fake: FakeClaude;
    let hook: Hook | undefined;
    const hooked = (db: Db): Db =>
      interceptStatements(db, async (sql, params = [], run) => {
        const result = await run();
        await hook?.(sql.trim(), params, result);
        return result;
      });

    before(async () => {
      fake = await fakeClaude();
      s = await openTestServices(backend, { SUPERVISOR_AGENT_COMMAND: fake.command, SUPERVISOR_AGENT_FIRST_OUTPUT_TIMEOUT_MS: '8000' }, { wrapDb: hooked });
    });
    after(async () => {
      hook = undefined;
      await s?.close();
      await fake?.remove();
    });

    test('removed after the loop saved its stop, before it was queued again: it stays cancelled, its state ended, not queued', async (t) => {
      const admin = new LocalInvoker(s, adminPrincipal('test-admin'), 'internal');
      const pidFile = join(await tempDir(t), 'grandchild.pid');
      await fake.script([planRule, { match: 'IMPLEMENT phase', hang: true, grandchild: pidFile }]);
      await admin.invoke('add_project', { project: 'going', directory: await projectRepo(t, GREETER) });
      const { id } = await admin.invoke('start_piv', { project: 'going', feature: FEATURE, validationCommands: ['node check.mjs'] });
      await waitFor(async () => (await admin.invoke('get_piv_status', { id })).phase === 'implement', 'the loop to implement', 30_000);
      const agent = await readPid(pidFile);

      let removed = false;
      hook = async (sql, params) => {
        if (!SAVE.test(sql) || params[0] !== id || (JSON.parse(String(params[1])) as { status: string }).status !== 'cancelled') return;
        hook = undefined;
        await admin.invoke('remove_project', { project: 'going', force: true });
        removed = true;
      };
      await s.agent.shutdown();
      assert.ok(removed, 'the project was removed during the stop');
      assert.equal(await processGone(agent), true, 'the stop killed the agent');

      const row = (await s.db.query<{ status: string; state: { status: string; finishedAt?: string } }>('SELECT status, state FROM piv_runs WHERE id = $1', [id])).rows[0]!;
      assert.deepEqual([row.status, row.state.status, typeof row.state.finishedAt], ['cancelled', 'cancelled', 'string']);
      const log = (await s.db.query<{ message: string }>('SELECT message FROM piv_log WHERE run_id = $1 ORDER BY id', [id])).rows.map((r) => r.message);
      assert.ok(!log.some((m) => m.includes('resumes at')), log.join('\n'));
    });
  });
}
