// A client that sends its headers and then never the whole body is cut off, not waited for.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import type { FastifyInstance } from 'fastify';
import { buildHttpServer } from '../../src/http/server.js';
import { openTestServices, type TestServices } from '../helpers/services.js';

let services: TestServices;
let http: FastifyInstance;
let port: number;

before(async () => {
  services = await openTestServices('pglite');
  http = await buildHttpServer(services, { localToken: 'local-token', verifyToken: (t) => services.auth.tokens.verify(t), requestTimeoutMs: 500 });
  await http.listen({ host: '127.0.0.1', port: 0 });
  port = (http.server.address() as net.AddressInfo).port;
});
after(async () => {
  await http?.close();
  await services?.close();
});

test('a request whose body does not all arrive in time is answered 408 and its connection closed', async () => {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const started = Date.now();
  socket.write('PUT /api/v1/secret HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer local-token\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"path":');
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
  await once(socket, 'close');
  assert.match(answer, /^HTTP\/1\.1 408 /);
  assert.deepEqual(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)), { error: { code: 'invalid_input', message: 'the request did not arrive whole within 0.5 s', details: {} } });
  assert.ok(Date.now() - started < 5_000, `closed after ${Date.now() - started} ms`);
});

test('a whole request is answered as before', async () => {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(response.status, 200);
});
