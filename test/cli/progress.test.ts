/**
 * A call that takes a while shows a spinner on a terminal's stderr, and nothing
 * anywhere when stderr is not a terminal: stdout is the answer either way. The
 * daemon here is a stand-in that answers after a second.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCliBuilt, CLI_BIN, cliEnv, describeResult, runCli } from './run-cli.js';

const hasScript = spawnSync('script', ['--version']).error === undefined;

describe('progress on a terminal', () => {
  let server: Server;
  let env: Record<string, string>;
  let home: string;
  before(async () => {
    assertCliBuilt();
    server = createServer((req, res) => {
      req.resume();
      setTimeout(() => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ role: 'admin', project: 'meta', actor: 'slow-daemon' }));
      }, 1200);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    home = await mkdtemp(join(tmpdir(), 'supervisor-progress-'));
    env = cliEnv(home, { SUPERVISOR_URL: `http://127.0.0.1:${port}`, SUPERVISOR_TOKEN: 'svt_x' });
  });
  after(async () => {
    server.close();
    await rm(home, { recursive: true, force: true });
  });

  test('not a terminal: no spinner, stderr empty, stdout the answer', async () => {
    const r = await runCli(['token', 'whoami'], { env });
    assert.equal(r.code, 0, describeResult(r));
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^actor: +slow-daemon$/m);
  });

  test('a terminal: a spinner while waiting, erased before the answer', { skip: hasScript ? false : 'script(1) is not installed' }, async () => {
    const command = [process.execPath, CLI_BIN, 'token', 'whoami'].map((w) => `'${w}'`).join(' ');
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (screen += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, screen);
    assert.match(screen, /\r[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Who am I…/);
    assert.match(screen, /\r\x1b\[K(\r\n)?role: +admin/);
  });
});
