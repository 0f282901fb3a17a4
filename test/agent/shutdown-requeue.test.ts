// A daemon's stop puts the loops it runs back in the queue, to resume at its next start. Two ways
// that went wrong: a daemon killed (kill -9) part-way through its stop left the loop ended as
// cancelled, since the loop saved its stop as its end before the requeue; and a project removed
// with force during the stop must leave its loop cancelled, not queued to run for a project that is gone.
import { afterEach, beforeEach, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import type { Db } from '../../src/core/db.js';
import { adminPrincipal } from '../../src/core/principal.js';
import { skipReason, testBackends } from '../helpers/db.js';
import { openTestServices, type TestServices } from '../helpers/services.js';
import { fakeClaude, projectRepo, type FakeClaude } from './domain-fixture.js';
import { processGone, readPid, tempDir, waitFor } from './fixture.js';
import { FEATURE, GREETER, planRule } from './greeter.js';

/** Runs after each statement the daemon sends outside a transaction, and after each transaction it commits. */
type Hook = (sql: string, params: readonly unknown[]) => Promise<void> | void;

for (const backend of testBackends()) {
  describe(`a loop stopped with the daemon [${backend}]`, { skip: await skipReason(backend) }, () => {
    let s: TestServices;
    let fake: FakeClaude;
    let hook: Hook | undefined;
    /** Statements in transactions that fail as if the database had gone away. */
    let refuse: RegExp | undefined;
    /** The database under the hook (the hook's own looks go there). */
    let raw: Db;
    /** Every change the daemon makes is committed by the time the hook sees it: what a daemon killed right then would leave. */
    const hooked = (db: Db): Db => ({
      ...(raw = db),
      kind: db.kind,
      query: async <T,>(sql: string, params?: readonly unknown[]) => {
        const result = await db.query<T>(sql, params);
        await hook?.(sql.trim(), params ?? []);
        return result;
      },
      transaction: async (fn, options) => {
        const result = await db.transaction((tx) => fn({ query: (sql, params) => (refuse?.test(sql) ? Promise.reject(new Error('Connection terminated unexpectedly')) : tx.query(sql, params)), exec: (sql) => tx.exec(sql) }), options);
        await hook?.('COMMIT', []);
        return result;
      },
    });

    beforeEach(async () => {
      fake = await fakeClaude();
      s = await openTestServices(backend, { SUPERVISOR_AGENT_COMMAND: fake.command, SUPERVISOR_AGENT_FIRST_OUTPUT_TIMEOUT_MS: '8000' }, { wrapDb: hooked });
    });
    afterEach(async () => {
      hook = undefined;
      refuse = undefined;
      await s?.close();
      await fake?.remove();
    });

    /** A loop of project `project` whose agent hangs in implement; its id, and the agent's pid. */
    async function implementing(t: TestContext, admin: LocalInvoker, project: string): Promise<{ id: string; agent: number }> {
      const pidFile = join(await tempDir(t), 'grandchild.pid');
      await fake.script([planRule, { match: 'IMPLEMENT phase', hang: true, grandchild: pidFile }]);
      await admin.invoke('add_project', { project, directory: await projectRepo(t, GREETER) });
      const { id } = await admin.invoke('start_piv', { project, feature: FEATURE, validationCommands: ['node check.mjs'] });
      await waitFor(async () => (await admin.invoke('get_piv_status', { id })).phase === 'implement', 'the loop to implement', 30_000);
      return { id: String(id), agent: await readPid(pidFile) };
    }

    const row = async (id: string): Promise<{ status: string; state: { status: string; next: string; finishedAt?: string } }> =>
      (await raw.query<{ status: string; state: { status: string; next: string; finishedAt?: string } }>('SELECT status, state FROM piv_runs WHERE id = $1', [id])).rows[0]!;

    test('killed at any point of its stop, the daemon leaves the loop to resume at the next start, never ended', async (t) => {
      const admin = new LocalInvoker(s, adminPrincipal('test-admin'), 'internal');
      const { id, agent } = await implementing(t, admin, 'stopping');
      // What the database holds after each change the stop commits: a daemon killed there leaves
      // exactly that, and the next start takes over a loop running under a gone owner, or runs a queued one.
      const seen: string[] = [];
      hook = async () => {
        const now = await row(id);
        seen.push(`${now.status}/${now.state.status}/${now.state.next}`);
      };
      await s.agent.shutdown();
      hook = undefined;
      assert.equal(await processGone(agent), true, 'the stop killed the agent');
      const resumable = new Set(['running/running/implement', 'queued/running/implement']);
      assert.deepEqual([...new Set(seen)].filter((state) => !resumable.has(state)), [], `the loop's row through the stop: ${[...new Set(seen)].join(', ')}`);
      assert.equal(seen.at(-1), 'queued/running/implement');
      const { rows } = await raw.query<{ agent_group: string | null }>('SELECT agent_group FROM piv_runs WHERE id = $1', [id]);
      assert.equal(rows[0]?.agent_group, null, 'the stopped agent is no longer recorded for the loop');
    });

    test('a stop that cannot queue the loop again (the database gone) leaves it running under the gone daemon, to resume, not failed', async (t) => {
      const admin = new LocalInvoker(s, adminPrincipal('test-admin'), 'internal');
      const { id } = await implementing(t, admin, 'unqueued');
      refuse = /SET status = 'queued'/;
      await s.agent.shutdown();
      const left = await row(id);
      assert.deepEqual([left.status, left.state.status, left.state.next], ['running', 'running', 'implement']);
    });

    test('a project removed with force during the stop leaves its loop cancelled, its state ended, not queued', async (t) => {
      const admin = new LocalInvoker(s, adminPrincipal('test-admin'), 'internal');
      const { id, agent } = await implementing(t, admin, 'going');
      let removed = false;
      hook = async (sql, params) => {
        if (!sql.startsWith('INSERT INTO piv_log') || params[0] !== id || !String(params[3]).includes("stopped by the daemon's shutdown")) return;
        hook = undefined;
        await admin.invoke('remove_project', { project: 'going', force: true });
        removed = true;
      };
      await s.agent.shutdown();
      assert.ok(removed, 'the project was removed during the stop');
      assert.equal(await processGone(agent), true, 'the stop killed the agent');

      const ended = await row(id);
      assert.deepEqual([ended.status, ended.state.status, typeof ended.state.finishedAt], ['cancelled', 'cancelled', 'string']);
      const log = (await s.db.query<{ message: string }>('SELECT message FROM piv_log WHERE run_id = $1 ORDER BY id', [id])).rows.map((r) => r.message);
      assert.ok(!log.some((m) => m.includes('resumes at')), log.join('\n'));
    });
  });
}
