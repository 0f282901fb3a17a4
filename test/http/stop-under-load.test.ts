// A daemon stopping under keep-alive load: every request sent before the stop is answered (200,
// or 503 with Connection: close while it stops), none is cut off by a reset; once it has stopped,
// new connections are refused, which a client may always retry.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { buildHttpServer } from '../../src/http/server.js';
import { openTestServices, type TestServices } from '../helpers/services.js';

let services: TestServices;
let server: FastifyInstance;
let port: number;

before(async () => {
  services = await openTestServices('pglite');
  server = await buildHttpServer(services, { localToken: 'local-token', verifyToken: (t) => services.auth.tokens.verify(t) });
  await server.listen({ host: '127.0.0.1', port: 0 });
  port = (server.server.address() as net.AddressInfo).port;
});
after(() => services?.close());

/** One GET on the shared keep-alive agent: its status, or the error code that ended it. */
function get(agent: http.Agent): Promise<string> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/api/v1/whoami', agent, headers: { authorization: 'Bearer local-token' } }, (response) => {
      response.resume();
      response.once('end', () => resolve(String(response.statusCode)));
    });
    request.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

test('20 keep-alive clients sending back to back while the server stops: no request is reset', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
  const outcomes = new Map<string, number>();
  let stopped = false;
  let answered = 0;
  const worker = async () => {
    // Bounded: until the stop has finished, and never more than 2,000 requests a client.
    for (let i = 0; i < 2_000 && !stopped; i++) {
      const outcome = await get(agent);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      if (i === 0) answered++;
      if (outcome === 'ECONNREFUSED') await delay(5);
    }
  };
  const workers = Array.from({ length: 20 }, worker);
  // Every client has its connection and an answer on it before the stop. A connection the kernel
  // completed but the server had not yet accepted (a loaded machine) is reset when listening
  // stops, as by any server: that is a refusal, which is not what this test is about.
  for (const until = Date.now() + 10_000; answered < 20 && Date.now() < until; ) await delay(10);
  await delay(100);
  const started = Date.now();
  await server.close();
  const took = Date.now() - started;
  stopped = true;
  await Promise.all(workers);
  agent.destroy();
  const seen = Object.fromEntries(outcomes);
  assert.ok((outcomes.get('200') ?? 0) > 20, JSON.stringify(seen));
  assert.ok((outcomes.get('503') ?? 0) > 0, `busy connections are told to close: ${JSON.stringify(seen)}`);
  assert.deepEqual([...outcomes.keys()].filter((k) => !['200', '503', 'ECONNREFUSED'].includes(k)), [], JSON.stringify(seen));
  assert.ok(took < 5_000, `stopped in ${took} ms`);
});

test('a connection that sent nothing, and one whose headers stopped halfway, do not hold the stop', async () => {
  const other = await buildHttpServer(services, { localToken: 'local-token', verifyToken: (t) => services.auth.tokens.verify(t) });
  await other.listen({ host: '127.0.0.1', port: 0 });
  const otherPort = (other.server.address() as net.AddressInfo).port;
  const { connect } = await import('node:net');
  const open = async (bytes: string) => {
    const socket = connect(otherPort, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.on('error', () => undefined);
    if (bytes) socket.write(bytes);
    return socket;
  };
  const silent = await open('');
  const halfway = await open('GET /api/v1/whoami HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthor');
  await delay(50);
  const started = Date.now();
  // Bounded, so a stop that waits for them fails here rather than hanging the suite.
  const closed = await Promise.race([other.close().then(() => true), delay(10_000).then(() => false)]);
  const took = Date.now() - started;
  assert.ok(closed && took < 3_000, `stopped: ${closed}, after ${took} ms`);
  assert.ok(silent.destroyed || silent.readableEnded || (await new Promise((resolve) => silent.once('close', () => resolve(true)))));
  halfway.destroy();
});
