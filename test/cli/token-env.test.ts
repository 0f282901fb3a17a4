// SUPERVISOR_TOKEN alone (no SUPERVISOR_URL), as an agent's environment has it for .mcp.json:
// the CLI presents that token to the local daemon and acts with its scope, never as the data
// dir's owner; without a daemon to check the token it refuses rather than widening the scope.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { assertCliBuilt, cliEnv, daemonBackend, describeResult, parseJson, runCli } from './run-cli.js';

let daemon: TestDaemon;
let projectToken: string;
let stopped = false;
before(async () => {
  assertCliBuilt();
  daemon = await startTestDaemon(await daemonBackend());
  await daemon.services.projects.add('test', { name: 'alpha' });
  projectToken = await daemon.projectToken('alpha');
});
after(async () => {
  if (!stopped) await daemon?.close();
});

const whoami = (extra: Record<string, string> = {}) => runCli(['token', 'whoami', '--json'], { env: cliEnv(daemon.home, extra) });

test("with the daemon running, SUPERVISOR_TOKEN alone is presented to it: the token's scope, not the owner's", async () => {
  const asProject = await whoami({ SUPERVISOR_TOKEN: projectToken });
  assert.equal(asProject.code, 0, describeResult(asProject));
  assert.deepEqual([parseJson(asProject).role, parseJson(asProject).project], ['project', 'alpha']);
  const denied = await runCli(['secrets', 'get', 'meta/svc/key'], { env: cliEnv(daemon.home, { SUPERVISOR_TOKEN: projectToken }) });
  assert.equal(denied.code, 1, describeResult(denied));
  assert.match(denied.stderr, /forbidden/);

  const garbage = await whoami({ SUPERVISOR_TOKEN: 'svt_000000000000_nope' });
  assert.equal(garbage.code, 1, describeResult(garbage));
  assert.match(garbage.stderr, /unauthorized/);

  // The owner is named by the account, as the CLI on its own names it, whatever $USER says.
  const user = process.env.USER;
  process.env.USER = 'not-the-account';
  try {
    const owner = await whoami();
    assert.equal(owner.code, 0, describeResult(owner));
    assert.deepEqual([parseJson(owner).role, parseJson(owner).actor], ['admin', `local:${userInfo().username}`], 'no token: the data dir owner, through the daemon');
  } finally {
    if (user === undefined) delete process.env.USER;
    else process.env.USER = user;
  }
});

test('SUPERVISOR_URL without SUPERVISOR_TOKEN is refused naming the missing token, not in HTTP terms', async () => {
  const refused = await runCli(['token', 'whoami'], { env: cliEnv(daemon.home, { SUPERVISOR_URL: 'http://127.0.0.1:1' }) });
  assert.equal(refused.code, 1, describeResult(refused));
  assert.match(refused.stderr, /SUPERVISOR_URL \(http:\/\/127\.0\.0\.1:1\) is set without SUPERVISOR_TOKEN; set it to a token of that daemon/);
});

test('a SUPERVISOR_TOKEN the daemon refuses is named, with what to do, not in HTTP terms', async () => {
  const env = cliEnv(daemon.home, { SUPERVISOR_TOKEN: 'svt_000000000000_nope' });
  const command = await runCli(['token', 'whoami'], { env });
  assert.equal(command.code, 1, describeResult(command));
  assert.match(command.stderr, /^supervisor: unauthorized: SUPERVISOR_TOKEN is unknown to the daemon or revoked; set it to a valid token \(an admin creates one with `supervisor token create <token-name> --project <project>`\), or unset it to act as the owner of the data dir\n$/);

  const mcp = await runCli(['mcp', '--project', 'alpha'], { env });
  assert.equal(mcp.code, 1, describeResult(mcp));
  assert.equal(mcp.stdout, '');
  assert.match(mcp.stderr, /SUPERVISOR_TOKEN is unknown to the daemon or revoked/);
  assert.doesNotMatch(command.stderr + mcp.stderr, /Authorization: Bearer/);
});

test('without a daemon, SUPERVISOR_TOKEN is refused with what to do, before the data dir is opened', async () => {
  const home = daemon.home;
  await daemon.close();
  stopped = true;
  const refused = await runCli(['token', 'whoami'], { env: cliEnv(home, { SUPERVISOR_TOKEN: projectToken }) });
  assert.equal(refused.code, 1, describeResult(refused));
  assert.match(refused.stderr, /SUPERVISOR_TOKEN is set, but no daemon runs for .* to check it; start the daemon .*, set SUPERVISOR_URL .*, or unset SUPERVISOR_TOKEN/);
});
