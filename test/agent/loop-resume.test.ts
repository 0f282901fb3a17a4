// A loop saved after every phase picks up where it stopped, in a new PivLoop (a restarted
// supervisor) with the same store.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { PivLoop } from '../../src/agent/loop.js';
import type { PivState } from '../../src/agent/model.js';
import { MemoryPivStore } from '../../src/agent/store.js';
import { AUTHOR, fakeAgent, git, gitRepo, writeFiles } from './fixture.js';
import {FEATURE, GOOD, GREETER, PLAN, SETTINGS, planRule, setup} from './greeter.js';
import { isError } from '../helpers/errors.js';

describe('PivLoop resume', () => {
  /** A store that fails once, like a supervisor that stops, when `when` says so. */
  class CrashingStore extends MemoryPivStore {
    crashed = false;
    constructor(private readonly when: (s: PivState) => boolean) {
      super();
    }
    override async save(state: PivState): Promise<void> {
      if (!this.crashed && this.when(state)) {
        this.crashed = true;
        throw new Error('supervisor stopped');
      }
      return super.save(state);
    }
  }

  test('resumes from the phase after the last one that finished', async (t) => {
    const dir = await gitRepo(t, GREETER);
    const agent = await fakeAgent(t, [planRule, { match: 'IMPLEMENT phase', ...GOOD }]);
    const store = new CrashingStore((s) => s.next === 'validate');
    const input = { repoDir: dir, feature: FEATURE, validationCommands: ['node check.mjs'], settings: SETTINGS };
    const first = new PivLoop({ agent: agent.runner, store, author: AUTHOR });
    const begun = await first.begin(input);

    await assert.rejects(first.run(begun.id), /supervisor stopped/);
    assert.equal((await store.load(begun.id))?.next, 'implement');

    // A new supervisor process, the same store.
    const result = await new PivLoop({ agent: agent.runner, store, author: AUTHOR }).run(begun.id);

    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.equal(result.plan, PLAN);
    const prompts = (await agent.calls()).map((c) => c.prompt.split('\n')[0]);
    assert.deepEqual(prompts, ['PLAN phase.', 'IMPLEMENT phase.', 'IMPLEMENT phase.']);
    assert.equal(result.commits.length, 1);
  });

  test('a loop stopped after committing but before saving does not commit twice', async (t) => {
    const dir = await gitRepo(t, GREETER);
    const agent = await fakeAgent(t, [planRule, { match: 'IMPLEMENT phase', ...GOOD }]);
    const store = new CrashingStore((s) => s.status === 'succeeded');
    const input = { repoDir: dir, feature: FEATURE, validationCommands: ['node check.mjs'], settings: SETTINGS };
    const begun = await new PivLoop({ agent: agent.runner, store, author: AUTHOR }).begin(input);
    await assert.rejects(new PivLoop({ agent: agent.runner, store, author: AUTHOR }).run(begun.id), /supervisor stopped/);

    const result = await new PivLoop({ agent: agent.runner, store, author: AUTHOR }).run(begun.id);

    assert.equal(result.status, 'succeeded');
    assert.equal(result.commits.length, 1);
    assert.equal(await git(dir, 'log', '--format=%s', 'main..HEAD'), FEATURE);
    assert.ok(store.progress(begun.id).some((e) => e.message === 'the commit was already made; not committing again'));
  });

  test('goes on only over the changes it left: an edit made while it was stopped is refused, naming the file, and never committed', async (t) => {
    const dir = await gitRepo(t, GREETER);
    const agent = await fakeAgent(t, [planRule, { match: 'IMPLEMENT phase', ...GOOD }]);
    // Stopped between Implement (saved, its change recorded) and Validate.
    const store = new CrashingStore((s) => s.inPhase === 'validate');
    const input = { repoDir: dir, feature: FEATURE, validationCommands: ['node check.mjs'], settings: SETTINGS };
    const begun = await new PivLoop({ agent: agent.runner, store, author: AUTHOR }).begin(input);
    await assert.rejects(new PivLoop({ agent: agent.runner, store, author: AUTHOR }).run(begun.id), /supervisor stopped/);
    assert.equal(await git(dir, 'status', '--porcelain'), 'M greet.mjs', "the agent's change, on the loop's branch");

    // Someone works in the checkout meanwhile: a new file, an edit, and an edit to the agent's own file.
    await writeFiles(dir, { 'notes.txt': 'mine\n', 'check.mjs': `${GREETER['check.mjs']}// mine\n` });
    const loop = new PivLoop({ agent: agent.runner, store, author: AUTHOR, whenClean: (id) => `then resume_piv ${id}` });
    await assert.rejects(
      loop.run(begun.id),
      isError('conflict', new RegExp(`has uncommitted changes that PIV loop ${begun.id} did not make \\(check\\.mjs, notes\\.txt\\);.*; then resume_piv ${begun.id}$`)),
    );
    await git(dir, 'restore', 'check.mjs');
    await writeFiles(dir, { 'greet.mjs': 'export const greet = () => "edited by hand";\n' });
    // Not the loop's, so not advised as an earlier loop's leftovers to throw away.
    await assert.rejects(loop.run(begun.id), (err: Error) => /did not make \(greet\.mjs, notes\.txt\); a loop would commit them as its own/.test(err.message) && !/earlier PIV loop/.test(err.message));
    // The agent's change undone (restored, as a clean-up would): going on would validate and commit without it.
    await git(dir, 'restore', 'greet.mjs');
    await git(dir, 'clean', '-fq');
    await assert.rejects(loop.run(begun.id), isError('conflict', new RegExp(`what PIV loop ${begun.id} left uncommitted was undone since it stopped \\(greet\\.mjs\\)`)));
    assert.equal(await git(dir, 'log', '--format=%s', 'main..HEAD'), '', 'nothing committed');

    await writeFiles(dir, GOOD.writes as Record<string, string>);
    const result = await loop.run(begun.id);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.deepEqual(result.filesChanged, ['greet.mjs']);
  });

  test('a finished loop returns its result without running anything', async (t) => {
    const s = await setup(t, [GOOD]);
    const done = await s.loop.start(s.input);
    const again = await s.loop.run(done.id);
    assert.deepEqual(again, done);
    assert.equal((await s.calls()).length, 2);
  });

  test('an unknown loop id is refused', async (t) => {
    const s = await setup(t, [GOOD]);
    await assert.rejects(s.loop.run('nope'), isError('invalid_input', /there is no PIV loop nope/));
  });
});
