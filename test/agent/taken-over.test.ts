// A daemon out of touch with the database long enough for another to take its PIV loop over
// (that one took it for gone) stops its own run of the loop once it is back, rather than run a
// second agent in the checkout and overwrite the loop's record with its end.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import { adminPrincipal } from '../../src/core/principal.js';
import { presenceLock } from '../../src/core/presence.js';
import { processOwner } from '../../src/core/process-info.js';
import { skipReason, terminateBackend } from '../helpers/db.js';
import { lockHolderPid } from '../helpers/lock-session.js';
import { capturedLogLines, openTestServices, type TestServices } from '../helpers/services.js';
import { fakeClaude, projectRepo, type FakeClaude } from './domain-fixture.js';
import { processGone, readPid, tempDir, waitFor } from './fixture.js';
import { FEATURE, GREETER, planRule } from './greeter.js';

describe('a PIV loop taken over by another daemon while this one was out of touch [postgres]', { skip: await skipReason('postgres') }, () => {
  let s: TestServices;
  let admin: LocalInvoker;
  let fake: FakeClaude;
  before(async () => {
    fake = await fakeClaude();
    s = await openTestServices('postgres', { SUPERVISOR_AGENT_COMMAND: fake.command, SUPERVISOR_AGENT_FIRST_OUTPUT_TIMEOUT_MS: '8000' });
    admin = new LocalInvoker(s, adminPrincipal('test-admin'), 'internal');
  });
  after(async () => {
    await s?.close();
    await fake?.remove();
  });

  /** A loop of a new project run here, hung in its implement phase; the agent's pid. */
  const implementing = async (t: TestContext, project: string): Promise<{ id: unknown; agent: number }> => {
    const pidFile = join(await tempDir(t), 'grandchild.pid');
    await fake.script([planRule, { match: 'IMPLEMENT phase', hang: true, grandchild: pidFile }]);
    await admin.invoke('add_project', { project, directory: await projectRepo(t, GREETER) });
    const { id } = await admin.invoke('start_piv', { project, feature: FEATURE, validationCommands: ['node check.mjs'] });
    await waitFor(async () => (await admin.invoke('get_piv_status', { id })).phase === 'implement', 'the loop to implement', 30_000);
    return { id, agent: await readPid(pidFile) };
  };

  test('once its presence is back, the daemon stops its agent and leaves the loop as the other daemon has it', async (t) => {
    const { id, agent } = await implementing(t, 'contested');
    const { state: before, owner: mine } = (await s.db.query<{ state: unknown; owner: string }>('SELECT state, owner FROM piv_runs WHERE id = $1', [id])).rows[0]!;

    // While this daemon's presence connection was down, another daemon (the test runner stands in for it) took the loop over.
    const other = processOwner(process.ppid);
    await s.db.query('UPDATE piv_runs SET owner = $2 WHERE id = $1', [id, other]);
    t.after(() => s.db.query('DELETE FROM piv_runs WHERE id = $1', [id]));
    const presence = await lockHolderPid(s.db, presenceLock(mine));
    assert.ok(presence, 'this daemon holds its presence');
    await terminateBackend(presence);

    await waitFor(() => processGone(agent), `this daemon's agent (pid ${agent}) to be stopped once its presence is back`, 15_000);
    // Its end, which it would have saved, is refused: the loop is no longer its own.
    await waitFor(() => capturedLogLines.some((line) => line.includes(`PIV loop ${id} is no longer this daemon's to run`)), 'the run here to end', 15_000);
    const row = (await s.db.query<{ status: string; owner: string; state: unknown; finished_at: Date | null }>('SELECT status, owner, state, finished_at FROM piv_runs WHERE id = $1', [id])).rows[0]!;
    assert.deepEqual([row.status, row.owner, row.finished_at], ['running', other, null], "the other daemon's loop, still running");
    assert.deepEqual(row.state, before, 'nothing of the stopped run written over it');
    const log = await s.db.query<{ message: string }>('SELECT message FROM piv_log WHERE run_id = $1 ORDER BY id', [id]);
    assert.deepEqual(log.rows.map((r) => r.message).filter((m) => m.startsWith('implement ')), ['implement started (attempt 1)'], "nor the stopped run's end in the loop's progress log");
    const phases = await s.db.query<{ status: string; error: string }>("SELECT status, error FROM tasks WHERE starts_with(id, $1) AND type = 'piv_implement'", [`piv:${id}:`]);
    assert.deepEqual(phases.rows, [{ status: 'interrupted', error: 'interrupted: another daemon took the loop over while this one was out of touch with the database' }]);
    const tasks = (await admin.invoke('get_task_stats', { type: 'piv_run', project: 'contested' })).groups as Record<string, unknown>[];
    assert.deepEqual(tasks.map((g) => [g.count, g.cancelled, g.failed]), [[0, 0, 0]], 'the loop task is not ended here');
  });

  test('a loop another daemon put back in the queue meanwhile (resume_piv) is stopped here and stays queued for any daemon, not ended', async (t) => {
    const { id, agent } = await implementing(t, 'requeued');
    t.after(() => admin.invoke('cancel_piv', { id }).catch(() => undefined));
    const { owner: mine } = (await s.db.query<{ owner: string }>('SELECT owner FROM piv_runs WHERE id = $1', [id])).rows[0]!;
    // What resume_piv through another daemon does to a loop whose daemon it took for gone.
    await s.db.query("UPDATE piv_runs SET status = 'queued' WHERE id = $1", [id]);
    await terminateBackend((await lockHolderPid(s.db, presenceLock(mine)))!);
    await waitFor(() => processGone(agent), `this daemon's agent (pid ${agent}) to be stopped once its presence is back`, 15_000);
    await waitFor(() => capturedLogLines.some((line) => line.includes(`PIV loop ${id} is no longer this daemon's to run`)), 'the run here to end', 15_000);
    // Queued for whichever daemon takes it (this one may have already): never ended.
    const row = (await s.db.query<{ status: string; state: { status: string } }>('SELECT status, state FROM piv_runs WHERE id = $1', [id])).rows[0]!;
    assert.ok(['queued', 'running'].includes(row.status), row.status);
    assert.equal(row.state.status, 'running');
  });
});
