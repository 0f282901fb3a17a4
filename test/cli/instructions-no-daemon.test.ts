// Instructions regenerated without the daemon name the MCP endpoint from the configured port.
// Port 0 is a free port picked at each daemon start, so without a daemon there is no address:
// the command says so instead of writing http://127.0.0.1:0/mcp/<project> into CLAUDE.md.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCliBuilt, cliEnv, describeResult, runCli } from './run-cli.js';

before(assertCliBuilt);

test('port 0 and no daemon: regenerate and mcp-config refuse, naming the fix; a fixed port is written as it is', { timeout: 120_000 }, async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'supervisor-instr-nodaemon-'));
  t.after(() => rm(home, { recursive: true, force: true }));
  const directory = join(home, 'alpha');
  await mkdir(directory);
  const free = cliEnv(home, { SUPERVISOR_PORT: '0' });
  for (const args of [['instructions', 'init'], ['project', 'add', 'alpha', '--directory', directory]]) {
    const r = await runCli(args, { env: free });
    assert.equal(r.code, 0, describeResult(r));
  }

  const regenerate = await runCli(['instructions', 'regenerate', 'alpha'], { env: free });
  assert.notEqual(regenerate.code, 0, describeResult(regenerate));
  assert.match(regenerate.stdout + regenerate.stderr, /the daemon's address is not known here: port is 0 .* set a fixed port \(`supervisor config set port 3000`\)/);
  assert.equal(existsSync(join(directory, 'CLAUDE.md')), false, 'nothing written');
  const config = await runCli(['instructions', 'mcp-config', 'alpha'], { env: free });
  assert.notEqual(config.code, 0, describeResult(config));
  assert.match(config.stderr, /the daemon's address is not known here/);

  const fixed = await runCli(['instructions', 'regenerate', 'alpha'], { env: cliEnv(home, { SUPERVISOR_PORT: '4321' }) });
  assert.equal(fixed.code, 0, describeResult(fixed));
  assert.match(await readFile(join(directory, 'CLAUDE.md'), 'utf8'), /http:\/\/127\.0\.0\.1:4321\/mcp\/alpha/);

  // The daemon last ran on another port (SUPERVISOR_PORT in its shell, as daemons/last-address keeps):
  // a shell without that setting must not point every agent at its own default port.
  await mkdir(join(home, 'daemons'), { recursive: true });
  await writeFile(join(home, 'daemons', 'last-address'), 'http://127.0.0.1:47310\n');
  const elsewhere = await runCli(['instructions', 'regenerate', 'alpha', '--json'], { env: cliEnv(home) });
  assert.notEqual(elsewhere.code, 0, describeResult(elsewhere));
  assert.match(elsewhere.stdout + elsewhere.stderr, /the daemon of this data dir last listened on http:\/\/127\.0\.0\.1:47310, but the settings here put it at http:\/\/127\.0\.0\.1:3000/);
  assert.match(await readFile(join(directory, 'CLAUDE.md'), 'utf8'), /127\.0\.0\.1:4321\/mcp\/alpha/, 'left as it was');
  const same = await runCli(['instructions', 'regenerate', 'alpha'], { env: cliEnv(home, { SUPERVISOR_PORT: '47310' }) });
  assert.equal(same.code, 0, describeResult(same));
  assert.match(await readFile(join(directory, 'CLAUDE.md'), 'utf8'), /127\.0\.0\.1:47310\/mcp\/alpha/);
});
