/**
 * `supervisor secrets set <path>` on a terminal asks for the value with echo off
 * (run under a pseudo-terminal with `script`); piped, it reads stdin; `--value`
 * works but warns that the command line is visible to other users.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { CLI_BIN, describeResult, parseJson, runCli, useCliDaemon } from './run-cli.js';

const hasScript = spawnSync('script', ['--version']).error === undefined;

/** Runs the CLI under a pseudo-terminal; `answer` is typed once the prompt shows. Resolves with the terminal's output and the exit code. */
function onTerminal(args: string[], env: Record<string, string>, answer: string): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, CLI_BIN, ...args].map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  let typed = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    screen += chunk;
    if (!typed && /Value for .*: $/.test(screen)) {
      typed = true;
      child.stdin.write(answer);
    }
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, screen })));
}

describe('secrets set: where the value comes from', () => {
  const t = useCliDaemon();

  test('on a terminal it asks with echo off, and the value typed is stored', { skip: hasScript ? false : 'script(1) is not installed' }, async () => {
    const r = await onTerminal(['secrets', 'set', 'project/tty/key'], t.env, 'typed s3cret\r');
    assert.equal(r.code, 0, r.screen);
    assert.match(r.screen, /Value for project\/tty\/key: /);
    assert.doesNotMatch(r.screen, /s3cret/, 'the value is not echoed');
    assert.match(r.screen, /created: +true/);
    const get = await runCli(['secrets', 'get', 'project/tty/key', '-f', 'value'], { env: t.env });
    assert.equal(get.stdout, 'typed s3cret');
  });

  test('Ctrl-C at the prompt writes nothing and exits 130, as an interrupt does', { skip: hasScript ? false : 'script(1) is not installed' }, async () => {
    const r = await onTerminal(['secrets', 'set', 'project/tty/cancelled'], t.env, 'abc\u0003');
    assert.equal(r.code, 130, r.screen);
    assert.match(r.screen, /cancelled \(Ctrl-C\); nothing was written/);
    const get = await runCli(['secrets', 'get', 'project/tty/cancelled'], { env: t.env });
    assert.equal(get.code, 1);
  });

  test('piped, the value is stdin (one trailing newline dropped)', async () => {
    const r = await runCli(['secrets', 'set', 'project/tty/piped', '--json'], { env: t.env, stdin: 'from a pipe\n' });
    assert.equal(r.code, 0, describeResult(r));
    assert.equal(parseJson(r).created, true);
    assert.equal((await runCli(['secrets', 'get', 'project/tty/piped', '-f', 'value'], { env: t.env })).stdout, 'from a pipe');
  });

  test('--value is taken, with a warning that other users can see it', async () => {
    const r = await runCli(['secrets', 'set', 'project/tty/argv', '--value', 'visible'], { env: t.env });
    assert.equal(r.code, 0, describeResult(r));
    assert.equal(r.stderr, 'supervisor: warning: --value on the command line is visible to other users of this host (ps, /proc); pipe it on stdin instead\n');
  });

  test('a value inside --input is on the command line too, and warned of the same way', async () => {
    for (const args of [['--input', '{"path":"project/tty/in-json","value":"visible"}'], ['project/tty/in-json2', '--input', '{"value":"visible"}']]) {
      const r = await runCli(['secrets', 'set', ...args], { env: t.env });
      assert.equal(r.code, 0, describeResult(r));
      assert.equal(r.stderr, "supervisor: warning: --input's value on the command line is visible to other users of this host (ps, /proc); pipe it on stdin instead\n");
    }
    const piped = await runCli(['secrets', 'set', '--input', '{"path":"project/tty/in-json3"}'], { env: t.env, stdin: 'hidden' });
    assert.equal(piped.code, 0, describeResult(piped));
    assert.equal(piped.stderr, '', 'no warning when the value comes on stdin');
  });

  test('with --json the warning is part of stderr\'s one JSON document, after a success and beside an error', async () => {
    const warned = ['--value on the command line is visible to other users of this host (ps, /proc); pipe it on stdin instead'];
    const ok = await runCli(['secrets', 'set', 'project/tty/argv-json', '--value', 'visible', '--json'], { env: t.env });
    assert.equal(ok.code, 0, describeResult(ok));
    assert.equal(parseJson(ok).created, true);
    assert.deepEqual(JSON.parse(ok.stderr), { warnings: warned });
    const failed = await runCli(['secrets', 'set', 'project/tty/argv-json', '--value', 'visible', '--expires-at', '2001-01-01', '--json'], { env: t.env });
    assert.equal(failed.code, 1, describeResult(failed));
    const document = JSON.parse(failed.stderr) as { error: { code: string }; warnings: string[] };
    assert.equal(document.error.code, 'invalid_input');
    assert.deepEqual(document.warnings, warned);
  });
});
