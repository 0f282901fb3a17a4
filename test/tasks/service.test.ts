// Task timing through the domain's operations, on both backends: durations from a manual clock,
// statistics and estimates checked against figures computed by hand.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import { adminPrincipal, projectPrincipal } from '../../src/core/principal.js';
import { skipReason, testBackends } from '../helpers/db.js';
import { assertRejects } from '../helpers/errors.js';
import { openTestServices, type TestServices } from '../helpers/services.js';

type Json = Record<string, unknown>;
const SECOND = 1000;

for (const backend of testBackends()) {
  describe(`tasks [${backend}]`, { skip: await skipReason(backend) }, () => {
    let s: TestServices;
    let admin: LocalInvoker;

    /** A task of `seconds` on the manual clock, finished as `outcome`. */
    const timed = async (input: Json, seconds: number, outcome: 'complete' | 'fail' = 'complete', via = admin) => {
      const started = await via.invoke('start_task', input);
      s.clock.advance(seconds * SECOND);
      return via.invoke(outcome === 'complete' ? 'complete_task' : 'fail_task', { id: started.id });
    };

    before(async () => {
      s = await openTestServices(backend);
      admin = new LocalInvoker(s, adminPrincipal('test-admin'), 'internal');
      for (const project of ['alpha', 'beta']) await s.projects.add('test', { name: project });
    });
    after(() => s.close());

    test('start, complete: the duration is the time between the two', async () => {
      const started = await admin.invoke('start_task', { type: 'review', project: 'alpha', description: 'Review the PR', complexity: 'simple' });
      assert.equal(started.status, 'running');
      assert.equal(started.created, true);
      s.clock.advance(90 * SECOND);
      const done = await admin.invoke('complete_task', { id: started.id });
      assert.deepEqual([done.status, done.durationMs, done.complexity], ['succeeded', 90_000, 'simple']);
      await assertRejects(admin.invoke('complete_task', { id: started.id }), 'conflict', /already succeeded; a task is finished once/);
      await assertRejects(admin.invoke('fail_task', { id: 'no-such-task' }), 'not_found');
      // A typo in the project makes no ghost project that a later one of that name would inherit.
      await assertRejects(admin.invoke('start_task', { type: 'review', project: 'alpah' }), 'not_found', /^no project alpah; /);
      // The PIV loop's own types are its to record: a hand-made piv_run would count in its estimates.
      for (const type of ['piv_run', 'piv_implement']) {
        await assertRejects(admin.invoke('start_task', { type, project: 'alpha' }), 'invalid_input', /^type: piv_\* types are the PIV loop's own, recorded as it runs; name your work another type/);
      }
      assert.equal((await admin.invoke('estimate_task', { type: 'piv_run', project: 'alpha' })).type, 'piv_run', 'still estimated');
    });

    test('a start with the caller\'s own id is idempotent; another task under that id is refused', async () => {
      const first = await admin.invoke('start_task', { id: 'ci-42', type: 'deploy', project: 'alpha', description: 'ship v2' });
      const again = await admin.invoke('start_task', { id: 'ci-42', type: 'deploy', project: 'alpha', description: 'ship v2' });
      const bare = await admin.invoke('start_task', { id: 'ci-42', type: 'deploy', project: 'alpha' });
      assert.deepEqual([first.created, again.created, again.startedAt, bare.created], [true, false, first.startedAt, false]);
      await assertRejects(admin.invoke('start_task', { id: 'ci-42', type: 'review', project: 'alpha' }), 'conflict', /already exists \(deploy in alpha: "ship v2", medium\)/);
      // A reused id with another description or complexity is another piece of work, not a retry.
      await assertRejects(admin.invoke('start_task', { id: 'ci-42', type: 'deploy', project: 'alpha', description: 'ship v3' }), 'conflict', /already exists/);
      await assertRejects(admin.invoke('start_task', { id: 'ci-42', type: 'deploy', project: 'alpha', description: 'ship v2', complexity: 'complex' }), 'conflict', /already exists/);
      const failed = await admin.invoke('fail_task', { id: 'ci-42', error: 'health check failed' });
      assert.deepEqual([failed.status, failed.error], ['failed', 'health check failed']);
    });

    test('stats per type and project: count, success rate, mean, p50 and p90 as computed by hand', async () => {
      // Ten successes of 10 s … 100 s and two failures (their durations are not in the figures).
      for (let i = 1; i <= 10; i++) await timed({ type: 'feature', project: 'beta' }, i * 10);
      await timed({ type: 'feature', project: 'beta' }, 5, 'fail');
      await timed({ type: 'feature', project: 'beta' }, 500, 'fail');
      await admin.invoke('start_task', { type: 'feature', project: 'beta' });
      // A cancelled one (a PIV loop a person stopped) is neither a success nor a failure.
      const stopped = await admin.invoke('start_task', { type: 'feature', project: 'beta' });
      s.clock.advance(3 * SECOND);
      assert.equal((await s.tasks.cancel(adminPrincipal('test-admin'), stopped.id as string, 'cancelled')).status, 'cancelled');
      await timed({ type: 'feature', project: 'alpha' }, 7);

      const { groups } = (await admin.invoke('get_task_stats', { type: 'feature' })) as { groups: Json[] };

      assert.deepEqual(groups, [
        { type: 'feature', project: 'alpha', count: 1, succeeded: 1, failed: 0, cancelled: 0, interrupted: 0, running: 0, successRate: 1, meanMs: 7_000, p50Ms: 7_000, p90Ms: 7_000 },
        // Sorted: 10 20 … 100 s. p50 sits halfway between the 5th and 6th (50, 60 → 55 s);
        // p90 at 0.9 × 9 = 8.1 places in, between the 9th and 10th (90 + 0.1 × 10 → 91 s).
        { type: 'feature', project: 'beta', count: 12, succeeded: 10, failed: 2, cancelled: 1, interrupted: 0, running: 1, successRate: 10 / 12, meanMs: 55_000, p50Ms: 55_000, p90Ms: 91_000 },
      ]);
    });

    test('estimate: p50/p90 of similar tasks with the sample size, relaxing project when it has too few', async () => {
      const beta = await admin.invoke('estimate_task', { type: 'feature', project: 'beta' });
      assert.deepEqual(beta, { status: 'ok', type: 'feature', project: 'beta', complexity: 'medium', sampleSize: 10, basis: 'type, project and complexity', p50Ms: 55_000, p90Ms: 91_000 });
      // alpha has one feature: the estimate comes from every project's 11 (7 s and 10 … 100 s).
      const alpha = await admin.invoke('estimate_task', { type: 'feature', project: 'alpha' });
      assert.deepEqual([alpha.status, alpha.sampleSize, alpha.basis, alpha.p50Ms], ['ok', 11, 'type and complexity', 50_000]);
    });

    test('under 5 samples: insufficient_data, with the stated fallback rule', async () => {
      for (let i = 0; i < 4; i++) await timed({ type: 'migration', project: 'alpha', complexity: 'complex' }, 60);
      const estimate = await admin.invoke('estimate_task', { type: 'migration', project: 'alpha', complexity: 'complex' });
      assert.equal(estimate.status, 'insufficient_data');
      assert.equal(estimate.sampleSize, 4);
      assert.deepEqual([estimate.p50Ms, estimate.p90Ms], [240 * 60_000, 480 * 60_000]);
      assert.match(String(estimate.rule), /fewer than 5 similar succeeded tasks: default durations by complexity/);
      await timed({ type: 'migration', project: 'alpha', complexity: 'complex' }, 120);
      const enough = await admin.invoke('estimate_task', { type: 'migration', project: 'alpha', complexity: 'complex' });
      assert.deepEqual([enough.status, enough.sampleSize, enough.p50Ms], ['ok', 5, 60_000]);
    });

    test("a project token records and sees its own project's tasks only", async () => {
      const alpha = new LocalInvoker(s, projectPrincipal('alpha', 'token:alpha'), 'mcp');
      await assertRejects(alpha.invoke('start_task', { type: 'feature', project: 'beta' }), 'forbidden');
      const { groups } = (await alpha.invoke('get_task_stats', {})) as { groups: Json[] };
      assert.ok(groups.length > 0 && groups.every((g) => g.project === 'alpha'));
      await assertRejects(alpha.invoke('get_task_stats', { project: 'beta' }), 'forbidden');
      const betaTask = await admin.invoke('start_task', { type: 'feature', project: 'beta' });
      // Another project's task is as absent as one that never was: the answer does not tell it exists.
      await assertRejects(alpha.invoke('complete_task', { id: betaTask.id }), 'not_found');
      await assertRejects(alpha.invoke('fail_task', { id: betaTask.id }), 'not_found');
      // Without a project an estimate is still the token's own project's.
      const estimate = await alpha.invoke('estimate_task', { type: 'feature' });
      assert.deepEqual([estimate.project, estimate.sampleSize], ['alpha', 1]);
      // An id another project uses is refused without telling what that task is.
      await admin.invoke('start_task', { id: 'release-42', type: 'migrate', project: 'beta', description: 'rotate the Acme password' });
      const taken = await assertRejects(alpha.invoke('start_task', { id: 'release-42', type: 'build', project: 'alpha' }), 'conflict');
      assert.doesNotMatch(taken.message, /beta|Acme|migrate/);
    });

    test('a misspelt project in stats or an estimate is not_found, not the figures of the wider bases', async () => {
      await assertRejects(admin.invoke('estimate_task', { type: 'feature', project: 'nosuch' }), 'not_found', /^no project nosuch; /);
      await assertRejects(admin.invoke('get_task_stats', { project: 'nosuch' }), 'not_found', /^no project nosuch; /);
    });

    test('a project\'s tasks go with it: removed only with force, and a later project of that name starts with none', async () => {
      await s.projects.add('test', { name: 'gone' });
      await admin.invoke('start_task', { type: 'deploy', project: 'gone' });
      await assertRejects(admin.invoke('remove_project', { project: 'gone' }), 'conflict', /tasks: 1 \(task deploy\)/);
      await admin.invoke('remove_project', { project: 'gone', force: true });
      await s.projects.add('test', { name: 'gone' });
      assert.deepEqual(((await admin.invoke('get_task_stats', { project: 'gone' })) as { groups: Json[] }).groups, []);
    });
  });
}
