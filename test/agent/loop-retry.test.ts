// How a loop ends when validation or the agent fails: retries with the failure fed back, an
// early stop when a retry changes nothing, cancel, and never a commit of failing work.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SHUTDOWN } from '../../src/agent/loop.js';
import { git } from './fixture.js';
import { GOOD, SETTINGS, bad, setup } from './greeter.js';

describe('PivLoop failures and retries', () => {
  test('validation fails once, the retry fixes it: success with one retry and one commit', async (t) => {
    const s = await setup(t, [bad('Hi there'), GOOD]);

    const result = await s.loop.start(s.input);

    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.equal(result.retries, 1);
    assert.equal(result.commits.length, 1);
    assert.deepEqual(
      result.timings.map((x) => `${x.phase}${x.attempt}:${x.outcome}`),
      ['prime0:ok', 'plan0:ok', 'implement1:ok', 'validate1:failed', 'implement2:ok', 'validate2:ok', 'commit2:ok'],
    );
    // The retry was told which command failed and how.
    const retry = (await s.calls())[2]?.prompt ?? '';
    assert.match(retry, /^IMPLEMENT phase, retry 1 of 3\./);
    assert.match(retry, /`node check\.mjs` exited with code 1/);
    assert.match(retry, /expected "Hello, Ada!", got "Hi there"/);
    assert.match(await git(s.dir, 'show', 'HEAD:greet.mjs'), /Hello, \$\{name\}!/);
  });

  test("a file validation made and the agent then edited is the agent's work, committed; what validation alone wrote stays out", async (t) => {
    // The retry fixes greet.mjs and also edits the settings file the first validation generated.
    const s = await setup(t, [bad('Hi there'), { ...GOOD, writes: { ...GOOD.writes, 'settings.json': '{"greeting":"Hello"}\n' } }]);
    const validation = 'test -f settings.json || echo "{}" > settings.json; echo run > build.log; node check.mjs';

    const result = await s.loop.start({ ...s.input, validationCommands: [validation] });

    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.equal(result.retries, 1);
    assert.deepEqual(result.filesChanged, ['greet.mjs', 'settings.json']);
    assert.equal(await git(s.dir, 'show', 'HEAD:settings.json'), '{"greeting":"Hello"}');
    assert.equal(await git(s.dir, 'status', '--porcelain'), '?? build.log', "validation's own output is left uncommitted");
  });

  test('validation fails every time: failure after the retries, with the last output, and nothing committed', async (t) => {
    const s = await setup(t, [bad('one'), bad('two'), bad('three'), bad('four'), GOOD]);

    // An optional field left undefined by a caller keeps its default (3 retries).
    const result = await s.loop.start({ ...s.input, settings: { ...SETTINGS, maxRetries: undefined } });

    assert.equal(result.status, 'failed');
    assert.equal(result.failure?.phase, 'validate');
    assert.equal(result.failure?.reason, 'retries_exhausted');
    assert.match(result.failure?.message ?? '', /`node check\.mjs` exited with code 1, still failing after 3 retries/);
    assert.equal(result.retries, 3);
    assert.equal((await s.store.load(result.id))?.settings.maxRetries, 3);
    assert.match(result.validation?.failed?.outputTail ?? '', /got "four"/);
    assert.deepEqual(result.commits, []);
    assert.equal(await git(s.dir, 'log', '--format=%s', 'main..HEAD'), '');
    // The last attempt is left in the tree for a person to look at; the log says where and what to do with it.
    assert.deepEqual(result.filesChanged, ['greet.mjs']);
    assert.ok(
      s.store.progress(result.id).some((e) => e.message === `left uncommitted on ${result.branch}: greet.mjs; before another loop starts in this repository, discard them (git restore --source=HEAD --staged --worktree -- greet.mjs) or commit them (git add -- greet.mjs && git commit -m "…")`),
      JSON.stringify(s.store.progress(result.id).map((e) => e.message)),
    );
    assert.equal((await s.calls()).length, 1 + 4);
  });

  test('the same failure twice in a row stops early', async (t) => {
    const s = await setup(t, [bad('Hi there'), bad('Hi there'), GOOD]);

    const result = await s.loop.start(s.input);

    assert.equal(result.status, 'failed');
    assert.equal(result.failure?.reason, 'repeated_failure');
    assert.match(result.failure?.message ?? '', /failed exactly as before the last retry.*\(1 retry made\)/);
    assert.equal(result.retries, 1);
    assert.equal((await s.calls()).length, 1 + 2);
  });

  test('cancel mid-phase: the agent is stopped and the loop ends cancelled, nothing committed', async (t) => {
    const cancel = new AbortController();
    const s = await setup(t, [{ hang: true }], { onAgentLine: (_id, phase) => phase === 'implement' && cancel.abort() });

    const result = await s.loop.start(s.input, cancel.signal);

    assert.equal(result.status, 'cancelled');
    assert.equal(result.failure?.phase, 'implement');
    assert.equal(result.failure?.reason, 'cancelled');
    assert.equal(result.timings.at(-1)?.outcome, 'cancelled');
    assert.deepEqual(result.commits, []);
  });

  test("stopped mid-phase by the daemon's shutdown: the phase's timing says interrupted, not cancelled, as its task does", async (t) => {
    const shutdown = new AbortController();
    const finished: string[] = [];
    const s = await setup(t, [{ hang: true }], {
      onAgentLine: (_id, phase) => phase === 'implement' && shutdown.abort(SHUTDOWN),
      onPhase: (e) => void (e.event === 'finished' && finished.push(`${e.phase}${e.attempt}:${e.timing?.outcome}`)),
    });

    const result = await s.loop.start(s.input, shutdown.signal);

    assert.deepEqual(
      result.timings.map((x) => `${x.phase}${x.attempt}:${x.outcome}`),
      ['prime0:ok', 'plan0:ok', 'implement1:interrupted'],
    );
    assert.deepEqual(finished, ['prime0:ok', 'plan0:ok', 'implement1:interrupted'], 'onPhase hears the same outcome');
    assert.ok(s.store.progress(result.id).some((e) => /^implement interrupted after \d+ ms$/.test(e.message)), JSON.stringify(s.store.progress(result.id).map((e) => e.message)));
  });

  test('a phase that fails once the loop is cancelled (its project removed meanwhile) ends it cancelled, not failed', async (t) => {
    const cancel = new AbortController();
    // What removing the project does to a loop in Prime: it cancels the loop, then the project is gone.
    const s = await setup(t, [GOOD], {
      knowledge: async () => {
        cancel.abort();
        throw new Error('no project greeter');
      },
    });

    const result = await s.loop.start(s.input, cancel.signal);

    assert.equal(result.status, 'cancelled');
    assert.deepEqual([result.failure?.phase, result.failure?.reason], ['prime', 'cancelled']);
    assert.match(result.failure?.message ?? '', /^prime: the loop was cancelled \(no project greeter\)$/);
    assert.equal(result.timings.at(-1)?.outcome, 'cancelled');
  });

  test('an agent failure in Plan ends the loop there', async (t) => {
    const s = await setup(t, [GOOD], {}, [{ match: 'PLAN phase', isError: true, text: 'Credit balance is too low' }]);
    const result = await s.loop.start(s.input);
    assert.equal(result.status, 'failed');
    assert.deepEqual(result.failure, {
      phase: 'plan',
      reason: 'is_error',
      message: 'plan: the agent reported an error (success): Credit balance is too low',
    });
    assert.equal((await s.calls()).length, 1);
  });

  test('commits the agent makes itself are undone, so failing work is never committed', async (t) => {
    const s = await setup(t, [{ ...bad('Hey'), commit: true }]);

    const result = await s.loop.start({ ...s.input, settings: { ...SETTINGS, maxRetries: 0 } });

    assert.equal(result.status, 'failed');
    assert.equal(result.failure?.reason, 'retries_exhausted');
    assert.equal(await git(s.dir, 'log', '--format=%s', 'main..HEAD'), '');
    assert.ok(s.store.progress(result.id).some((e) => /made commits of its own; they were undone/.test(e.message)));
  });

  test('an empty plan or no changes end the loop with the reason', async (t) => {
    const empty = await setup(t, [GOOD], {}, [{ match: 'PLAN phase', text: '  ' }]);
    assert.equal((await empty.loop.start(empty.input)).failure?.reason, 'empty_plan');
    const idle = await setup(t, [{ text: 'Nothing to do.' }]);
    assert.equal((await idle.loop.start(idle.input)).failure?.reason, 'no_changes');
  });
});
