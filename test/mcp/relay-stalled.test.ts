// A call through the stdio relay to a daemon that stopped answering (SIGSTOP, hung, its host gone
// without a reset) ends with a JSON-RPC error instead of waiting for ever; a call the daemon is
// merely slow over (it still answers /healthz) is waited for, however long.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Relay } from '../../src/mcp/relay.js';
import type { JsonRpcMessage } from '../../src/mcp/stdio-frames.js';

let server: Server;
let url: string;
/** Whether the fake daemon answers /healthz; MCP calls are answered only when `finish` is called. */
let healthy = true;
const waiting: Array<{ id: unknown; res: ServerResponse }> = [];
const hanging: ServerResponse[] = [];
const finish = () => {
  for (const { id, res } of waiting.splice(0)) res.setHeader('content-type', 'application/json').end(JSON.stringify({ jsonrpc: '2.0', id, result: { done: true } }));
};

before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/healthz') {
      if (healthy) res.setHeader('content-type', 'application/json').end('{"status":"ok"}');
      return;
    }
    // The start's check (a GET): answered only by a daemon that answers at all, never in this file.
    if (req.method === 'GET') return void hanging.push(res);
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => waiting.push({ id: (JSON.parse(body) as JsonRpcMessage).id, res }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

const relayTo = (written: JsonRpcMessage[], liveness = { everyMs: 50, answerMs: 100, checkMs: 200 }) =>
  new Relay({ url, token: 't', project: 'meta', readonly: false }, (line) => written.push(JSON.parse(line) as JsonRpcMessage), async () => undefined, {}, liveness);

test('a slow call to a daemon that still answers /healthz is waited for, and its answer relayed', async () => {
  healthy = true;
  const written: JsonRpcMessage[] = [];
  const call = relayTo(written).forward({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'wait' } });
  // Many /healthz rounds pass while the call waits.
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.deepEqual(written, []);
  finish();
  await call;
  assert.deepEqual(written, [{ jsonrpc: '2.0', id: 1, result: { done: true } }]);
});

test('a call to a daemon that stops answering /healthz as well ends with an error saying so', { timeout: 10_000 }, async () => {
  healthy = false;
  const written: JsonRpcMessage[] = [];
  const started = Date.now();
  await relayTo(written).forward({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'wait' } });
  assert.ok(Date.now() - started < 5_000);
  assert.equal(written.length, 1);
  const error = written[0]!.error as { code: number; message: string };
  assert.equal(written[0]!.id, 2);
  assert.equal(error.code, -32000);
  assert.match(error.message, /^the supervisor daemon at http:\/\/127\.0\.0\.1:\d+ is not answering \(it has not answered \/healthz within 0\.1 s while a call was waiting\); is it running\?/);
  waiting.splice(0);
});

test('a daemon silent at the start: the check gives up after its own short limit, and the first call asks /healthz at once', { timeout: 10_000 }, async () => {
  healthy = false;
  const written: JsonRpcMessage[] = [];
  // /healthz is asked every 5 s during a call; a daemon already found silent is asked at once.
  const relay = relayTo(written, { everyMs: 5_000, answerMs: 100, checkMs: 200 });
  let started = Date.now();
  assert.equal(await relay.check(), undefined, 'silence is no refusal: the session starts');
  assert.ok(Date.now() - started < 2_000, `the check waited ${Date.now() - started} ms`);
  started = Date.now();
  await relay.forward({ jsonrpc: '2.0', id: 3, method: 'initialize', params: {} });
  assert.ok(Date.now() - started < 2_000, `the first call waited ${Date.now() - started} ms`);
  assert.match((written[0]!.error as { message: string }).message, /is not answering \(it has not answered \/healthz within 0\.1 s/);
  waiting.splice(0);
  for (const res of hanging.splice(0)) res.destroy();
});
