/**
 * `supervisor connect claude`: the exact `claude mcp add …` line for this install,
 * which works from any directory (node and this checkout's entry by absolute
 * path for stdio; the daemon's URL and a new token for HTTP), and `--run`, which
 * hands the token to Claude Code's own command only.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_BIN, cliEnv, describeResult, runCli, useCliDaemon } from './run-cli.js';

/** A `claude` on PATH that records the arguments it was given. */
async function fakeClaude(dir: string): Promise<{ path: string; calls: () => Promise<string[][]> }> {
  const log = join(dir, 'claude-calls.jsonl');
  const bin = join(dir, 'bin');
  await rm(bin, { recursive: true, force: true });
  await mkdir(bin);
  await writeFile(join(bin, 'claude'), `#!${process.execPath}\nrequire('node:fs').appendFileSync(${JSON.stringify(log)}, JSON.stringify(process.argv.slice(2)) + '\\n');\n`);
  await chmod(join(bin, 'claude'), 0o755);
  return {
    path: bin,
    calls: async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[]),
  };
}

describe('supervisor connect claude', () => {
  const t = useCliDaemon();

  test('--stdio prints claude mcp add with node and this checkout\'s entry by absolute path, and the data dir', async () => {
    await t.daemon.services.projects.add('test', { name: 'demo' });
    const r = await runCli(['connect', 'claude', '--stdio', '--project', 'demo'], { env: t.env });
    assert.equal(r.code, 0, describeResult(r));
    // Claude Code may start it with another environment: the data dir is named, or it would open (and make) another.
    assert.equal(r.stdout, `claude mcp add demo -e SUPERVISOR_HOME=${t.daemon.home} -- ${process.execPath} ${CLI_BIN} mcp --project demo\n`);
    const meta = await runCli(['connect', 'claude', '--stdio'], { env: t.env });
    assert.equal(meta.stdout, `claude mcp add meta -e SUPERVISOR_HOME=${t.daemon.home} -- ${process.execPath} ${CLI_BIN} mcp --project meta\n`);
    const typo = await runCli(['connect', 'claude', '--stdio', '--project', 'dmeo'], { env: t.env });
    assert.equal(typo.code, 1, describeResult(typo));
    assert.match(typo.stderr, /not_found: no project dmeo/);
  });

  test('over HTTP: the daemon URL and a new token scoped to the project', async () => {
    await t.daemon.services.projects.add('test', { name: 'consilio' });
    const r = await runCli(['connect', 'claude', '--project', 'consilio'], { env: t.env });
    assert.equal(r.code, 0, describeResult(r));
    const match = /^claude mcp add --transport http consilio (http:\/\/127\.0\.0\.1:\d+)\/mcp\/consilio --header 'Authorization: Bearer (svt_[\w-]+)'\n$/.exec(r.stdout);
    assert.ok(match, r.stdout);
    assert.equal(match[1], t.daemon.url);
    const identity = await fetch(`${t.daemon.url}/api/v1/call/get_identity`, { method: 'POST', headers: { authorization: `Bearer ${match[2]}`, 'content-type': 'application/json' }, body: '{}' });
    assert.deepEqual(((await identity.json()) as { role: string; project: string }).project, 'consilio');
  });

  test('--toolsets chooses the session\'s tools (a header over HTTP, the flag over stdio), and a misspelt one is refused before a token is made', async () => {
    await t.daemon.services.projects.add('test', { name: 'toolsy' });
    const http = await runCli(['connect', 'claude', '--project', 'toolsy', '--toolsets', 'default,tasks,knowledge'], { env: t.env });
    assert.equal(http.code, 0, describeResult(http));
    const match = /--header 'Authorization: Bearer (svt_[\w-]+)' --header 'X-Supervisor-Toolsets: default,tasks,knowledge'\n$/.exec(http.stdout);
    assert.ok(match, http.stdout);
    // What Claude Code will send: the session lists the tasks and knowledge tools.
    const listed = await fetch(`${t.daemon.url}/mcp/toolsy`, {
      method: 'POST',
      headers: { authorization: `Bearer ${match[1]}`, 'x-supervisor-toolsets': 'default,tasks,knowledge', 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    const data = /^data: (.*)$/m.exec(await listed.text())![1]!;
    const names = (JSON.parse(data) as { result: { tools: Array<{ name: string }> } }).result.tools.map((tool) => tool.name);
    assert.ok(names.includes('start_task') && names.includes('search_knowledge') && names.includes('get_secret'), names.join(' '));
    const stdio = await runCli(['connect', 'claude', '--stdio', '--project', 'toolsy', '--toolsets', 'all'], { env: t.env });
    assert.match(stdio.stdout, / mcp --project toolsy --toolsets all\n$/);
    const tokensBefore = (await t.daemon.services.auth.tokens.list({})).length;
    const typo = await runCli(['connect', 'claude', '--project', 'toolsy', '--toolsets', 'default,taks'], { env: t.env });
    assert.equal(typo.code, 2, describeResult(typo));
    assert.match(typo.stderr, /--toolsets default,taks: unknown toolset taks; valid toolsets: /);
    assert.equal((await t.daemon.services.auth.tokens.list({})).length, tokensBefore, 'no token made for a line that is not printed');
  });

  test('--run runs claude with exactly those arguments; without claude on PATH it exits 127', async () => {
    const claude = await fakeClaude(t.dir);
    const r = await runCli(['connect', 'claude', '--stdio', '--project', 'demo', '--run'], { env: { ...t.env, PATH: `${claude.path}:${t.env.PATH}` } });
    assert.equal(r.code, 0, describeResult(r));
    assert.deepEqual(await claude.calls(), [['mcp', 'add', 'demo', '-e', `SUPERVISOR_HOME=${t.daemon.home}`, '--', process.execPath, CLI_BIN, 'mcp', '--project', 'demo']]);
    const http = await runCli(['connect', 'claude', '--run'], { env: { ...t.env, PATH: `${claude.path}:${t.env.PATH}` } });
    assert.equal(http.code, 0, describeResult(http));
    assert.equal(http.stdout, '', 'the token is not printed when claude is run');
    const [, second] = await claude.calls();
    assert.deepEqual(second!.slice(0, 6), ['mcp', 'add', '--transport', 'http', 'meta', `${t.daemon.url}/mcp/meta`]);
    assert.match(second![7]!, /^Authorization: Bearer svt_/);
    const missing = await runCli(['connect', 'claude', '--stdio', '--run'], { env: { ...t.env, PATH: '/nonexistent' } });
    assert.equal(missing.code, 127, describeResult(missing));
    assert.match(missing.stderr, /claude: command not found; install Claude Code/);
    // Over HTTP, no token is made for a claude that is not there to receive it.
    const tokensBefore = (await t.daemon.services.auth.tokens.list({})).length;
    const noClaude = await runCli(['connect', 'claude', '--run'], { env: { ...t.env, PATH: '/nonexistent' } });
    assert.equal(noClaude.code, 127, describeResult(noClaude));
    assert.equal((await t.daemon.services.auth.tokens.list({})).length, tokensBefore);
  });

  test('over HTTP without a running daemon: exit 2, pointing at --stdio', async () => {
    const home = await mkdtemp(join(tmpdir(), 'supervisor-connect-'));
    try {
      const r = await runCli(['connect', 'claude'], { env: cliEnv(home) });
      assert.equal(r.code, 2, describeResult(r));
      assert.match(r.stderr, /the daemon is not running; start it \(`supervisor daemon`\), or use --stdio/);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
