// A daemon claims a queued loop with one committed UPDATE (running, owned by it) and only then
// sets it going. What reads or ends the loop around that claim sees it as it is: a claimed loop
// not yet launched is its daemon's running loop, not an orphan; and a cancel decided on the queued
// loop it read does not end a loop a daemon claimed meanwhile (which then ran on, its cancel lost);
// nor does a launch that finds the checkout refused mark interrupted a loop another daemon took.
// A loop read just before its run here ended is not taken for orphaned either.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import type { Db, QueryResult } from '../../src/core/db.js';
import { adminPrincipal } from '../../src/core/principal.js';
import { processOwner } from '../../src/core/process-info.js';
import { skipReason, testBackends } from '../helpers/db.js';
import { interceptStatements } from '../helpers/db-intercept.js';
import { assertRejects } from '../helpers/errors.js';
import { openTestServices, type TestServices } from '../helpers/services.js';
import { fakeClaude, GONE_DAEMON_HERE, insertRun, projectRepo, type FakeClaude } from './domain-fixture.js';
import { tempDir, waitFor, writeFiles } from './fixture.js';
import { FEATURE, GOOD, GREETER, planRule } from './greeter.js';

const CLAIM = /^UPDATE piv_runs SET status = 'running', owner = \$1/;
const SAVE = /^UPDATE piv_runs SET state = \$2/;
/** Another daemon, alive: the test runner stands in for it. */
const other = processOwner(process.ppid);

/** Runs around each statement the daemon sends; `result` is there after it ran. */
type Hook = (sql: string, params: readonly unknown[], result?: QueryResult<unknown>) => Promise<void> | void;

for (const backend of testBackends()) {
  describe(`loops around the pump's claim [${backend}]`, { skip: await skipReason(backend) }, () => {
    let s: TestServices;
    let admin: LocalInvoker;
    let fake: FakeClaude;
    let hook: Hook | undefined;
    const hooked = (db: Db): Db =>
      interceptStatements(db, async (sql, params = [], run) => {
        await hook?.(sql.trim(), params);
        const result = await run();
        await hook?.(sql.trim(), params, result);
        return result;
      });

    before(async () => {
      fake = await fakeClaude();
      // One loop at a time, so a second one waits in the queue.
      s = await openTestServices(backend, { SUPERVISOR_AGENT_COMMAND: fake.command, SUPERVISOR_AGENT_FIRST_OUTPUT_TIMEOUT_MS: '8000', SUPERVISOR_PIV_CONCURRENCY: '1' }, { wrapDb: hooked });
      admin = new LocalInvoker(s, adminPrincipal('test-admin'), 'internal');
    });
    after(async () => {
      hook = undefined;
      await s?.close();
      await fake?.remove();
    });

    /** A loop of project `name` waiting in the queue behind a hung loop of another project; its id, the other loop's, and its checkout. */
    const queuedBehind = async (t: TestContext, name: string): Promise<{ id: unknown; first: unknown; dir: string }> => {
      await fake.script([planRule, { match: 'IMPLEMENT phase', hang: true }]);
      await admin.invoke('add_project', { project: `${name}-holder`, directory: await projectRepo(t, GREETER) });
      const dir = await projectRepo(t, GREETER);
      await admin.invoke('add_project', { project: name, directory: dir });
      const first = await admin.invoke('start_piv', { project: `${name}-holder`, feature: FEATURE, validationCommands: ['node check.mjs'] });
      t.after(() => admin.invoke('cancel_piv', { id: first.id }).catch(() => undefined));
      const { id } = await admin.invoke('start_piv', { project: name, feature: FEATURE, validationCommands: ['node check.mjs'] });
      assert.equal((await admin.invoke('get_piv_status', { id })).status, 'queued');
      return { id, first: first.id, dir };
    };

    /**
     * cancel_piv of `id`, with another daemon taking the loop (`take`, given the id and that
     * daemon) just before the cancel's statement `ending` runs, and ending it when asked to (the
     * cancel's pg_notify): whether it was asked, and the cancel's answer.
     */
    const cancelTakenMeanwhile = async (t: TestContext, id: unknown, ending: (sql: string, params: readonly unknown[]) => boolean, take: string) => {
      let asked = false;
      hook = async (sql, params, result) => {
        if (!result && ending(sql, params)) await s.db.query(take, [id, other]);
        if (result && sql.startsWith('SELECT pg_notify') && params[1] === id) {
          hook = undefined;
          asked = true;
          await s.db.query(`UPDATE piv_runs SET status = 'cancelled', finished_at = now() WHERE id = $1 AND owner = $2`, [id, other]);
        }
      };
      t.after(() => (hook = undefined));
      const cancelled = await admin.invoke('cancel_piv', { id });
      return { asked, cancelled };
    };

    test('claimed, not yet launched: get_piv_status shows it running, and a wait goes on until the loop has ended', async (t) => {
      await fake.script([planRule, { match: 'IMPLEMENT phase', ...GOOD }]);
      await admin.invoke('add_project', { project: 'gap', directory: await projectRepo(t, GREETER) });
      // The claim's answer is held, once it committed, until released.
      let release = () => undefined as void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let claimed = () => undefined as void;
      const claim = new Promise<void>((resolve) => (claimed = resolve));
      hook = async (sql, _params, result) => {
        if (!result || !CLAIM.test(sql) || result.rows.length === 0) return;
        hook = undefined;
        claimed();
        await released;
      };
      t.after(() => release());

      const { id } = await admin.invoke('start_piv', { project: 'gap', feature: FEATURE, validationCommands: ['node check.mjs'] });
      await claim;
      assert.equal((await s.db.query<{ status: string }>('SELECT status FROM piv_runs WHERE id = $1', [id])).rows[0]!.status, 'running');

      assert.equal((await admin.invoke('get_piv_status', { id })).status, 'running', 'not taken for a loop its daemon left');
      let answered = false;
      const waited = admin.invoke('get_piv_status', { id, waitSeconds: 50 }).finally(() => (answered = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(answered, false, 'the wait goes on while the claim is launched');

      release();
      const done = await waited;
      assert.equal(done.status, 'succeeded', JSON.stringify(done.failure));
    });

    test('a loop read just before its run here ended is shown as it ended, not as interrupted', async (t) => {
      await fake.script([planRule, { match: 'IMPLEMENT phase', ...GOOD }]);
      await admin.invoke('add_project', { project: 'ending', directory: await projectRepo(t, GREETER) });
      // Its validation waits for a gate file, so the loop can be held in its last phase.
      const gate = join(await tempDir(t), 'gate');
      const waitGate = `node -e "const f = require('fs'); const w = () => (f.existsSync(process.argv[1]) ? process.exit(0) : setTimeout(w, 20)); w()" ${gate}`;
      const { id } = await admin.invoke('start_piv', { project: 'ending', feature: FEATURE, validationCommands: ['node check.mjs', waitGate] });
      await waitFor(async () => (await admin.invoke('get_piv_status', { id })).phase === 'validate', 'the loop to validate', 30_000);

      // The status call's read of the row (running) is answered only once the loop has ended here.
      hook = async (sql, params, result) => {
        if (!result || !/FROM piv_runs WHERE id = \$1$/.test(sql) || params[0] !== id || (result.rows[0] as { status?: string } | undefined)?.status !== 'running') return;
        hook = undefined;
        await writeFile(gate, '');
        await waitFor(async () => (await s.db.query<{ status: string }>('SELECT status FROM piv_runs WHERE id = $1', [id])).rows[0]!.status !== 'running', 'the loop to end', 30_000);
        await new Promise((resolve) => setTimeout(resolve, 300));
      };
      t.after(() => (hook = undefined));
      const seen = await admin.invoke('get_piv_status', { id });
      assert.equal(seen.status, 'succeeded', JSON.stringify(seen.failure));
      assert.equal(seen.note, undefined);
    });

    test('a queued loop claimed by another daemon while it was being cancelled is cancelled through that daemon, not ended over its run', async (t) => {
      const { id } = await queuedBehind(t, 'claimed');

      // Another daemon claims the loop just before the cancel's end is saved.
      const { asked, cancelled } = await cancelTakenMeanwhile(t, id, (sql, params) => SAVE.test(sql) && params[0] === id, `UPDATE piv_runs SET status = 'running', owner = $2 WHERE id = $1`);
      assert.equal(asked, true, 'the daemon that claimed the loop was asked to cancel it');
      assert.equal(cancelled.status, 'cancelled');
      const row = (await s.db.query<{ owner: string; state: { status: string } }>('SELECT owner, state FROM piv_runs WHERE id = $1', [id])).rows[0]!;
      assert.equal(row.owner, other);
      assert.equal(row.state.status, 'running', "the cancel did not write its end over the other daemon's run");
    });

    test('a loop without a state, left running by a gone daemon and taken over by another while it was being cancelled, is cancelled through that daemon', async (t) => {
      await admin.invoke('add_project', { project: 'stateless', directory: await projectRepo(t, GREETER) });
      // Its daemon, on this host, died as it began the loop.
      const id = await insertRun(s.db, { project: 'stateless', status: 'running', phase: 'prime', owner: GONE_DAEMON_HERE });
      t.after(() => s.db.query('DELETE FROM piv_runs WHERE id = $1', [id]));

      // A daemon starting meanwhile takes it over (its status stays running, its owner changes) just
      // before the cancel's end is written.
      const ending = (sql: string, params: readonly unknown[]) => sql.startsWith('UPDATE piv_runs SET status = $2') && params[0] === id && params[1] === 'cancelled';
      const { asked, cancelled } = await cancelTakenMeanwhile(t, id, ending, 'UPDATE piv_runs SET owner = $2 WHERE id = $1');
      assert.equal(asked, true, 'the daemon that took the loop over was asked to cancel it, not ended over');
      assert.equal(cancelled.status, 'cancelled');
    });

    test('a cancel whose loop keeps changing under it gives up after three looks, ending nothing, and the next cancel ends it', async (t) => {
      const { id } = await queuedBehind(t, 'restless');

      // Each time the cancel is about to end it, the queued loop has just changed (queued, interrupted, queued …).
      let changes = 0;
      hook = async (sql, params, result) => {
        if (result || !SAVE.test(sql) || params[0] !== id) return;
        changes += 1;
        await s.db.query(`UPDATE piv_runs SET status = CASE status WHEN 'queued' THEN 'interrupted' ELSE 'queued' END WHERE id = $1`, [id]);
      };
      t.after(() => (hook = undefined));
      await assertRejects(admin.invoke('cancel_piv', { id }), 'unavailable', /kept changing while it was being cancelled; cancel_piv again/);
      assert.equal(changes, 3);
      assert.notEqual((await s.db.query<{ status: string }>('SELECT status FROM piv_runs WHERE id = $1', [id])).rows[0]!.status, 'cancelled');

      hook = undefined;
      assert.equal((await admin.invoke('cancel_piv', { id })).status, 'cancelled');
    });

    test('a launch that finds the checkout refused leaves alone a loop another daemon took over meanwhile', async (t) => {
      const { id, first, dir } = await queuedBehind(t, 'dirtied');
      // Edited while it waited: its launch will refuse the checkout.
      await writeFiles(dir, { 'notes.txt': 'mine\n' });

      // Another daemon takes the loop over just as the refusal is recorded.
      let recorded = false;
      hook = async (sql, params, result) => {
        if (!sql.startsWith('UPDATE piv_runs SET status = $2') || params[0] !== id || params[1] !== 'interrupted') return;
        if (result) recorded = true;
        else await s.db.query('UPDATE piv_runs SET owner = $2 WHERE id = $1', [id, other]);
      };
      t.after(async () => {
        hook = undefined;
        await s.db.query('DELETE FROM piv_runs WHERE id = $1', [id]);
      });

      await admin.invoke('cancel_piv', { id: first });
      await waitFor(async () => recorded, 'the launch to record the refusal', 30_000);
      const row = (await s.db.query<{ status: string; owner: string }>('SELECT status, owner FROM piv_runs WHERE id = $1', [id])).rows[0]!;
      assert.deepEqual([row.status, row.owner], ['running', other], "the other daemon's loop, still running");
    });
  });
}
