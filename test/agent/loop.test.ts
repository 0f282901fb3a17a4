// The PIV loop end to end in temporary git repositories, with the scripted fake agent run
// through the real ClaudeCodeRunner: what a person starting a loop gets back, and what is left
// in their repository.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../src/core/clock.js';
import type { AgentRunner } from '../../src/agent/agent.js';
import { PivLoop, type PhaseEvent } from '../../src/agent/loop.js';
import { MemoryPivStore } from '../../src/agent/store.js';
import { AUTHOR, fakeAgent, git, gitRepo, tempDir, writeFiles } from './fixture.js';
import {FEATURE, GOOD, GREETER, PLAN, SETTINGS, planRule, setup} from './greeter.js';
import { isError } from '../helpers/errors.js';

describe('PivLoop', () => {
  test('end to end: a feature branch, a stored plan, one validated commit, timings, turns and cost', async (t) => {
    const s = await setup(t, [GOOD]);
    const mainBefore = await git(s.dir, 'rev-parse', 'main');

    // No validation commands given: they are detected from package.json.
    const result = await s.loop.start({ ...s.input, validationCommands: undefined });

    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.equal(result.branch, 'feature/greet-people-by-name');
    assert.equal(result.baseBranch, 'main');
    assert.equal(result.plan, PLAN);
    assert.equal(await s.store.getArtifact(result.id, 'plan'), PLAN);
    assert.deepEqual(result.filesChanged, ['greet.mjs']);
    assert.equal(result.commits.length, 1);
    assert.equal(result.commits[0]?.subject, FEATURE);
    assert.equal(result.retries, 0);
    assert.equal(result.validation?.ok, true);
    assert.deepEqual(
      result.validation?.runs.map((r) => r.command),
      ['npm run test'],
    );
    assert.match(result.validation?.runs[0]?.outputTail ?? '', /check passed/);
    assert.equal(result.turns, 2 + 3);
    assert.ok(Math.abs(result.costUsd - (0.01 + 0.0123)) < 1e-9);
    assert.deepEqual(
      result.timings.map((x) => [x.phase, x.attempt, x.outcome]),
      [
        ['prime', 0, 'ok'],
        ['plan', 0, 'ok'],
        ['implement', 1, 'ok'],
        ['validate', 1, 'ok'],
        ['commit', 1, 'ok'],
      ],
    );
    for (const x of result.timings) assert.equal(x.durationMs, Date.parse(x.finishedAt) - Date.parse(x.startedAt));

    // The repository: the commit is on the feature branch only, and nothing is left over.
    assert.equal(await git(s.dir, 'rev-parse', '--abbrev-ref', 'HEAD'), 'feature/greet-people-by-name');
    assert.equal(await git(s.dir, 'rev-parse', 'main'), mainBefore);
    assert.equal(await git(s.dir, 'log', '--format=%s', 'main..HEAD'), FEATURE);
    assert.equal(await git(s.dir, 'status', '--porcelain'), '');

    // What the agent was asked, and how.
    const [plan, implement] = await s.calls();
    assert.match(plan?.prompt ?? '', /^PLAN phase\.\n\nFeature: Greet people by name/);
    assert.match(plan?.prompt ?? '', /# Greeter/);
    assert.deepEqual(plan?.argv.slice(plan.argv.indexOf('--permission-mode'), plan.argv.indexOf('--permission-mode') + 2), ['--permission-mode', 'plan']);
    assert.ok(implement?.prompt.includes(PLAN));
    assert.ok(implement?.argv.includes('--append-system-prompt'));
  });

  test("the next loop without a base branch starts from the base of the earlier loop's branch left checked out, not on top of it", async (t) => {
    const s = await setup(t, [GOOD]);
    const first = await s.loop.start(s.input);
    assert.equal(first.status, 'succeeded', JSON.stringify(first.failure));
    assert.equal(await git(s.dir, 'rev-parse', '--abbrev-ref', 'HEAD'), first.branch);
    const second = await s.loop.begin({ ...s.input, feature: 'Say goodbye too' });
    assert.equal(second.baseBranch, 'main');
    assert.equal(second.baseSha, await git(s.dir, 'rev-parse', 'main'));
    // Asked for, an earlier loop's branch is a base like any other.
    await git(s.dir, 'switch', '--quiet', first.branch);
    const stacked = await s.loop.begin({ ...s.input, feature: 'Wave as well', baseBranch: first.branch });
    assert.equal(stacked.baseBranch, first.branch);
  });

  test('a dirty tree is refused and nothing starts', async (t) => {
    const s = await setup(t, [GOOD]);
    await writeFiles(s.dir, { 'notes.txt': 'mine\n' });
    await assert.rejects(s.loop.start(s.input), isError('conflict', /uncommitted changes \(notes\.txt\)/));
    assert.equal(await git(s.dir, 'branch', '--list', 'feature/*'), '');
    assert.deepEqual(await s.calls(), []);
  });

  test('refuses a detached HEAD, a missing base branch and a repository without validation commands', async (t) => {
    const s = await setup(t, [GOOD]);
    await assert.rejects(s.loop.begin({ ...s.input, baseBranch: 'develop' }), isError('invalid_input', /no branch develop/));
    await assert.rejects(s.loop.begin({ ...s.input, validationCommands: [] }), isError('invalid_input', /no validation commands/));
    await git(s.dir, 'checkout', '-q', '--detach');
    await assert.rejects(s.loop.begin(s.input), isError('invalid_input', /HEAD is detached/));
    assert.equal(await git(s.dir, 'branch', '--list', 'feature/*'), '');
  });

  test('a repository without a commit is refused with what to do, not a git error', async (t) => {
    const s = await setup(t, [GOOD]);
    const empty = await tempDir(t, 'supervisor-piv-empty-');
    await git(empty, 'init', '-q', '-b', 'main');
    await writeFiles(empty, { 'README.md': '# new\n' });
    await assert.rejects(s.loop.begin({ ...s.input, repoDir: empty }), isError('invalid_input', /has no commits yet; commit what is there first/));
  });

  test('files made by the validation commands are not committed', async (t) => {
    const s = await setup(t, [GOOD]);
    const result = await s.loop.start({ ...s.input, validationCommands: ['node check.mjs', 'mkdir -p dist && echo built > dist/out.txt'] });
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.deepEqual(result.filesChanged, ['greet.mjs']);
    assert.ok(existsSync(join(s.dir, 'dist/out.txt')));
    assert.equal(await git(s.dir, 'status', '--porcelain', '--untracked-files=all'), '?? dist/out.txt');
  });

  test('a validation command that checks out the base branch: the work is committed on the loop\'s branch, never on main', async (t) => {
    const s = await setup(t, [GOOD]);
    const mainBefore = await git(s.dir, 'rev-parse', 'main');
    const result = await s.loop.start({ ...s.input, validationCommands: ['node check.mjs', 'git checkout -q main'] });
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.equal(await git(s.dir, 'rev-parse', 'main'), mainBefore, 'main is untouched');
    assert.equal(await git(s.dir, 'rev-parse', '--abbrev-ref', 'HEAD'), result.branch);
    assert.equal(await git(s.dir, 'log', '-1', '--format=%s', result.branch), FEATURE);
    assert.ok(s.store.progress(result.id).some((e) => /the checkout had moved to main; feature\/greet-people-by-name is checked out again/.test(e.message)));
  });

  test('moved to a branch at another commit before the commit: nothing is committed anywhere, and the message says where the work is', async (t) => {
    const s = await setup(t, [GOOD]);
    const result = await s.loop.start({ ...s.input, validationCommands: ['node check.mjs', 'git checkout -q main && git commit -q --allow-empty -m elsewhere'] });
    assert.equal(result.status, 'failed');
    assert.match(result.failure?.message ?? '', /^commit: the checkout moved to main, which is at another commit than feature\/greet-people-by-name; nothing was committed/);
    assert.doesNotMatch(result.failure?.message ?? '', /resume/);
    assert.equal(await git(s.dir, 'log', '-1', '--format=%s', 'main'), 'elsewhere');
    assert.equal(await git(s.dir, 'log', '-1', '--format=%s', result.branch), 'first');
    assert.match(await git(s.dir, 'status', '--porcelain'), /M greet\.mjs/);
  });

  test('one loop at a time in a repository', async (t) => {
    let running!: () => void;
    const started = new Promise<void>((resolve) => (running = resolve));
    const s = await setup(t, [GOOD], { onPhase: () => running() });
    const first = s.loop.start(s.input);
    await started;
    await assert.rejects(s.loop.start(s.input), isError('conflict', /already running/));
    assert.equal((await first).status, 'succeeded');
  });

  test('phase timings come from the injected clock, and onPhase hears every start and finish', async (t) => {
    const clock = new ManualClock();
    const events: PhaseEvent[] = [];
    const dir = await gitRepo(t, GREETER);
    const fake = await fakeAgent(t, [planRule, { match: 'IMPLEMENT phase', ...GOOD }]);
    // Each agent run "takes" 5 minutes of the manual clock.
    const slowAgent: AgentRunner = {
      run: async (opts) => {
        clock.advance(5 * 60_000);
        return fake.runner.run(opts);
      },
    };
    const loop = new PivLoop({ agent: slowAgent, store: new MemoryPivStore(), clock, author: AUTHOR, onPhase: (e) => void events.push(e) });

    const result = await loop.start({ repoDir: dir, feature: FEATURE, validationCommands: ['node check.mjs'], settings: SETTINGS });

    assert.deepEqual(
      result.timings.map((x) => [x.phase, x.durationMs]),
      [
        ['prime', 0],
        ['plan', 300_000],
        ['implement', 300_000],
        ['validate', 0],
        ['commit', 0],
      ],
    );
    assert.equal(result.startedAt, '2026-01-01T00:00:00.000Z');
    assert.equal(result.finishedAt, '2026-01-01T00:10:00.000Z');
    assert.deepEqual(
      events.map((e) => `${e.event} ${e.phase}`),
      ['prime', 'plan', 'implement', 'validate', 'commit'].flatMap((p) => [`started ${p}`, `finished ${p}`]),
    );
    assert.deepEqual(events[3]?.timing, result.timings[1]);
  });

  test('a failing onPhase hook is logged and the loop goes on', async (t) => {
    const s = await setup(t, [GOOD], {
      onPhase: () => {
        throw new Error('tasks unavailable');
      },
    });
    const result = await s.loop.start(s.input);
    assert.equal(result.status, 'succeeded');
    assert.ok(s.store.progress(result.id).some((e) => e.message === 'the onPhase hook failed: tasks unavailable'));
  });

  test('files the supervisor writes (CLAUDE.md, .mcp.json, a hand-edit backup, the project layer) neither stop a loop from starting nor go into its commit', async (t) => {
    // CLAUDE.md rewritten while the loop runs (here by the implement step, as a regeneration would), and all four left uncommitted before it.
    const s = await setup(t, [{ ...GOOD, writes: { ...GOOD.writes, 'CLAUDE.md': '# Greeter\n\nregenerated during the loop\n' } }]);
    await writeFiles(s.dir, {
      'CLAUDE.md': '# Greeter\n\nregenerated before the loop\n',
      '.mcp.json': '{"mcpServers":{}}\n',
      'CLAUDE.md.20260101-120000.bak': 'old\n',
      '.claude-specific/50-local.md': 'Our own rule.\n',
    });
    const result = await s.loop.start(s.input);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.deepEqual(result.filesChanged, ['greet.mjs']);
    assert.equal(await git(s.dir, 'status', '--porcelain'), '?? .claude-specific/\n?? .mcp.json\n?? CLAUDE.md\n?? CLAUDE.md.20260101-120000.bak', 'still there, uncommitted');
    assert.ok(s.store.progress(result.id).some((e) => e.message === 'left uncommitted: .claude-specific/50-local.md, .mcp.json, CLAUDE.md, CLAUDE.md.20260101-120000.bak (files the supervisor writes; commit them apart from the feature)'), JSON.stringify(s.store.progress(result.id).map((e) => e.message)));

    // Anything else left uncommitted still stops a loop.
    const other = await setup(t, [GOOD]);
    await writeFiles(other.dir, { 'notes.txt': 'mine\n' });
    await assert.rejects(other.loop.start(other.input), isError('conflict', /has uncommitted changes \(notes\.txt\)/));
  });

  test('staged supervisor files stay out of the commit: staged by a person before the loop, or by the agent committing everything', async (t) => {
    for (const commit of [undefined, 'all'] as const) {
      const s = await setup(t, [{ ...GOOD, writes: { ...GOOD.writes, '.mcp.json': '{"mcpServers":{}}\n' }, commit }]);
      await writeFiles(s.dir, { 'CLAUDE.md': '# Greeter\n' });
      await git(s.dir, 'add', 'CLAUDE.md');
      await git(s.dir, 'commit', '-qm', 'track CLAUDE.md');
      await writeFiles(s.dir, { 'CLAUDE.md': '# Greeter\n\nregenerated\n' });
      await git(s.dir, 'add', 'CLAUDE.md');
      const result = await s.loop.start(s.input);
      assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
      assert.deepEqual(result.filesChanged, ['greet.mjs'], `commit: ${commit}`);
      assert.deepEqual(result.commits.length, 1);
      assert.match(await git(s.dir, 'status', '--porcelain'), /^M. CLAUDE\.md$/m, 'still changed, uncommitted');
      assert.match(await git(s.dir, 'status', '--porcelain'), /^(\?\?|A.) \.mcp\.json$/m);
    }
  });
});
