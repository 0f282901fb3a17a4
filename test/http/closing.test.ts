// A request that reaches a stopping daemon (pipelined behind one still being answered) is
// refused 503 in the error shape every other answer has, and its connection closed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { buildHttpServer } from '../../src/http/server.js';
import { openTestServices, type TestServices } from '../helpers/services.js';

let services: TestServices;
let http: FastifyInstance;
let port: number;

before(async () => {
  services = await openTestServices('pglite');
  http = await buildHttpServer(services, { localToken: 'local-token', verifyToken: (t) => services.auth.tokens.verify(t) });
  await http.listen({ host: '127.0.0.1', port: 0 });
  port = (http.server.address() as net.AddressInfo).port;
});
after(() => services?.close());

test('a request arriving while the daemon stops is answered 503 unavailable in the error shape, and the one under way is finished', async () => {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
  const body = JSON.stringify({ path: 'project/closing/key', value: 'v1' });
  // The first request's headers arrive before the stop; its body, and a second request behind it, after.
  socket.write(`PUT /api/v1/secret HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer local-token\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`);
  await delay(100);
  const closed = http.close();
  await delay(100);
  socket.write(`${body}GET /api/v1/whoami HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer local-token\r\n\r\n`);
  await once(socket, 'close');
  await closed;
  const [first, second] = answer.split(/(?=HTTP\/1\.1 )/);
  assert.match(first ?? '', /^HTTP\/1\.1 200 /, answer);
  assert.match(second ?? '', /^HTTP\/1\.1 503 /, answer);
  assert.match(second ?? '', /\r\nconnection: close\r\n/i);
  assert.match(second ?? '', /\r\nretry-after: 5\r\n/i, 'a client that retries is told when');
  const error = JSON.parse(second!.slice(second!.indexOf('\r\n\r\n') + 4)) as { error: { code: string; message: string } };
  assert.equal(error.error.code, 'unavailable');
  assert.match(error.error.message, /the daemon is stopping; try again/);
});
