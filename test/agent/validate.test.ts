// Validation as a project sees it: its own checks found in its files, run in order, output kept,
// and a failure recognised when a retry changes nothing.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SupervisorError } from '../../src/core/errors.js';
import { detectValidationCommands, failureSignature, formatRuns, runValidation, type CommandRun } from '../../src/agent/validate.js';
import { processGone, readPid, tempDir, waitFor, writeFiles } from './fixture.js';

describe('detectValidationCommands', () => {
  test('package.json scripts build, lint, typecheck and test, in that order', async (t) => {
    const dir = await tempDir(t);
    await writeFiles(dir, {
      'package.json': JSON.stringify({ scripts: { test: 'node --test', start: 'node .', lint: 'eslint .', build: 'tsc' } }),
      Makefile: 'test:\n\tmake-test\n',
    });
    assert.deepEqual(await detectValidationCommands(dir), ['npm run build', 'npm run lint', 'npm run test']);
  });

  test("npm init's placeholder test script (it always fails) and a blank script are not validation commands", async (t) => {
    const dir = await tempDir(t);
    await writeFiles(dir, { 'package.json': JSON.stringify({ scripts: { test: 'echo "Error: no test specified" && exit 1', lint: ' ', build: 'tsc' } }) });
    assert.deepEqual(await detectValidationCommands(dir), ['npm run build']);
    // With nothing else there, nothing is detected: start_piv then asks for the commands.
    await writeFiles(dir, { 'package.json': JSON.stringify({ scripts: { test: 'echo "Error: no test specified" && exit 1' } }) });
    assert.deepEqual(await detectValidationCommands(dir), []);
  });

  test('runs scripts with the package manager whose lockfile is there', async (t) => {
    const dir = await tempDir(t);
    await writeFiles(dir, { 'package.json': JSON.stringify({ scripts: { test: 'vitest run' } }), 'pnpm-lock.yaml': '' });
    assert.deepEqual(await detectValidationCommands(dir), ['pnpm run test']);
  });

  test('Makefile targets when package.json has none of the scripts', async (t) => {
    const dir = await tempDir(t);
    await writeFiles(dir, {
      'package.json': JSON.stringify({ scripts: { start: 'node .' } }),
      Makefile: 'CC := gcc\n.PHONY: build test\nbuild: main.o\n\t$(CC) main.o\nlint:\n\tclang-tidy *.c\ntest: build\n\t./run-tests\ncheck: test\n',
    });
    assert.deepEqual(await detectValidationCommands(dir), ['make build', 'make lint', 'make test']);
  });

  test('a file linked out of the project, or a dangling link, counts as absent: the others still decide', async (t) => {
    const dir = await tempDir(t);
    const outside = await tempDir(t);
    await writeFiles(outside, { Makefile: 'test:\n\t./steal\n' });
    await writeFiles(dir, { 'pyproject.toml': '[tool.pytest.ini_options]\n' });
    await symlink(join(dir, 'no-such-file'), join(dir, 'package.json'));
    await symlink(join(outside, 'Makefile'), join(dir, 'Makefile'));
    assert.deepEqual(await detectValidationCommands(dir), ['pytest']);
  });

  test('make check when there is no test target', async (t) => {
    const dir = await tempDir(t);
    await writeFiles(dir, { Makefile: 'check:\n\t./configure && make\n' });
    assert.deepEqual(await detectValidationCommands(dir), ['make check']);
  });

  test('ruff, mypy and pytest when pyproject.toml configures them', async (t) => {
    const dir = await tempDir(t);
    await writeFiles(dir, {
      'pyproject.toml': '[project]\nname = "x"\n\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\n\n[tool.ruff.lint]\nselect = ["E"]\n',
    });
    assert.deepEqual(await detectValidationCommands(dir), ['ruff check .', 'pytest']);
  });

  test('nothing for a folder without any of these files', async (t) => {
    assert.deepEqual(await detectValidationCommands(await tempDir(t)), []);
  });

  test('a package.json that is not JSON is refused with what to do', async (t) => {
    const dir = await tempDir(t);
    await writeFiles(dir, { 'package.json': '{ "scripts": ' });
    await assert.rejects(
      detectValidationCommands(dir),
      (err: unknown) => err instanceof SupervisorError && err.code === 'invalid_input' && /not valid JSON .*pass the validation commands/.test(err.message),
    );
  });
});

describe('runValidation', () => {
  test('runs every command in order and keeps its output', async (t) => {
    const dir = await tempDir(t);
    const report = await runValidation(['echo built', 'echo tested >&2'], { cwd: dir });
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.runs.map((r) => [r.command, r.exitCode, r.outputTail]),
      [
        ['echo built', 0, 'built\n'],
        ['echo tested >&2', 0, 'tested\n'],
      ],
    );
  });

  test("a command does not get the daemon's master key, database URL or tokens, so `env` in a test script cannot print them", async (t) => {
    const dir = await tempDir(t);
    const daemon = { SUPERVISOR_MASTER_KEY: 'master-key-abc', DATABASE_URL: 'postgres://u:pw@db/x', PGPASSWORD: 'pw', SUPERVISOR_TOKEN: 'svt_admin', SUPERVISOR_HOME: '/srv/sv' };
    const saved = Object.fromEntries(Object.keys(daemon).map((k) => [k, process.env[k]]));
    Object.assign(process.env, daemon, { TRIAL_KEEP: 'kept' });
    t.after(() => {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
      else process.env[k] = v;
      delete process.env.TRIAL_KEEP;
    });
    const report = await runValidation(['env'], { cwd: dir, env: { SUPERVISOR_PIV_LOOP: 'loop-1' } });
    const output = report.runs[0]!.outputTail;
    for (const value of Object.values(daemon)) assert.ok(!output.includes(value), `${value} withheld`);
    assert.match(output, /^TRIAL_KEEP=kept$/m, 'the rest of the environment is inherited');
    assert.match(output, /^SUPERVISOR_PIV_LOOP=loop-1$/m, "the loop's own variable is given");
  });

  test('stops at the first failing command', async (t) => {
    const dir = await tempDir(t);
    const report = await runValidation(['echo ok', 'echo "2 tests failed"; exit 1', 'echo never'], { cwd: dir });
    assert.equal(report.ok, false);
    assert.equal(report.runs.length, 2);
    assert.equal(report.failed, report.runs[1]);
    assert.equal(report.runs[1]?.exitCode, 1);
    assert.equal(report.runs[1]?.outputTail, '2 tests failed\n');
  });

  test('keeps only the end of long output', async (t) => {
    const dir = await tempDir(t);
    const report = await runValidation(['seq 1 5000'], { cwd: dir, maxOutputChars: 20 });
    assert.equal(report.runs[0]?.outputTail, '4997\n4998\n4999\n5000\n');
  });

  test('a command that runs too long is stopped and fails', async (t) => {
    const dir = await tempDir(t);
    const report = await runValidation(['sleep 600', 'echo never'], { cwd: dir, timeoutMs: 300 });
    assert.equal(report.ok, false);
    assert.equal(report.failed?.timedOut, true);
    assert.equal(report.runs.length, 1);
    assert.match(report.failed?.outputTail ?? '', /\[stopped after 300 ms\]/);
  });

  test('cancel stops the running command with everything it started, and runs no more', async (t) => {
    const dir = await tempDir(t);
    const pidFile = join(dir, 'sleep.pid');
    const cancel = new AbortController();
    const running = runValidation([`sleep 600 & echo $! > ${pidFile}; wait`, 'echo never'], { cwd: dir, signal: cancel.signal });
    const pid = await readPid(pidFile);
    cancel.abort();
    const report = await running;
    assert.equal(report.cancelled, true);
    assert.equal(report.runs.length, 1);
    await waitFor(() => processGone(pid), `the validation's sleep (pid ${pid}) to be gone`);
  });
});

describe('failureSignature', () => {
  const run = (outputTail: string, exitCode = 1): CommandRun => ({
    command: 'npm test',
    exitCode,
    signal: null,
    timedOut: false,
    outputTail,
    durationMs: 0,
  });

  test('the same failure with other timings, times, paths and colours has the same signature', () => {
    const first = run('\x1b[31mFAIL\x1b[0m /tmp/piv-abc/src/a.test.js (1.23 s)\n  expected hello, got hi\nat 2026-01-01T10:00:00.123Z\nTime: 812ms\n');
    const again = run('FAIL /tmp/piv-xyz/src/a.test.js (0.98 s)\n  expected hello, got hi\nat 2026-01-01T10:05:09.001Z\nTime: 1021ms\n');
    assert.equal(failureSignature(first), failureSignature(again));
  });

  test('the repository path counts as the same wherever it is', () => {
    const a = run('Error in /home/a/repo/src/x.ts:3\n');
    const b = run('Error in /srv/b/repo/src/x.ts:3\n');
    assert.equal(failureSignature(a, ['/home/a/repo']), failureSignature(b, ['/srv/b/repo']));
  });

  test('a different message, exit code or command is a different failure', () => {
    const base = run('expected hello, got hi\n');
    assert.notEqual(failureSignature(base), failureSignature(run('expected hello, got hey\n')));
    assert.notEqual(failureSignature(base), failureSignature(run('expected hello, got hi\n', 2)));
    assert.notEqual(failureSignature(base), failureSignature({ ...base, command: 'npm run lint' }));
  });
});

test('formatRuns: each command under its own header, in order, its output cut to the end keep() allows', () => {
  const run = (command: string, exitCode: number, outputTail: string): CommandRun => ({ command, exitCode, signal: null, timedOut: false, outputTail, durationMs: 5 });
  const runs = [run('npm run lint', 0, `${'a'.repeat(40)}2 warnings`), run('npm test', 1, `${'b'.repeat(40)}1 failed`)];
  assert.equal(formatRuns(runs, (r) => (r.command === 'npm test' ? 12 : 10)), `$ npm run lint\n(exit 0, 5 ms)\n2 warnings\n$ npm test\n(exit 1, 5 ms)\nbbbb1 failed`);
  assert.match(formatRuns(runs), /^\$ npm run lint\n\(exit 0, 5 ms\)\na{40}2 warnings\n/);
});
