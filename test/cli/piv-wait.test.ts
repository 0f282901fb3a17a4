/**
 * `supervisor piv status <id> --wait` (and `--wait-seconds n` past the operation's 50): the CLI
 * repeats get_piv_status, each call waiting at most 50 s, until the loop ends or the time runs
 * out, and its exit code says how it ended. `piv start` and `piv resume` wait the same way after
 * their one call. The daemon here is a stand-in that answers each call
 * from a script and records what it was asked, so no test waits on a real loop.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCliBuilt, cliEnv, describeResult, runCli, startCli } from './run-cli.js';

const ID = '0b7c6a52-4c1e-4f58-9d0e-5a3f2b1c9e77';

describe('piv status --wait', () => {
  let server: Server;
  let env: Record<string, string>;
  let home: string;
  /** The waitSeconds of each call (get_piv_status, or start_piv and resume_piv), in order. */
  let asked: number[];
  /** The operation of each call, in order. */
  let called: string[];
  /** The statuses answered, one per call; the last repeats. */
  let answers: string[];
  /** Called when a get_piv_status call arrives; answering it is left to the test when set. */
  let hold: ((respond: () => void) => void) | undefined;

  before(async () => {
    assertCliBuilt();
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        const operation = /\/call\/(get_piv_status|start_piv|resume_piv)$/.exec(req.url ?? '')?.[1];
        if (!operation) return void res.end('{}');
        const input = JSON.parse(body) as { waitSeconds?: number };
        asked.push(input.waitSeconds ?? 0);
        called.push(operation);
        const status = answers[Math.min(asked.length, answers.length) - 1]!;
        const respond = () => res.end(JSON.stringify({ id: ID, project: 'p', feature: 'f', status, phase: 'validate', branch: 'feature/f', elapsedMs: 0, retries: 0, turns: 0, costUsd: 0 }));
        if (hold) hold(respond);
        else respond();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    home = await mkdtemp(join(tmpdir(), 'supervisor-piv-wait-'));
    env = cliEnv(home, { SUPERVISOR_URL: `http://127.0.0.1:${port}`, SUPERVISOR_TOKEN: 'svt_x' });
  });
  beforeEach(() => {
    asked = [];
    called = [];
    hold = undefined;
  });
  after(async () => {
    server.closeAllConnections();
    server.close();
    await rm(home, { recursive: true, force: true });
  });

  test('--wait repeats the call, 50 s at a time, until the loop ends; a failed loop exits 1', async () => {
    answers = ['running', 'running', 'failed'];
    const r = await runCli(['piv', 'status', ID, '--wait'], { env });
    assert.equal(r.code, 1, describeResult(r));
    assert.match(r.stdout, /^status: +failed$/m);
    assert.deepEqual(asked, [50, 50, 50]);
  });

  test('a loop that succeeded exits 0', async () => {
    answers = ['queued', 'succeeded'];
    const r = await runCli(['piv', 'status', ID, '--wait'], { env });
    assert.equal(r.code, 0, describeResult(r));
    assert.deepEqual(asked, [50, 50]);
  });

  test('cancelled and interrupted loops exit 1 too: the work did not end done', async () => {
    for (const status of ['cancelled', 'interrupted']) {
      asked = [];
      answers = [status];
      const r = await runCli(['piv', 'status', ID, '--wait'], { env });
      assert.equal(r.code, 1, `${status}: ${describeResult(r)}`);
    }
  });

  test('--wait-seconds past 50 is split into calls of at most 50', async () => {
    answers = ['running', 'succeeded'];
    const r = await runCli(['piv', 'status', ID, '--wait-seconds', '3600'], { env });
    assert.equal(r.code, 0, describeResult(r));
    assert.equal(asked.length, 2);
    assert.ok(asked.every((s) => s > 0 && s <= 50), `asked ${asked.join(', ')}`);
  });

  test('the time running out before the loop ends exits 124, with the status as it is', async () => {
    answers = ['running'];
    // The stand-in waits as a daemon would, the seconds asked, before answering "running".
    hold = (respond) => void setTimeout(respond, asked.at(-1)! * 1000);
    const r = await runCli(['piv', 'status', ID, '--wait-seconds', '1'], { env });
    assert.equal(r.code, 124, describeResult(r));
    assert.match(r.stdout, /^status: +running$/m);
    assert.deepEqual(asked, [1]);
  });

  test('without a wait it is one call, exit 0 whatever the status', async () => {
    answers = ['failed'];
    const r = await runCli(['piv', 'status', ID], { env });
    assert.equal(r.code, 0, describeResult(r));
    assert.deepEqual(asked, [0]);
  });

  test('--wait with --wait-seconds is a usage error', async () => {
    const r = await runCli(['piv', 'status', ID, '--wait', '--wait-seconds', '10'], { env });
    assert.equal(r.code, 2, describeResult(r));
    assert.match(r.stderr, /--wait waits for the end, --wait-seconds n up to n seconds: give one/);
  });

  test('Ctrl-C while waiting ends the command at once', async () => {
    answers = ['running'];
    let arrived!: () => void;
    const waiting = new Promise<void>((resolve) => (arrived = resolve));
    // The call is never answered: only the interrupt can end the command.
    hold = () => arrived();
    const cli = startCli(['piv', 'status', ID, '--wait'], { env, timeoutMs: 20_000 });
    const first = await Promise.race([waiting.then(() => 'waiting'), cli.result.then((r) => describeResult(r))]);
    assert.equal(first, 'waiting', 'the command ended before it waited');
    cli.child.kill('SIGINT');
    const r = await cli.result;
    assert.equal(r.signal, 'SIGINT', describeResult(r));
  });

  test('piv start --wait starts the loop once, then repeats get_piv_status with its id until it ends, exiting as piv status --wait', async () => {
    answers = ['queued', 'interrupted'];
    const r = await runCli(['piv', 'start', 'p', 'a feature', '--wait'], { env });
    assert.equal(r.code, 1, describeResult(r));
    assert.match(r.stdout, /^status: +interrupted$/m);
    assert.deepEqual(called, ['start_piv', 'get_piv_status']);
    assert.deepEqual(asked, [50, 50]);
  });

  test('piv resume --wait-seconds past 50 resumes once and waits through get_piv_status; the time running out exits 124', async () => {
    answers = ['queued', 'running'];
    // The stand-in waits as a daemon would, the seconds asked, before answering.
    hold = (respond) => void setTimeout(respond, asked.at(-1)! * 1000);
    const r = await runCli(['piv', 'resume', ID, '--wait-seconds', '1'], { env });
    assert.equal(r.code, 124, describeResult(r));
    assert.deepEqual(called, ['resume_piv']);
    answers = ['queued', 'succeeded'];
    hold = undefined;
    [asked, called] = [[], []];
    const done = await runCli(['piv', 'resume', ID, '--wait-seconds', '3600'], { env });
    assert.equal(done.code, 0, describeResult(done));
    assert.deepEqual(called, ['resume_piv', 'get_piv_status']);
  });

  test('Ctrl-C while piv start waits ends the command at once; the loop it started goes on', async () => {
    answers = ['queued', 'running'];
    let arrived!: () => void;
    const waiting = new Promise<void>((resolve) => (arrived = resolve));
    // The start is answered; the status call after it never is.
    hold = (respond) => (called.length === 1 ? respond() : arrived());
    const cli = startCli(['piv', 'start', 'p', 'a feature', '--wait'], { env, timeoutMs: 20_000 });
    const first = await Promise.race([waiting.then(() => 'waiting'), cli.result.then((r) => describeResult(r))]);
    assert.equal(first, 'waiting', 'the command ended before it waited');
    cli.child.kill('SIGINT');
    const r = await cli.result;
    assert.equal(r.signal, 'SIGINT', describeResult(r));
    assert.deepEqual(called, ['start_piv', 'get_piv_status']);
  });

  test('piv start and piv resume --help say how to wait, through piv status', async () => {
    for (const verb of ['start', 'resume']) {
      const r = await runCli(['piv', verb, '--help'], { env });
      assert.equal(r.code, 0, describeResult(r));
      assert.match(r.stdout, /--wait +repeat `supervisor piv status` until status is no longer queued or running, however long \(Ctrl-C stops waiting\)/);
      assert.match(r.stdout, /exits 1 when status ended failed, cancelled, interrupted, 124 when the time ran out first/);
    }
  });

  test('the help says how to wait and what the exit codes mean', async () => {
    const r = await runCli(['piv', 'status', '--help'], { env });
    assert.equal(r.code, 0, describeResult(r));
    assert.match(r.stdout, /^Usage: supervisor piv status <id> .*\[--wait\]$/m);
    assert.match(r.stdout, /--wait +repeat the call until status is no longer queued or running, however long/);
    assert.match(r.stdout, /exits 1 when status ended failed, cancelled, interrupted, 124 when the time ran out first/);
    // The operation's 50 s is not the command line's limit, and its row must not say it is.
    assert.match(r.stdout, /^ {2}--wait-seconds <n> +Wait up to n seconds for the end, any n \(0: answer now\)/m);
    assert.doesNotMatch(r.stdout, /max 50/);
  });
});
