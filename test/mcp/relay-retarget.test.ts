// The stdio relay follows a restarted daemon: a refused credential (the daemon restarted on the
// same port with a new local token) is presented once more with what daemons/<pid>.json says now; a
// credential refused again, or no new daemon, reaches the client as the daemon's refusal.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Relay } from '../../src/mcp/relay.js';
import type { JsonRpcMessage } from '../../src/mcp/stdio-frames.js';

let server: Server;
let url: string;
let valid = 'second-token';
const seen: string[] = [];

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      seen.push(token);
      const id = (JSON.parse(body) as JsonRpcMessage).id;
      res.setHeader('content-type', 'application/json');
      if (token !== valid) {
        res.statusCode = 401;
        res.end(JSON.stringify({ error: { code: 'unauthorized', message: 'unknown or revoked token: send "Authorization: Bearer <token>"', details: { credential: 'refused' } } }));
      } else res.end(JSON.stringify({ jsonrpc: '2.0', id, result: { token } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const ask = async (relay: Relay, written: JsonRpcMessage[], id: number) => {
  await relay.forward({ jsonrpc: '2.0', id, method: 'tools/list' });
  return written.find((m) => m.id === id)!;
};

test('a refused credential is presented again as daemons/<pid>.json says now, once', async () => {
  const written: JsonRpcMessage[] = [];
  // Started with the credential of the daemon before the restart; daemons/<pid>.json now holds the new one.
  const relay = new Relay({ url, token: 'first-token', project: 'meta', readonly: false }, (line) => written.push(JSON.parse(line) as JsonRpcMessage), async () => ({ url, token: 'second-token' }));
  assert.deepEqual((await ask(relay, written, 1)).result, { token: 'second-token' });
  assert.deepEqual(seen.splice(0), ['first-token', 'second-token']);
  // The next call goes straight to the new credential.
  assert.deepEqual((await ask(relay, written, 2)).result, { token: 'second-token' });
  assert.deepEqual(seen.splice(0), ['second-token']);
  // Refused again with nothing new to try: the refusal, no loop.
  valid = 'third-token';
  const refused = (await ask(relay, written, 3)).error as { code: number; message: string };
  assert.equal(refused.code, -32001);
  assert.match(refused.message, /the supervisor daemon refused the request: unauthorized: unknown or revoked token/);
  assert.deepEqual(seen.splice(0), ['second-token']);
});

test('a SUPERVISOR_TOKEN revoked during the session is named in the refusal, not an HTTP header', async () => {
  const written: JsonRpcMessage[] = [];
  valid = 'some-other-token';
  const env = { SUPERVISOR_TOKEN: 'agent-token' };
  const relay = new Relay({ url, token: 'agent-token', project: 'alpha', readonly: false }, (line) => written.push(JSON.parse(line) as JsonRpcMessage), async () => ({ url, token: 'agent-token' }), env);
  const refused = (await ask(relay, written, 1)).error as { code: number; message: string };
  assert.equal(refused.code, -32001);
  assert.match(refused.message, /^the supervisor daemon refused the request: unauthorized: SUPERVISOR_TOKEN is unknown to the daemon or revoked; set it to a valid token/);
  assert.doesNotMatch(refused.message, /Authorization/);
  seen.splice(0);
});
