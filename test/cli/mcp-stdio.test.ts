/**
 * `supervisor mcp --project <p>`, the server Claude Code starts over stdio:
 * newline-delimited JSON-RPC on stdin/stdout, nothing else on stdout, logs on
 * stderr, and a prompt exit when the client closes stdin — through a running
 * daemon, or on its own with the embedded database.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminPrincipal } from '../../src/core/principal.js';
import { catalog } from '../../src/app.js';
import { defaultToolNames } from '../helpers/tools.js';
import { dataDirFiles } from '../../src/core/datadir.js';
import { assertCliBuilt, cliEnv, describeResult, runCli, startCli, useCliDaemon, type CliResult } from './run-cli.js';
import { assertOnlyProtocolOnStdout, StdioClient } from './stdio-client.js';

/** Logs, when there are any, are pino JSON lines on stderr. */
function assertStderrIsLogsOnly(result: CliResult): void {
  for (const line of result.stderr.split('\n').filter((l) => l.trim() !== '')) {
    assert.doesNotThrow(() => JSON.parse(line), `stderr line is not a log record: ${line}`);
  }
}

const adminOnly = catalog.all().filter((op) => op.access === 'admin').map((op) => op.name).sort();

describe('supervisor mcp (stdio) through the daemon', () => {
  const t = useCliDaemon();

  before(async () => {
    const admin = adminPrincipal('test-setup');
    await t.daemon.services.projects.add('test', { name: 'consilio' });
    await t.daemon.services.secrets.set(admin, { path: 'meta/cloudflare/api_token', value: 'cf-token-value' });
    await t.daemon.services.secrets.set(admin, { path: 'project/consilio/database_url', value: 'postgres://consilio' });
  });

  test('--project meta: handshake, all tools, get_secret; only JSON-RPC on stdout; exits when stdin closes', async () => {
    const client = new StdioClient(startCli(['mcp', '--project', 'meta'], { env: t.env, keepStdinOpen: true }));
    const init = await client.initialize();
    assert.equal(init.protocolVersion, '2025-06-18');
    assert.deepEqual(init.serverInfo && (init.serverInfo as { name: string }).name, 'supervisor-meta');
    assert.ok((init.capabilities as Record<string, unknown>).tools, 'advertises tools');
    assert.match(String(init.instructions), /call get_secret with the path/);

    assert.deepEqual(await client.toolNames(), defaultToolNames('meta'));

    const read = await client.callTool('get_secret', { path: 'meta/cloudflare/api_token' });
    assert.equal(read.isError, undefined);
    assert.equal(read.structuredContent?.value, 'cf-token-value');
    assert.deepEqual(JSON.parse(read.content[0]!.text), read.structuredContent, 'text content is the same answer');

    const missing = await client.callTool('get_secret', { path: 'meta/cloudflare/nope' });
    assert.equal(missing.isError, true, 'domain errors are tool errors the model reads');
    assert.match(missing.content[0]!.text, /^not_found: no secret at meta\/cloudflare\/nope/);

    const { ms, result } = await client.closeStdin();
    assert.equal(result.code, 0, result.stderr);
    assert.ok(ms < 15_000, `exited ${Math.round(ms)} ms after stdin closed`);
    assertOnlyProtocolOnStdout(client, result);
    assertStderrIsLogsOnly(result);
  });

  test('--project consilio: no admin-only tools, its own secrets readable, meta/ refused', async () => {
    const client = new StdioClient(startCli(['mcp', '--project', 'consilio'], { env: t.env, keepStdinOpen: true }));
    const init = await client.initialize();
    assert.equal((init.serverInfo as { name: string }).name, 'supervisor-consilio');

    const names = await client.toolNames();
    assert.deepEqual(names, defaultToolNames('consilio'));
    for (const admin of adminOnly) assert.ok(!names.includes(admin), `${admin} is listed for a project`);

    const own = await client.callTool('get_secret', { path: 'project/consilio/database_url' });
    assert.equal(own.structuredContent?.value, 'postgres://consilio');

    const meta = await client.callTool('get_secret', { path: 'meta/cloudflare/api_token' });
    assert.equal(meta.isError, true);
    assert.match(meta.content[0]!.text, /^forbidden: project consilio may not read meta\/cloudflare\/api_token/);
    assert.ok(!meta.content[0]!.text.includes('cf-token-value'));

    const adminTool = await client.callTool('list_tokens', {});
    assert.equal(adminTool.isError, true, 'an unlisted admin tool cannot be called either');
    assert.match(adminTool.content[0]!.text, /^forbidden: list_tokens needs an admin token/);

    const { ms, result } = await client.closeStdin();
    assert.equal(result.code, 0, result.stderr);
    assert.ok(ms < 15_000, `exited ${Math.round(ms)} ms after stdin closed`);
    assertOnlyProtocolOnStdout(client, result);
  });

  test('--toolsets and --readonly choose the tools, as the HTTP headers do', async () => {
    const client = new StdioClient(startCli(['mcp', '--project', 'meta', '--toolsets', 'ports', '--readonly'], { env: t.env, keepStdinOpen: true }));
    await client.initialize();
    const expected = catalog.toolsets.find((t) => t.id === 'ports')!.operations.filter((op) => op.annotations.readOnlyHint).map((op) => op.name).sort();
    assert.deepEqual(await client.toolNames(), expected);
    const { result } = await client.closeStdin();
    assert.equal(result.code, 0, result.stderr);
  });

  test('a project that does not exist is refused at start: stderr names it, exit 1, nothing on stdout, as without a daemon', async () => {
    // stdin stays open, as Claude Code keeps it: the refusal may not wait for the client to leave.
    const result = await runCli(['mcp', '--project', 'consilo'], { env: t.env, keepStdinOpen: true, timeoutMs: 20_000 });
    assert.equal(result.code, 1, describeResult(result));
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, 'supervisor: not_found: no project consilo; `supervisor project list` shows the projects, `supervisor project add` creates one\n');
  });

  test('an unknown toolset is a usage error at start naming the valid ones, as without a daemon', async () => {
    const result = await runCli(['mcp', '--project', 'meta', '--toolsets', 'secrets,bogus'], { env: t.env, keepStdinOpen: true, timeoutMs: 20_000 });
    assert.equal(result.code, 2, describeResult(result));
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^supervisor: mcp: --toolsets: unknown toolset bogus; valid toolsets: .*\nusage: supervisor mcp --project <name>/);
  });

  test('a token the daemon refuses for the project is refused at start, naming why', async () => {
    const { token } = await t.daemon.services.auth.tokens.create({ name: 'consilio-relay', project: 'consilio' });
    const result = await runCli(['mcp', '--project', 'meta'], { env: { ...t.env, SUPERVISOR_URL: t.daemon.url, SUPERVISOR_TOKEN: token }, keepStdinOpen: true, timeoutMs: 20_000 });
    assert.equal(result.code, 1, describeResult(result));
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^supervisor: forbidden: /);
  });

  test('a bad --project is a usage error before anything is served', async () => {
    const proc = startCli(['mcp', '--project', 'Not_A_Project'], { env: t.env });
    const result = await proc.result;
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /--project: a project name is 1-40 characters/);
  });
});

describe('supervisor mcp (stdio) without a daemon', () => {
  let home: string;
  before(async () => {
    assertCliBuilt();
    home = await mkdtemp(join(tmpdir(), 'supervisor-mcp-local-'));
  });
  after(() => rm(home, { recursive: true, force: true }));

  test('opens the embedded database itself, serves tools, and exits promptly releasing the lock', async () => {
    const client = new StdioClient(startCli(['mcp', '--project', 'meta'], { env: cliEnv(home), keepStdinOpen: true, timeoutMs: 120_000 }));
    // The first open of a fresh data dir creates the database: seconds, not milliseconds.
    await client.initialize(60_000);
    assert.equal(existsSync(dataDirFiles(home).lock), true, 'holds the data-dir lock while serving');

    const written = await client.callTool('set_secret', { path: 'meta/local/key', value: 'local-value' });
    assert.equal(written.structuredContent?.created, true, JSON.stringify(written));
    const read = await client.callTool('get_secret', { path: 'meta/local/key' });
    assert.equal(read.structuredContent?.value, 'local-value');

    const { ms, result } = await client.closeStdin();
    assert.equal(result.code, 0, result.stderr);
    assert.ok(ms < 15_000, `exited ${Math.round(ms)} ms after stdin closed`);
    assertOnlyProtocolOnStdout(client, result);
    assertStderrIsLogsOnly(result);
    assert.equal(existsSync(dataDirFiles(home).lock), false, 'the lock is released, so the next CLI call can open the data dir');
  });

  test('an unknown toolset is a usage error at start, naming the valid ones', async () => {
    const result = await runCli(['mcp', '--project', 'meta', '--toolsets', 'secrets,bogus'], { env: cliEnv(home), timeoutMs: 120_000 });
    assert.equal(result.code, 2, describeResult(result));
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^supervisor: mcp: --toolsets: unknown toolset bogus; valid toolsets: /);
  });

  test('a project that does not exist is refused before anything is served, and the lock is released', async () => {
    const result = await runCli(['mcp', '--project', 'consilo'], { env: cliEnv(home), timeoutMs: 120_000 });
    assert.equal(result.code, 1, describeResult(result));
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /not_found: no project consilo/);
    assert.equal(existsSync(dataDirFiles(home).lock), false);
  });
});
