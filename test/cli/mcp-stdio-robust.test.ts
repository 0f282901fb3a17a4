/**
 * `supervisor mcp` keeps serving through what a misbehaving client sends, and
 * finishes what it started when stdin closes — through the daemon (the relay)
 * and on its own (the embedded database).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { adminPrincipal } from '../../src/core/principal.js';
import { dataDirFiles } from '../../src/core/datadir.js';
import { startTestDaemon } from '../helpers/daemon.js';
import { assertCliBuilt, cliEnv, daemonBackend, runCli, startCli, useCliDaemon } from './run-cli.js';
import { StdioClient, type JsonRpcMessage } from './stdio-client.js';

const admin = adminPrincipal('test-setup');
const isError = (code: number) => (m: JsonRpcMessage) => m.id === null && m.error?.code === code;

/** The same misbehaviour, against a server that must shrug it off. */
async function shrugsOff(client: StdioClient): Promise<void> {
  await client.initialize(60_000);
  client.writeRaw('this is not json\n');
  assert.match((await client.waitFor(isError(-32700))).error!.message, /Parse error/);
  // A broken line holding a value: the error names what is wrong, and quotes none of the line.
  client.writeRaw('{"jsonrpc":"2.0","id":93,"method":"tools/call","params":{"name":"set_secret","arguments":{"value":hunter2LEAK}}}\n');
  assert.equal((await client.waitFor(isError(-32700))).error!.message, 'Parse error: an unexpected character');
  client.writeRaw('[{"jsonrpc":"2.0","id":90,"method":"ping"},{"jsonrpc":"2.0","id":91,"method":"ping"}]\n');
  assert.match((await client.waitFor(isError(-32600))).error!.message, /batches are not supported/);
  // 17 MB on one line: over the limit, dropped as it streams in, answered with an error that
  // carries the request's id (the client waits for that id; one with id null it never matched).
  client.writeRaw(`{"jsonrpc":"2.0","id":92,"method":"ping","params":{"pad":"${'x'.repeat(17 * 1024 * 1024)}"}}\n`);
  assert.match((await client.waitFor((m) => m.id === 92, 60_000)).error!.message, /^Invalid Request: the message is larger than 16777216 bytes, the most one may be; it was not read$/);
  // And it still answers.
  assert.deepEqual(await client.request('ping', {}), {});
}

describe('supervisor mcp (stdio) under a misbehaving client, through the daemon', () => {
  const t = useCliDaemon();

  test('garbage, a batch and a 17 MB line each get a JSON-RPC error, and the server goes on', async () => {
    const client = new StdioClient(startCli(['mcp', '--project', 'meta'], { env: t.env, keepStdinOpen: true, timeoutMs: 120_000 }));
    await shrugsOff(client);
    const { result } = await client.closeStdin();
    assert.equal(result.code, 0, result.stderr);
  });

  test('closing stdin right after a request still writes its answer (and the write happened)', async () => {
    const client = new StdioClient(startCli(['mcp', '--project', 'meta'], { env: t.env, keepStdinOpen: true }));
    await client.initialize();
    client.writeRaw(`${JSON.stringify({ jsonrpc: '2.0', id: 'last', method: 'tools/call', params: { name: 'set_secret', arguments: { path: 'project/robust/last', value: 'written' } } })}\n`);
    const { result } = await client.closeStdin();
    assert.equal(result.code, 0, result.stderr);
    const answer = client.messages.find((m) => m.id === 'last');
    assert.ok(answer?.result, `no answer to the last request: ${result.stdout.slice(-300)}`);
    assert.equal((await t.daemon.services.secrets.get(admin, { path: 'project/robust/last' })).value, 'written');
  });

  test('a daemon that goes away mid-session: each call gets a clear JSON-RPC error, not a hang', async () => {
    const other = await startTestDaemon(await daemonBackend());
    let running = true;
    try {
      const client = new StdioClient(startCli(['mcp', '--project', 'meta'], { env: cliEnv(other.home), keepStdinOpen: true }));
      await client.initialize();
      await other.close();
      running = false;
      client.writeRaw('{"jsonrpc":"2.0","id":"after","method":"tools/list"}\n');
      const answer = await client.waitFor((m) => m.id === 'after');
      assert.equal(answer.error?.code, -32000);
      assert.match(answer.error!.message, /is not answering/);
      const { result } = await client.closeStdin();
      assert.equal(result.code, 0, result.stderr);
    } finally {
      if (running) await other.close();
    }
  });
});

describe('supervisor mcp (stdio) across a daemon restart', () => {
  test('the next call after a restart (another port, another local credential) reaches the new daemon', async () => {
    const home = await mkdtemp(join(tmpdir(), 'supervisor-restart-'));
    let daemon = await startTestDaemon(await daemonBackend(), {}, { home });
    try {
      const client = new StdioClient(startCli(['mcp', '--project', 'meta'], { env: cliEnv(home), keepStdinOpen: true }));
      await client.initialize();
      const oldUrl = daemon.url;
      await daemon.close();
      client.writeRaw('{"jsonrpc":"2.0","id":"down","method":"tools/list"}\n');
      assert.equal((await client.waitFor((m) => m.id === 'down')).error?.code, -32000, 'while no daemon runs, a clear error');
      daemon = await startTestDaemon(await daemonBackend(), {}, { home });
      assert.notEqual(daemon.url, oldUrl);
      client.writeRaw('{"jsonrpc":"2.0","id":"up","method":"tools/call","params":{"name":"get_identity","arguments":{}}}\n');
      const answer = await client.waitFor((m) => m.id === 'up');
      assert.equal(answer.error, undefined, JSON.stringify(answer.error));
      assert.match(JSON.stringify(answer.result), /admin/);
      const { result } = await client.closeStdin();
      assert.equal(result.code, 0, result.stderr);
    } finally {
      await daemon.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe('supervisor mcp (stdio) under a misbehaving client, on its own', () => {
  let home: string;
  before(async () => {
    assertCliBuilt();
    home = await mkdtemp(join(tmpdir(), 'supervisor-mcp-robust-'));
  });
  after(() => rm(home, { recursive: true, force: true }));

  test('the same refusals without a daemon; closing stdin answers the last request, releases the lock and exits', async () => {
    const client = new StdioClient(startCli(['mcp', '--project', 'meta'], { env: cliEnv(home), keepStdinOpen: true, timeoutMs: 180_000 }));
    await shrugsOff(client);
    client.writeRaw(`${JSON.stringify({ jsonrpc: '2.0', id: 'last', method: 'tools/call', params: { name: 'set_secret', arguments: { path: 'project/robust/local', value: 'kept' } } })}\n`);
    const { result } = await client.closeStdin();
    assert.equal(result.code, 0, result.stderr);
    assert.ok(client.messages.find((m) => m.id === 'last')?.result, 'the last request was answered');
    assert.equal(existsSync(dataDirFiles(home).lock), false, 'the data dir lock is released');
    const read = await runCli(['secrets', 'get', 'project/robust/local', '--json'], { env: cliEnv(home), timeoutMs: 120_000 });
    assert.equal(JSON.parse(read.stdout).value, 'kept');
  });
});
