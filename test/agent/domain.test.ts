// The PIV loop through the agent domain's operations, as an agent or a person uses it: the
// project's directory from the projects domain, the fake agent as the configured Claude Code
// command, the run in the background and its result from get_piv_status. Task timing and
// knowledge learn from every loop.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import { adminPrincipal, projectPrincipal } from '../../src/core/principal.js';
import { presenceLock } from '../../src/core/presence.js';
import { processOwner } from '../../src/core/process-info.js';
import { skipReason, testBackends } from '../helpers/db.js';
import { assertRejects } from '../helpers/errors.js';
import { interceptStatements } from '../helpers/db-intercept.js';
import { openTestServices, type TestServices } from '../helpers/services.js';
import { fakeClaude, GONE_DAEMON_HERE, insertRun, projectRepo, type FakeClaude } from './domain-fixture.js';
import { git, processGone, readPid, tempDir, waitFor, writeFiles } from './fixture.js';
import { FEATURE, GOOD, GREETER, PLAN, bad, planRule } from './greeter.js';

type Json = Record<string, unknown>;
let projects = 0;

for (const backend of testBackends()) {
  describe(`PIV loops through the agent domain [${backend}]`, { skip: await skipReason(backend) }, () => {
    let s: TestServices;
    let admin: LocalInvoker;
    let fake: FakeClaude;
    /** Statements that fail, as if the database had refused them. */
    let refuse: RegExp | undefined;

    before(async () => {
      fake = await fakeClaude();
      // The first-output timeout must outlast a fake agent's start on a loaded 2-core machine (the suite runs in parallel).
      s = await openTestServices(
        backend,
        { SUPERVISOR_AGENT_COMMAND: fake.command, SUPERVISOR_AGENT_FIRST_OUTPUT_TIMEOUT_MS: '8000', SUPERVISOR_PIV_CONCURRENCY: '2' },
        { wrapDb: (db) => interceptStatements(db, (sql, _params, run) => (refuse?.test(sql) ? Promise.reject(new Error('refused by the test')) : run())) },
      );
      admin = new LocalInvoker(s, adminPrincipal('test-admin'), 'internal');
    });
    after(async () => {
      await s.close();
      await fake.remove();
    });
    // A test that fails half-way must not leave loops holding the concurrency slots for the next ones.
    afterEach(async () => {
      for (const status of ['running', 'queued']) {
        for (const run of (await admin.invoke('list_piv_runs', { status, limit: 200 })).items as Json[]) {
          await admin.invoke('cancel_piv', { id: run.id }).catch(() => undefined);
        }
      }
    });

    /** A new project whose directory is a fresh greeter repository. */
    const project = async (t: Parameters<typeof projectRepo>[0]) => {
      const name = `greeter-${++projects}`;
      const dir = await projectRepo(t, GREETER);
      await admin.invoke('add_project', { project: name, directory: dir });
      return { name, dir };
    };
    const status = (id: unknown) => admin.invoke('get_piv_status', { id });
    const until = async (id: unknown, check: (s: Json) => boolean, what: string) => {
      let last: Json = {};
      // The last status is read when giving up, not when starting to wait.
      await waitFor(async () => check((last = await status(id))), what, 30_000).catch((err: Error) => {
        throw new Error(`${err.message} (last status: ${JSON.stringify(last).slice(0, 1000)})`);
      });
      return last;
    };

    test('end to end: start_piv answers at once, the loop runs in the background, get_piv_status gives the result', async (t) => {
      await fake.script([planRule, { match: 'IMPLEMENT phase', ...GOOD }]);
      const p = await project(t);

      const started = await admin.invoke('start_piv', { project: p.name, feature: FEATURE, validationCommands: ['node check.mjs'] });
      assert.match(String(started.id), /^[0-9a-f-]{36}$/);
      assert.ok(['queued', 'running'].includes(String(started.status)));
      assert.equal(started.branch, 'feature/greet-people-by-name');

      const done = await until(started.id, (x) => x.status === 'succeeded' || x.status === 'failed', 'the loop to finish');
      assert.equal(done.status, 'succeeded', JSON.stringify(done.failure));
      assert.equal(done.plan, PLAN);
      assert.equal((done.commits as unknown[]).length, 1);
      assert.deepEqual(done.filesChanged, ['greet.mjs']);
      assert.deepEqual({ ...(done.validation as Json), output: undefined }, { ok: true, commands: ['node check.mjs'], failedCommand: null, output: undefined });
      assert.match(String((done.validation as Json).output), /^\$ node check\.mjs\n\(exit 0, \d+ ms\)\ncheck passed\n$/);
      assert.deepEqual((done.timings as Json[]).map((x) => x.phase), ['prime', 'plan', 'implement', 'validate', 'commit']);
      assert.equal(done.turns, 5);
      assert.ok((done.progress as Json[]).some((e) => /committed [0-9a-f]{10} on feature\/greet-people-by-name/.test(String(e.message))));
      assert.ok((done.lastLines as string[]).length > 0, 'the last agent lines stay readable after the run');
      assert.equal(await git(p.dir, 'log', '--format=%s', 'main..feature/greet-people-by-name'), FEATURE);
      // What was kept: the context, the plan, each agent's transcript, each validation's output.
      assert.deepEqual([...(done.artifacts as string[])].sort(), ['context', 'implement-1-agent', 'plan', 'plan-agent', 'validation-1']);
      const transcript = await admin.invoke('get_piv_status', { id: started.id, artifact: 'implement-1-agent' });
      assert.match((transcript.artifact as Json).text as string, /^outcome: ok\nexit: 0; turns: 3/);
      await assertRejects(admin.invoke('get_piv_status', { id: started.id, artifact: 'nope' }), 'not_found', /has no artifact nope; it has context, /);

      const listed = await admin.invoke('list_piv_runs', { project: p.name });
      assert.deepEqual((listed.items as Json[]).map((r) => [r.id, r.status]), [[started.id, 'succeeded']]);
      await assertRejects(admin.invoke('list_piv_runs', { project: 'nope' }), 'not_found', /^no project nope; /);

      // Task timing recorded the run and each phase.
      const { groups } = (await admin.invoke('get_task_stats', { project: p.name })) as { groups: Json[] };
      assert.deepEqual(
        groups.map((g) => [g.type, g.count, g.successRate]),
        [
          ['piv_commit', 1, 1],
          ['piv_implement', 1, 1],
          ['piv_plan', 1, 1],
          ['piv_prime', 1, 1],
          ['piv_run', 1, 1],
          ['piv_validate', 1, 1],
        ],
      );
      // And the learning is in the project's knowledge.
      const found = (await admin.invoke('search_knowledge', { query: 'greet people by name', project: p.name, withText: true })).results as Json[];
      assert.equal(found[0]?.title, `PIV loop: ${FEATURE}`);
      assert.match(String(found[0]?.text), /Outcome: succeeded on branch feature\/greet-people-by-name after 0 retries/);
    });

    test('a feature said in common words only ("do it all") primes nothing and runs, where the knowledge search refuses such a query', async (t) => {
      await fake.script([planRule, { match: 'IMPLEMENT phase', ...GOOD }]);
      const p = await project(t);
      const started = await admin.invoke('start_piv', { project: p.name, feature: 'Do it all', validationCommands: ['node check.mjs'] });
      const done = await until(started.id, (x) => x.status === 'succeeded' || x.status === 'failed', 'the loop to finish');
      assert.equal(done.status, 'succeeded', JSON.stringify(done.failure));
    });

    test('when get_piv_status first says succeeded, the run\'s task timing and its learning are already recorded', async (t) => {
      await fake.script([planRule, { match: 'IMPLEMENT phase', ...GOOD }]);
      const p = await project(t);
      // A slow knowledge store widens the window in which a finished status could come before the learning.
      const add = s.knowledge.add.bind(s.knowledge);
      s.knowledge.add = async (...args) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return add(...args);
      };
      t.after(() => void (s.knowledge.add = add));
      const started = await admin.invoke('start_piv', { project: p.name, feature: FEATURE, validationCommands: ['node check.mjs'] });
      let last: Json = {};
      await waitFor(async () => !['queued', 'running'].includes(String((last = await status(started.id)).status)), 'the loop to finish', 30_000);
      assert.equal(last.status, 'succeeded', JSON.stringify(last.failure));
      const found = (await admin.invoke('search_knowledge', { query: 'greet people by name', project: p.name })).results as Json[];
      assert.equal(found[0]?.title, `PIV loop: ${FEATURE}`, 'the learning is there as soon as the loop reads as finished');
      const { groups } = (await admin.invoke('get_task_stats', { project: p.name, type: 'piv_run' })) as { groups: Json[] };
      assert.deepEqual(groups.map((g) => [g.type, g.count, g.successRate]), [['piv_run', 1, 1]]);
    });

    test('get_piv_status answers the start of a long plan and its length; the artifact gives it whole', async (t) => {
      const long = Array.from({ length: 200 }, (_, i) => `${i + 1}. Change line ${i + 1} of greet.mjs, carefully.`).join('\n');
      await fake.script([{ ...planRule, text: long }, { match: 'IMPLEMENT phase', ...GOOD }]);
      const p = await project(t);
      const done = await admin.invoke('start_piv', { project: p.name, feature: FEATURE, validationCommands: ['node check.mjs'], waitSeconds: 50 });
      assert.equal(done.status, 'succeeded', JSON.stringify(done.failure));
      const plan = String(done.plan);
      assert.ok(plan.length < 2_200, `${plan.length} characters`);
      assert.ok(long.startsWith(plan.slice(0, plan.lastIndexOf('\n'))), 'whole lines from the start');
      assert.match(plan, /\n… \(\d+ more characters; get_piv_status with artifact "plan" answers it whole\)$/);
      assert.equal(done.planChars, long.length);
      assert.equal(((await admin.invoke('get_piv_status', { id: done.id, artifact: 'plan' })).artifact as Json).text, long);
    });

    test('start_piv with waitSeconds answers with the finished result; a failed validation is retried, and the learning is primed into the next loop', async (t) => {
      await fake.script([planRule, { match: 'IMPLEMENT phase', attempts: [bad('Hi there'), GOOD] }]);
      const p = await project(t);

      const first = await admin.invoke('start_piv', { project: p.name, feature: FEATURE, validationCommands: ['node check.mjs'], waitSeconds: 50 });
      assert.equal(first.status, 'succeeded', JSON.stringify(first.failure));
      assert.equal(first.retries, 1);

      const [learning] = (await admin.invoke('search_knowledge', { query: 'greet', project: p.name, withText: true })).results as Json[];
      assert.match(String(learning?.text), /What failed:\n- attempt 1: \$ node check\.mjs/);
      assert.match(String(learning?.text), /expected "Hello, Ada!", got "Hi there"/);
      assert.match(String(learning?.text), /What fixed it: attempt 2 passed validation, changing greet\.mjs/);

      // The next loop in this project starts from a clean tree on main and is told what was learnt.
      await git(p.dir, 'switch', '-q', 'main');
      await fake.script([planRule, { match: 'IMPLEMENT phase', ...GOOD }]);
      const second = await admin.invoke('start_piv', { project: p.name, feature: 'Greet people by name again', validationCommands: ['node check.mjs'], waitSeconds: 50 });
      assert.equal(second.status, 'succeeded', JSON.stringify(second.failure));
      const plans = (await fake.calls(p.dir)).filter((c) => c.prompt.startsWith('PLAN phase'));
      assert.match(plans.at(-1)!.prompt, /## Related knowledge from earlier work\n\n- PIV loop: Greet people by name: Feature: Greet people by name/);
      assert.doesNotMatch(plans[0]!.prompt, /Related knowledge/);
    });

    test("the validation output in a loop's status keeps every command's output under its command, not only the last one's", async (t) => {
      await fake.script([planRule, { match: 'IMPLEMENT phase', ...bad('Hi there') }]);
      const p = await project(t);
      const lint = `node -e "console.log('lint: 2 warnings in greet.mjs')"`;
      const done = await admin.invoke('start_piv', { project: p.name, feature: FEATURE, validationCommands: [lint, 'node check.mjs'], maxRetries: 0, waitSeconds: 50 });
      assert.equal(done.status, 'failed');
      const validation = done.validation as Json;
      assert.equal(validation.failedCommand, 'node check.mjs');
      const output = String(validation.output);
      // The lint command passed with warnings, then the check failed: each under its command, in the order they ran.
      const [first, second] = output.split(/\n(?=\$ node check\.mjs\n)/);
      assert.ok(first!.startsWith(`$ ${lint}\n(exit 0, `), output);
      assert.match(first!, /\nlint: 2 warnings in greet\.mjs\n$/);
      assert.match(second ?? '', /^\$ node check\.mjs\n\(exit 1, \d+ ms\)\n[^]*got "Hi there"/);
    });

    test('get_piv_status with waitSeconds answers once the loop has ended (what `piv status --wait` repeats)', async (t) => {
      await fake.script([planRule, { match: 'IMPLEMENT phase', ...GOOD }]);
      const p = await project(t);
      const started = await admin.invoke('start_piv', { project: p.name, feature: FEATURE, validationCommands: ['node check.mjs'] });
      const done = await admin.invoke('get_piv_status', { id: started.id, waitSeconds: 50 });
      assert.equal(done.status, 'succeeded', JSON.stringify(done.failure));
      await assertRejects(admin.invoke('get_piv_status', { id: started.id, waitSeconds: 51 }), 'invalid_input', /at most 50: MCP clients give up on a call after 60 s/);
    });

    test('refusals come back from start_piv itself: a dirty tree, a project without a directory, a second loop in the project', async (t) => {
      await fake.script([planRule, { match: 'IMPLEMENT phase', hang: true }]);
      const p = await project(t);
      await writeFiles(p.dir, { 'notes.txt': 'mine\n' });
      await assertRejects(admin.invoke('start_piv', { project: p.name, feature: FEATURE }), 'conflict', /uncommitted changes \(notes\.txt\)/);
      assert.deepEqual((await admin.invoke('list_piv_runs', { project: p.name })).items, []);
      assert.equal(await git(p.dir, 'branch', '--list', 'feature/*'), '');

      await admin.invoke('add_project', { project: 'nodir' });
      await assertRejects(admin.invoke('start_piv', { project: 'nodir', feature: FEATURE }), 'invalid_input', /has no directory on this host; set it with update_project/);
      // An MCP client gives up on a call after 60 s: a longer wait would answer no one.
      const tooLong = /waitSeconds.*at most 50: MCP clients give up on a call after 60 s; to wait longer, call get_piv_status again/;
      await assertRejects(admin.invoke('start_piv', { project: p.name, feature: FEATURE, waitSeconds: 60 }), 'invalid_input', tooLong);
      await assertRejects(admin.invoke('resume_piv', { id: '00000000-0000-0000-0000-000000000000', waitSeconds: 600 }), 'invalid_input', tooLong);

      await git(p.dir, 'stash', '-u', '-q');
      const running = await admin.invoke('start_piv', { project: p.name, feature: FEATURE, validationCommands: ['node check.mjs'] });
      await assertRejects(admin.invoke('start_piv', { project: p.name, feature: 'Another' }), 'conflict', new RegExp(`already has a PIV loop ${running.id}`));
      // Another project registered on the same checkout cannot start one there either.
      await admin.invoke('add_project', { project: `${p.name}-twin`, directory: p.dir });
      await assertRejects(admin.invoke('start_piv', { project: `${p.name}-twin`, feature: 'Another' }), 'conflict', new RegExp(`is in use by PIV loop ${running.id} of project ${p.name}`));
      await admin.invoke('cancel_piv', { id: running.id });
    });

    test('cancel mid-phase: the agent and what it started are killed, the loop ends cancelled with nothing committed', async (t) => {
      const pidFile = join(await tempDir(t), 'grandchild.pid');
      await fake.script([planRule, { match: 'IMPLEMENT phase', hang: true, grandchild: pidFile }]);
      const p = await project(t);
      const started = await admin.invoke('start_piv', { project: p.name, feature: FEATURE, validationCommands: ['node check.mjs'] });
      await until(started.id, (x) => x.phase === 'implement' && (x.lastLines as string[]).some((l) => l.startsWith('[implement]')), 'the implement agent to speak');

      const cancelled = await admin.invoke('cancel_piv', { id: started.id });

      assert.equal(cancelled.status, 'cancelled');
      assert.deepEqual([(cancelled.failure as Json).phase, (cancelled.failure as Json).reason], ['implement', 'cancelled']);
      assert.deepEqual(cancelled.commits, []);
      const grandchild = await readPid(pidFile);
      await waitFor(() => processGone(grandchild), `the agent's sleep (pid ${grandchild}) to be gone`);
      await assertRejects(admin.invoke('cancel_piv', { id: started.id }), 'conflict', /is over \(cancelled\); nothing to cancel/);
      // A cancel is neither a success nor a failure: the loop's task and its phase's are cancelled, out of the success rate.
      const { groups } = (await admin.invoke('get_task_stats', { project: p.name })) as { groups: Json[] };
      const of = (type: string) => groups.find((g) => g.type === type);
      assert.deepEqual([of('piv_run')?.count, of('piv_run')?.cancelled, of('piv_run')?.successRate], [0, 1, null]);
      assert.deepEqual([of('piv_implement')?.cancelled, of('piv_implement')?.failed], [1, 0]);
    });

    test('an agent that prints nothing hits the first-output timeout and its process group is killed', async (t) => {
      const pidFile = join(await tempDir(t), 'grandchild.pid');
      await fake.script([{ match: 'PLAN phase', silent: true, grandchild: pidFile }]);
      const p = await project(t);
      const done = await admin.invoke('start_piv', { project: p.name, feature: FEATURE, validationCommands: ['node check.mjs'], waitSeconds: 50 });
      assert.equal(done.status, 'failed');
      assert.deepEqual([(done.failure as Json).phase, (done.failure as Json).reason], ['plan', 'first_output_timeout']);
      const grandchild = await readPid(pidFile);
      await waitFor(() => processGone(grandchild), `the agent's sleep (pid ${grandchild}) to be gone`);
    });

    test('exit 0 with is_error: true fails the loop; so does an exit without a result line', async (t) => {
      await fake.script([{ match: 'PLAN phase', isError: true, text: 'API Error: 529 overloaded' }]);
      const p = await project(t);
      const isError = await admin.invoke('start_piv', { project: p.name, feature: FEATURE, validationCommands: ['node check.mjs'], waitSeconds: 50 });
      assert.deepEqual([isError.status, (isError.failure as Json).reason], ['failed', 'is_error']);
      assert.match(String((isError.failure as Json).message), /API Error: 529 overloaded/);

      await git(p.dir, 'switch', '-q', 'main');
      await fake.script([planRule, { match: 'IMPLEMENT phase', ...GOOD, omitResult: true }]);
      const noResult = await admin.invoke('start_piv', { project: p.name, feature: 'Greet by name, take two', validationCommands: ['node check.mjs'], waitSeconds: 50 });
      assert.deepEqual([noResult.status, (noResult.failure as Json).reason], ['failed', 'no_result']);
      assert.deepEqual(noResult.commits, []);

      // A command that prints nothing at all (not Claude Code): no lines to show, and the failure asks about the command.
      await fake.script([{ match: 'PLAN phase', mute: true }]);
      const quiet = await project(t);
      const mute = await admin.invoke('start_piv', { project: quiet.name, feature: 'Greet by name, take three', validationCommands: ['node check.mjs'], waitSeconds: 50 });
      assert.deepEqual([mute.status, (mute.failure as Json).reason], ['failed', 'no_result']);
      assert.match(String((mute.failure as Json).message), /is agentCommand Claude Code\?/);
      assert.deepEqual((await status(mute.id)).lastLines, []);
    });

    test('loops beyond the concurrency limit queue and start when a slot frees', async (t) => {
      await fake.script([planRule, { match: 'IMPLEMENT phase', hang: true }]);
      const [a, b, c] = [await project(t), await project(t), await project(t)];
      const ids = [];
      for (const p of [a, b, c]) ids.push((await admin.invoke('start_piv', { project: p.name, feature: FEATURE, validationCommands: ['node check.mjs'] })).id);
      await until(ids[1], (x) => x.status === 'running', 'the second loop to run');
      const queued = await status(ids[2]);
      assert.equal(queued.status, 'queued');
      assert.equal(queued.note, 'waiting to start: a daemon runs 2 loops at once (pivConcurrency), one per project; it starts when one ends');
      await admin.invoke('cancel_piv', { id: ids[0] });
      await until(ids[2], (x) => x.status === 'running', 'the queued loop to start');
      for (const id of ids.slice(1)) await admin.invoke('cancel_piv', { id });
      // A queued loop cancelled before it started never runs.
    });

    test("validation commands come from the call, else the project's own (configure_piv), else detection", async (t) => {
      await fake.script([planRule, { match: 'IMPLEMENT phase', ...GOOD }]);
      const p = await project(t);
      const configured = await admin.invoke('configure_piv', { project: p.name, validationCommands: ['node check.mjs', 'test -f greet.mjs'] });
      assert.deepEqual(configured.validationCommands, ['node check.mjs', 'test -f greet.mjs']);
      const done = await admin.invoke('start_piv', { project: p.name, feature: FEATURE, waitSeconds: 50 });
      assert.equal(done.status, 'succeeded', JSON.stringify(done.failure));
      assert.deepEqual((done.validation as Json).commands, ['node check.mjs', 'test -f greet.mjs']);

      await git(p.dir, 'switch', '-q', 'main');
      await admin.invoke('configure_piv', { project: p.name, validationCommands: null });
      const detected = await admin.invoke('start_piv', { project: p.name, feature: 'Greet again', waitSeconds: 50 });
      assert.deepEqual((detected.validation as Json).commands, ['npm run test']);
      await assertRejects(admin.invoke('configure_piv', { project: p.name, validationCommands: [] }), 'invalid_input', /at least one validation command/);
      // A blank command would run nothing and pass: refused by both, naming the field, and nothing is stored or started.
      await assertRejects(admin.invoke('configure_piv', { project: p.name, validationCommands: ['node check.mjs', ' \t '] }), 'invalid_input', /validationCommands.*1.*must not be blank/);
      await git(p.dir, 'switch', '-q', 'main');
      await assertRejects(admin.invoke('start_piv', { project: p.name, feature: 'Greet blankly', validationCommands: ['   '] }), 'invalid_input', /validationCommands.*0.*must not be blank/);
      // Empty is blank: one reason, not "must not be empty; must not be blank".
      await assertRejects(admin.invoke('configure_piv', { project: p.name, validationCommands: [''] }), 'invalid_input', /validationCommands\.0: must not be blank$/);
      assert.equal(((await admin.invoke('list_piv_runs', { project: p.name })).items as Json[]).length, 2);
    });

    /**
     * A loop begun but not run, made `interrupted` as a daemon that restarts with resuming at start
     * off leaves it: both slots are held by hanging loops while it is started, so it stays queued.
     */
    const interruptedLoop = async (t: Parameters<typeof projectRepo>[0]) => {
      await fake.script([{ match: 'Feature: Wait for ever', hang: true }, planRule, { match: 'IMPLEMENT phase', ...GOOD }]);
      const holders = [];
      for (let i = 0; i < 2; i++) holders.push((await admin.invoke('start_piv', { project: (await project(t)).name, feature: 'Wait for ever', validationCommands: ['node check.mjs'] })).id);
      for (const id of holders) await until(id, (x) => x.status === 'running', 'a hanging loop to hold a slot');
      const p = await project(t);
      const { id } = await admin.invoke('start_piv', { project: p.name, feature: FEATURE, validationCommands: ['node check.mjs'] });
      await s.db.query(`UPDATE piv_runs SET status = 'interrupted' WHERE id = $1 AND status = 'queued'`, [id]);
      for (const holder of holders) await admin.invoke('cancel_piv', { id: holder });
      assert.equal((await status(id)).status, 'interrupted');
      return { ...p, id };
    };

    test('a project directory inside a repository, not its top, is refused by start_piv and resume_piv, saying what to do', async (t) => {
      const p = await project(t);
      await writeFiles(p.dir, { 'inner/README.md': 'inner\n' });
      await admin.invoke('update_project', { project: p.name, directory: join(p.dir, 'inner') });
      const refusal = /inner is not the top folder of its git repository .*make the project's directory the repository's root .*or run `git init` in /;
      await assertRejects(admin.invoke('start_piv', { project: p.name, feature: FEATURE, validationCommands: ['node check.mjs'] }), 'invalid_input', refusal);
      assert.equal(await git(p.dir, 'branch', '--list', 'feature/*'), '');

      const left = await interruptedLoop(t);
      await writeFiles(left.dir, { 'inner/README.md': 'inner\n' });
      await admin.invoke('update_project', { project: left.name, directory: join(left.dir, 'inner') });
      await assertRejects(admin.invoke('resume_piv', { id: left.id }), 'invalid_input', refusal);
      assert.equal((await status(left.id)).status, 'interrupted');
      await admin.invoke('update_project', { project: left.name, directory: left.dir });
      // The loop has not touched the checkout yet: the folder made for this test would be committed as its work.
      await assertRejects(admin.invoke('resume_piv', { id: left.id }), 'conflict', /uncommitted changes \(inner\/README\.md\)/);
      await rm(join(left.dir, 'inner'), { recursive: true });
      assert.equal((await admin.invoke('resume_piv', { id: left.id, waitSeconds: 50 })).status, 'succeeded');
    });

    test('resuming an interrupted loop over a dirty tree is refused, and the loop stays interrupted to be resumed later', async (t) => {
      const left = await interruptedLoop(t);
      await git(left.dir, 'switch', '-q', 'main');
      await writeFiles(left.dir, { 'notes.txt': 'mine\n' });
      for (let i = 0; i < 2; i++) {
        await assertRejects(admin.invoke('resume_piv', { id: left.id }), 'conflict', /uncommitted changes \(notes\.txt\)/);
        assert.equal((await status(left.id)).status, 'interrupted');
      }
      await git(left.dir, 'clean', '-fdq');
      assert.equal((await admin.invoke('resume_piv', { id: left.id, waitSeconds: 50 })).status, 'succeeded');
    });

    test('a queued loop leaves the checkout alone until it starts; what someone changed there meanwhile interrupts it, untouched and uncommitted', async (t) => {
      await fake.script([{ match: 'Feature: Wait for ever', hang: true }, planRule, { match: 'IMPLEMENT phase', ...GOOD }]);
      const holders = [];
      for (let i = 0; i < 2; i++) holders.push((await admin.invoke('start_piv', { project: (await project(t)).name, feature: 'Wait for ever', validationCommands: ['node check.mjs'] })).id);
      for (const id of holders) await until(id, (x) => x.status === 'running', 'a hanging loop to hold a slot');
      const p = await project(t);
      const queued = await admin.invoke('start_piv', { project: p.name, feature: FEATURE, validationCommands: ['node check.mjs'] });
      assert.equal(queued.status, 'queued');
      assert.equal(queued.branch, 'feature/greet-people-by-name', 'named at once');
      assert.equal(await git(p.dir, 'branch', '--show-current'), 'main', 'the checkout is not switched while the loop waits');
      assert.equal(await git(p.dir, 'branch', '--list', 'feature/*'), '');

      // The person goes on working in the checkout while the loop waits.
      await writeFiles(p.dir, { 'notes.txt': 'mine\n', 'check.mjs': "console.log('my own check');\n" });
      for (const holder of holders) await admin.invoke('cancel_piv', { id: holder });
      const interrupted = await until(queued.id, (x) => x.status === 'interrupted', 'the loop to be interrupted');
      const said = (interrupted.progress as Json[]).map((e) => String(e.message)).join('\n');
      assert.match(said, /interrupted before it touched the checkout: .* has uncommitted changes \(check\.mjs, notes\.txt\); a loop would commit them as its own\./);
      assert.match(said, new RegExp(`then resume the loop: resume_piv ${queued.id}$`));
      assert.equal(await git(p.dir, 'branch', '--show-current'), 'main');
      assert.equal(await git(p.dir, 'status', '--porcelain'), 'M check.mjs\n?? notes.txt', 'their work is left as it was');
      await assertRejects(admin.invoke('resume_piv', { id: queued.id }), 'conflict', /uncommitted changes \(check\.mjs, notes\.txt\)/);

      await git(p.dir, 'stash', 'push', '--include-untracked', '-q');
      const done = await admin.invoke('resume_piv', { id: queued.id, waitSeconds: 50 });
      assert.equal(done.status, 'succeeded', JSON.stringify(done.failure));
      assert.deepEqual(done.filesChanged, ['greet.mjs'], 'only the agent\'s work is committed');
    });

    test('a loop marked running whose daemon is gone (on this host or another) answers interrupted at once, a wait included, and is listed so; one whose daemon runs is left running', async (t) => {
      const p = await project(t);
      const id = await insertRun(s.db, { project: p.name, status: 'running', phase: 'implement', owner: GONE_DAEMON_HERE });
      // Waiting would wait for nothing: no daemon takes it up until one starts or someone resumes it.
      const answered = await admin.invoke('get_piv_status', { id, waitSeconds: 50 });
      assert.equal(answered.status, 'interrupted');
      assert.match(String(answered.note), /^no daemon runs this loop now: the one that ran it stopped without ending it \(killed, or its host down\); resume_piv continues it now$/);
      const listed = async (status?: string) => ((await admin.invoke('list_piv_runs', { project: p.name, ...(status ? { status } : {}) })).items as Json[]).map((r) => r.status);
      assert.deepEqual([await listed(), await listed('interrupted'), await listed('running')], [['interrupted'], ['interrupted'], []]);

      // Another daemon on this host that still runs (the test runner stands in for it) is left its loop.
      await s.db.query('UPDATE piv_runs SET owner = $2 WHERE id = $1', [id, processOwner(process.ppid)]);
      const alive = await status(id);
      assert.deepEqual([alive.status, alive.note], ['running', undefined]);
      assert.deepEqual([await listed('running'), await listed('interrupted')], [['running'], []]);

      // A daemon on another host runs while it holds its presence in the database, and is gone once it lets go (killed, its host down).
      const elsewhere = 'other-host.example:4242:777';
      await s.db.query('UPDATE piv_runs SET owner = $2 WHERE id = $1', [id, elsewhere]);
      assert.equal((await status(id)).status, 'interrupted', 'it never said it runs');
      const theirs = await s.db.tryHold(presenceLock(elsewhere), () => undefined);
      assert.ok(theirs);
      assert.deepEqual([(await status(id)).status, await listed('running')], ['running', ['running']]);
      await theirs.release();
      const cut = await status(id);
      assert.deepEqual([cut.status, await listed('interrupted')], ['interrupted', ['interrupted']]);
      assert.match(String(cut.note), /^no daemon runs this loop now/);
      await s.db.query('DELETE FROM piv_runs WHERE id = $1', [id]);
    });

    test('a loop of a daemon on another host whose connection blips is not taken from it: resume_piv and cancel_piv wait to be sure it is gone', { timeout: 30_000 }, async (t) => {
      const p = await project(t);
      const elsewhere = 'blipping-host.example:4242:777';
      const id = await insertRun(s.db, { project: p.name, status: 'running', phase: 'implement', owner: elsewhere });
      t.after(() => s.db.query('DELETE FROM piv_runs WHERE id = $1', [id]));
      const hold = async () => {
        const held = await s.db.tryHold(presenceLock(elsewhere), () => undefined);
        assert.ok(held);
        return held;
      };
      // Its presence connection drops, and comes back a moment later: the loop is still its own.
      const blip = async (asked: Promise<unknown>) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        const back = await hold();
        await asked;
        return back;
      };
      let theirs = await hold();
      await theirs.release();
      theirs = await blip(assertRejects(admin.invoke('resume_piv', { id }), 'conflict', /is running; only an interrupted loop can be resumed/));
      await theirs.release();
      // A cancel takes it to run there (and asks that daemon, which does not answer here) rather than ending it behind its back...
      const keepAlive = setInterval(() => undefined, 1_000);
      t.after(() => clearInterval(keepAlive));
      let answered = false;
      const cancelled = admin.invoke('cancel_piv', { id }).finally(() => (answered = true));
      theirs = await blip(new Promise((resolve) => setTimeout(resolve, 4_000)));
      assert.equal(answered, false, 'the cancel still waits for the daemon running the loop');
      assert.equal((await s.db.query<{ status: string }>('SELECT status FROM piv_runs WHERE id = $1', [id])).rows[0]?.status, 'running');
      // ...until that daemon is gone for good: then the cancel ends the loop itself.
      await theirs.release();
      assert.equal((await cancelled).status, 'cancelled');
    });

    test("a daemon's start leaves the loops of another daemon that runs as they are, and of daemons starting at once one takes over a gone daemon's loop", async (t) => {
      const restarted = async (id: string) => (await s.db.query<{ message: string }>('SELECT message FROM piv_log WHERE run_id = $1', [id])).rows.filter((r) => r.message.startsWith('the daemon restarted'));
      // One loop queued or running per project: each its own.
      const insert = async (status: 'queued' | 'running', owner: string) => {
        const id = await insertRun(s.db, { project: (await project(t)).name, status, phase: 'prime', owner });
        t.after(() => s.db.query('DELETE FROM piv_runs WHERE id = $1', [id]));
        return id;
      };
      // Queued on a daemon that runs (the test runner stands in for it): waiting for a slot there, not left by a stop.
      const waiting = await insert('queued', processOwner(process.ppid));
      // Running on a daemon that is gone: two daemons start at once, and one of them resumes it.
      const left = await insert('running', `${hostname()}:999999999:1`);
      await Promise.all([s.agent.startup(), s.agent.startup()]);
      assert.deepEqual(await restarted(waiting), []);
      assert.equal((await restarted(left)).length, 1, 'resumed once');
    });

    test('a wait for a loop another daemon runs ends when that daemon ends it, not when the wait runs out', { timeout: 20_000 }, async (t) => {
      const p = await project(t);
      // Another daemon on this database (the test runner stands in for it, alive) runs it.
      const id = await insertRun(s.db, { project: p.name, status: 'running', phase: 'implement', owner: processOwner(process.ppid) });
      t.after(() => s.db.query('DELETE FROM piv_runs WHERE id = $1', [id]));
      const waiting = admin.invoke('get_piv_status', { id, waitSeconds: 50 });
      let answered = false;
      void waiting.then(() => (answered = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(answered, false, 'it waits while the other daemon runs the loop');
      await s.db.query("UPDATE piv_runs SET status = 'cancelled', finished_at = now(), updated_at = now() WHERE id = $1", [id]);
      assert.equal((await waiting).status, 'cancelled');
    });

    test("a loop's tasks are its own: no token completes, fails or cancels them by hand; the loop ends them", async (t) => {
      await fake.script([planRule, { match: 'IMPLEMENT phase', hang: true }]);
      const p = await project(t);
      const own = new LocalInvoker(s, projectPrincipal(p.name, `token:${p.name}`), 'mcp');
      const started = await admin.invoke('start_piv', { project: p.name, feature: FEATURE, validationCommands: ['node check.mjs'] });
      await until(started.id, (x) => x.phase === 'implement', 'the loop to implement');
      const refusal = new RegExp(`task piv:${started.id} was started by the supervisor itself \\(system:piv\\) and ends with the work it times.*cancel_piv`);
      await assertRejects(own.invoke('complete_task', { id: `piv:${started.id}` }), 'forbidden', refusal);
      await assertRejects(own.invoke('fail_task', { id: `piv:${started.id}`, error: 'no' }), 'forbidden', refusal);
      await assertRejects(admin.invoke('complete_task', { id: `piv:${started.id}` }), 'forbidden', refusal);

      await admin.invoke('cancel_piv', { id: started.id });
      const { groups } = (await admin.invoke('get_task_stats', { project: p.name, type: 'piv_run' })) as { groups: Json[] };
      assert.deepEqual(groups.map((g) => [g.count, g.cancelled]), [[0, 1]], 'ended by the loop, as cancelled');
    });

    test('a project with an active loop is removed only with force, which cancels the loop', async (t) => {
      await fake.script([planRule, { match: 'IMPLEMENT phase', hang: true }]);
      const p = await project(t);
      const started = await admin.invoke('start_piv', { project: p.name, feature: FEATURE, validationCommands: ['node check.mjs'] });
      await until(started.id, (x) => x.status === 'running', 'the loop to run');
      await assertRejects(admin.invoke('remove_project', { project: p.name }), 'conflict', new RegExp(`PIV loops: 1 \\(PIV loop ${started.id} \\(running\\)\\)`));
      await admin.invoke('remove_project', { project: p.name, force: true });
      const gone = await until(started.id, (x) => x.status === 'cancelled' && x.finishedAt !== null, 'the loop to be cancelled');
      assert.equal((gone.failure as Json).reason, 'cancelled');
    });

    test('a project removed with force ends its loop that no daemon runs (interrupted) as cancelled: its status says when, why and by whom', async (t) => {
      const left = await interruptedLoop(t);
      await admin.invoke('remove_project', { project: left.name, force: true });
      const gone = await status(left.id);
      assert.equal(gone.status, 'cancelled');
      assert.notEqual(gone.finishedAt, null, 'an ended loop has an end, and its elapsed time stops');
      assert.deepEqual(gone.failure, { phase: 'prime', reason: 'cancelled', message: `the loop was cancelled: test-admin removed project ${left.name}` });
      assert.equal((gone.progress as Json[]).at(-1)?.message, `the loop was cancelled: test-admin removed project ${left.name}`);
    });

    test('a project removed with force stops the agent a gone daemon left running for its loop', async (t) => {
      const p = await project(t);
      const id = await insertRun(s.db, { project: p.name, status: 'running', phase: 'implement', owner: GONE_DAEMON_HERE });
      // What that daemon's agent left: a process group of its own, carrying the loop's id.
      const agent = spawn('sleep', ['600'], { detached: true, stdio: 'ignore', env: { ...process.env, SUPERVISOR_PIV_LOOP: id } });
      t.after(() => {
        if (agent.exitCode === null && agent.signalCode === null) process.kill(-agent.pid!, 'SIGKILL');
      });
      await admin.invoke('remove_project', { project: p.name, force: true });
      await waitFor(() => processGone(agent.pid!), `the agent left running (pid ${agent.pid}) to be stopped`);
    });

    test('a removal with force that rolls back stops nothing: the loops it would have cancelled, and their agents, go on', async (t) => {
      const pidFile = join(await tempDir(t), 'grandchild.pid');
      await fake.script([planRule, { match: 'IMPLEMENT phase', hang: true, grandchild: pidFile }]);
      const running = await project(t);
      const started = await admin.invoke('start_piv', { project: running.name, feature: FEATURE, validationCommands: ['node check.mjs'] });
      await until(started.id, (x) => x.phase === 'implement', 'the loop to implement');
      const agent = await readPid(pidFile);
      // And an agent a gone daemon left running for a loop of another project.
      const left = await project(t);
      const leftId = await insertRun(s.db, { project: left.name, status: 'running', phase: 'implement', owner: GONE_DAEMON_HERE });
      const leftAgent = spawn('sleep', ['600'], { detached: true, stdio: 'ignore', env: { ...process.env, SUPERVISOR_PIV_LOOP: leftId } });
      t.after(() => {
        if (leftAgent.exitCode === null && leftAgent.signalCode === null) process.kill(-leftAgent.pid!, 'SIGKILL');
      });

      // The removal's last step fails, after every domain has released its part: the transaction rolls back.
      refuse = /^DELETE FROM projects/;
      try {
        for (const p of [running, left]) await assertRejects(admin.invoke('remove_project', { project: p.name, force: true }), 'internal');
      } finally {
        refuse = undefined;
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual([await processGone(agent), await processGone(leftAgent.pid!)], [false, false], 'both agents still run');
      const now = await status(started.id);
      assert.deepEqual([now.status, now.phase], ['running', 'implement']);
      assert.equal((await status(leftId)).status, 'interrupted');
    });

    test("a project token follows and cancels its own project's loops, but cannot start, resume or configure one", async (t) => {
      await fake.script([planRule, { match: 'IMPLEMENT phase', ...GOOD }]);
      const p = await project(t);
      const own = new LocalInvoker(s, projectPrincipal(p.name, `token:${p.name}`), 'mcp');
      const other = new LocalInvoker(s, projectPrincipal('meta-not', 'token:other'), 'mcp');
      // A loop runs the repository's code and commands as the daemon's user: starting one is an admin's call.
      await assertRejects(own.invoke('start_piv', { project: p.name, feature: FEATURE }), 'forbidden', /start_piv needs an admin token/);
      await assertRejects(own.invoke('configure_piv', { project: p.name, validationCommands: ['true'] }), 'forbidden');
      const done = await admin.invoke('start_piv', { project: p.name, feature: FEATURE, validationCommands: ['node check.mjs'], waitSeconds: 50 });
      assert.equal(done.status, 'succeeded');
      assert.equal((await own.invoke('get_piv_status', { id: done.id })).status, 'succeeded');
      assert.deepEqual(((await own.invoke('list_piv_runs', {})).items as Json[]).map((r) => r.id), [done.id]);
      await assertRejects(own.invoke('resume_piv', { id: done.id }), 'forbidden');
      await assertRejects(other.invoke('get_piv_status', { id: done.id }), 'not_found');
      await assertRejects(other.invoke('cancel_piv', { id: done.id }), 'not_found');
      assert.deepEqual((await other.invoke('list_piv_runs', {})).items, []);
    });

    test("a later project of a removed project's name does not see the loops the removed one ran; an admin still does", async (t) => {
      await fake.script([planRule, { match: 'IMPLEMENT phase', ...GOOD }]);
      const p = await project(t);
      const done = await admin.invoke('start_piv', { project: p.name, feature: FEATURE, validationCommands: ['node check.mjs'], waitSeconds: 50 });
      assert.equal(done.status, 'succeeded');
      await admin.invoke('remove_project', { project: p.name, force: true });
      await admin.invoke('add_project', { project: p.name, directory: p.dir });
      const heir = new LocalInvoker(s, projectPrincipal(p.name, `token:${p.name}-again`), 'mcp');
      assert.deepEqual((await heir.invoke('list_piv_runs', {})).items, []);
      for (const artifact of [undefined, 'plan']) await assertRejects(heir.invoke('get_piv_status', { id: done.id, artifact }), 'not_found', /there is no PIV loop/);
      await assertRejects(heir.invoke('cancel_piv', { id: done.id }), 'not_found');
      assert.equal((await admin.invoke('get_piv_status', { id: done.id })).status, 'succeeded', 'history stays for an admin');
    });
  });
}
