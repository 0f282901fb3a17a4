// The agent runner as the loop sees it, driven against the scripted fake agent through the real
// spawning code: what counts as a failed run, and that a stopped run leaves no process behind.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ClaudeCodeRunner, claudeArgs, type AgentRunOptions } from '../../src/agent/agent.js';
import type { StreamLine } from '../../src/agent/stream-json.js';
import { fakeAgent, processGone, readPid, tempDir, waitFor } from './fixture.js';

/** Timeouts far beyond what a fake run needs, for the tests that are not about timeouts. */
const RELAXED = { firstOutputTimeoutMs: 30_000, idleTimeoutMs: 30_000 };

function options(cwd: string, extra: Partial<AgentRunOptions> = {}): AgentRunOptions {
  return { cwd, prompt: 'IMPLEMENT the greeting', ...RELAXED, ...extra };
}

describe('ClaudeCodeRunner', () => {
  test('a successful run reports the result text, turns and cost, and passes the prompt on stdin', async (t) => {
    const dir = await tempDir(t);
    const agent = await fakeAgent(t, [{ match: 'IMPLEMENT', text: 'Done: greet() added.', turns: 5, costUsd: 0.25, writes: { 'greet.js': 'x' } }]);
    const seen: StreamLine[] = [];

    const result = await agent.runner.run(options(dir, { onLine: (l) => seen.push(l) }));

    assert.equal(result.ok, true);
    assert.equal(result.reason, undefined);
    assert.equal(result.exitCode, 0);
    assert.equal(result.resultText, 'Done: greet() added.');
    assert.equal(result.turns, 5);
    assert.equal(result.costUsd, 0.25);
    assert.match(result.sessionId ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      seen.map((l) => l.type),
      ['system', 'assistant', 'assistant', 'user', 'result'],
    );
    assert.equal(result.lines.at(-1), 'result success: Done: greet() added.');
    const [call] = await agent.calls();
    assert.equal(call?.prompt, 'IMPLEMENT the greeting');
    assert.equal(call?.cwd, dir);
  });

  test('passes the limits and the system prompt as Claude Code flags', async (t) => {
    const dir = await tempDir(t);
    const agent = await fakeAgent(t, [{}]);
    await agent.runner.run(
      options(dir, { maxTurns: 7, maxBudgetUsd: 1.5, permissionMode: 'acceptEdits', systemPrompt: 'Never commit.', model: 'sonnet', allowedTools: ['Read', 'Edit'] }),
    );
    const [call] = await agent.calls();
    assert.deepEqual(call?.argv, [
      '-p',
      '--output-format',
      'stream-json',
      '--verbose',
      '--max-turns',
      '7',
      '--max-budget-usd',
      '1.5',
      '--permission-mode',
      'acceptEdits',
      '--model',
      'sonnet',
      '--allowedTools',
      'Read,Edit',
      '--append-system-prompt',
      'Never commit.',
    ]);
  });

  test('claudeArgs leaves out every flag that was not asked for', () => {
    assert.deepEqual(claudeArgs({}), ['-p', '--output-format', 'stream-json', '--verbose']);
  });

  test('exit 0 with is_error: true is a failed run', async (t) => {
    const dir = await tempDir(t);
    const agent = await fakeAgent(t, [{ isError: true, text: 'API Error: 529 overloaded' }]);
    const result = await agent.runner.run(options(dir));
    assert.equal(result.exitCode, 0);
    assert.equal(result.ok, false);
    assert.equal(result.reason, 'is_error');
    assert.match(result.message ?? '', /reported an error \(success\): API Error: 529 overloaded/);
  });

  test('an error subtype (max turns) is a failed run', async (t) => {
    const dir = await tempDir(t);
    const agent = await fakeAgent(t, [{ subtype: 'error_max_turns', text: 'Reached maximum number of turns (7)', exitCode: 1 }]);
    const result = await agent.runner.run(options(dir));
    assert.equal(result.reason, 'is_error');
    assert.equal(result.subtype, 'error_max_turns');
    assert.equal(result.resultText, 'Reached maximum number of turns (7)');
  });

  test('exit 0 without a result line is a failed run', async (t) => {
    const dir = await tempDir(t);
    const agent = await fakeAgent(t, [{ omitResult: true }]);
    const result = await agent.runner.run(options(dir));
    assert.equal(result.exitCode, 0);
    assert.equal(result.ok, false);
    assert.equal(result.reason, 'no_result');
    assert.equal(result.turns, 0);
  });

  test('a non-zero exit is a failed run even after a successful result line', async (t) => {
    const dir = await tempDir(t);
    const agent = await fakeAgent(t, [{ exitCode: 3 }]);
    const result = await agent.runner.run(options(dir));
    assert.equal(result.reason, 'exit_code');
    assert.equal(result.exitCode, 3);
    assert.match(result.message ?? '', /exited with code 3/);
  });

  test('an agent that prints nothing is stopped at the first-output timeout, with everything it started', async (t) => {
    const dir = await tempDir(t);
    const pidFile = join(dir, 'grandchild.pid');
    const agent = await fakeAgent(t, [{ silent: true, grandchild: pidFile }]);

    // Long enough for the fake to start its grandchild even on a loaded machine.
    const result = await agent.runner.run(options(dir, { firstOutputTimeoutMs: 3_000 }));

    assert.equal(result.ok, false);
    assert.equal(result.reason, 'first_output_timeout');
    assert.equal(result.signal, 'SIGTERM');
    const grandchild = await readPid(pidFile);
    await waitFor(() => processGone(grandchild), `the agent's sleep (pid ${grandchild}) to be gone`);
  });

  test('an agent that goes quiet after starting is stopped at the idle timeout', async (t) => {
    const dir = await tempDir(t);
    const agent = await fakeAgent(t, [{ hang: true }]);
    const result = await agent.runner.run(options(dir, { idleTimeoutMs: 500 }));
    assert.equal(result.reason, 'idle_timeout');
    assert.deepEqual(result.lines, ['system init (claude-sonnet-4-5-20250929)', 'assistant: Working on it.']);
  });

  test('an agent that ignores SIGTERM is killed after the grace period', async (t) => {
    const dir = await tempDir(t);
    // It ignores SIGTERM from before its first line, so the idle timeout finds it deaf.
    const agent = await fakeAgent(t, [{ hang: true, ignoreSigterm: true }]);
    const result = await agent.runner.run(options(dir, { idleTimeoutMs: 300 }));
    assert.equal(result.reason, 'idle_timeout');
    assert.equal(result.signal, 'SIGKILL');
  });

  test('cancel mid-run stops the agent and what it started', async (t) => {
    const dir = await tempDir(t);
    const pidFile = join(dir, 'grandchild.pid');
    const agent = await fakeAgent(t, [{ hang: true, grandchild: pidFile }]);
    const cancel = new AbortController();

    const result = await agent.runner.run(options(dir, { signal: cancel.signal, onLine: (l) => l.type === 'assistant' && cancel.abort() }));

    assert.equal(result.reason, 'cancelled');
    assert.match(result.message ?? '', /cancelled/);
    const grandchild = await readPid(pidFile);
    await waitFor(() => processGone(grandchild), `the agent's sleep (pid ${grandchild}) to be gone`);
  });

  test('a run cancelled before it starts starts nothing', async (t) => {
    const dir = await tempDir(t);
    const agent = await fakeAgent(t, [{}]);
    const result = await agent.runner.run(options(dir, { signal: AbortSignal.abort() }));
    assert.equal(result.reason, 'cancelled');
    assert.deepEqual(await agent.calls(), []);
  });

  test('a process the agent leaves running after a successful exit is stopped too', async (t) => {
    const dir = await tempDir(t);
    const pidFile = join(dir, 'grandchild.pid');
    const agent = await fakeAgent(t, [{ grandchild: pidFile }]);
    const result = await agent.runner.run(options(dir));
    assert.equal(result.ok, true);
    const grandchild = await readPid(pidFile);
    await waitFor(() => processGone(grandchild), `the agent's sleep (pid ${grandchild}) to be gone`);
  });

  test('a crash with a long stack: the message keeps the error line at the start of stderr, and its end', async (t) => {
    const dir = await tempDir(t);
    const command = join(dir, 'crashing-claude');
    const frames = 'i=0; while [ $i -lt 400 ]; do echo "    at frame $i (/app/file.js:1:1)" >&2; i=$((i+1)); done';
    await writeFile(command, `#!/bin/sh\ncat > /dev/null\necho "Error: Command failed: git commit -m x" >&2\n${frames}\nexit 1\n`, { mode: 0o755 });
    const result = await new ClaudeCodeRunner({ command }).run(options(dir));
    assert.equal(result.reason, 'exit_code');
    assert.match(result.message ?? '', /exited with code 1 \(stderr: Error: Command failed: git commit -m x\n {4}at frame 0 .* … .*at frame 399 \(\/app\/file\.js:1:1\)\)$/s);
  });

  test('a command that cannot be started is reported as such', async (t) => {
    const dir = await tempDir(t);
    const runner = new ClaudeCodeRunner({ command: join(dir, 'no-such-claude') });
    const result = await runner.run(options(dir));
    assert.equal(result.reason, 'spawn_error');
    assert.match(result.message ?? '', /could not start the agent command ".*no-such-claude" \(spawn .* ENOENT\); check the agent command setting/);
  });
});
