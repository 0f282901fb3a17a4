// A CLI command through a daemon that stopped answering (SIGSTOP, hung, its host gone without a
// reset) ends with `unavailable` instead of waiting for ever, saying the call may have been
// carried out; a call the daemon is merely slow over (it still answers /healthz) is waited for.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpInvoker } from '../../src/cli/http-invoker.js';
import { isError } from '../helpers/errors.js';

let server: Server;
let baseUrl: string;
/** Whether the fake daemon answers /healthz; calls are answered only when `finish` is called. */
let healthy = true;
const waiting: ServerResponse[] = [];
const finish = () => {
  for (const res of waiting.splice(0)) res.setHeader('content-type', 'application/json').end('{"done":true}');
};

before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/healthz') {
      if (healthy) res.setHeader('content-type', 'application/json').end('{"status":"ok"}');
      return;
    }
    req.resume().on('end', () => waiting.push(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

const invoker = () => new HttpInvoker({ baseUrl, token: 't', liveness: { everyMs: 50, answerMs: 100 } });

test('a slow call to a daemon that still answers /healthz is waited for, however many rounds pass', async () => {
  healthy = true;
  const call = invoker().invoke('run_piv', {});
  await new Promise((resolve) => setTimeout(resolve, 500));
  finish();
  assert.deepEqual(await call, { done: true });
});

test('a call to a daemon that stops answering /healthz too ends as unavailable, saying it may have been carried out', { timeout: 10_000 }, async () => {
  healthy = false;
  const started = Date.now();
  await assert.rejects(
    invoker().invoke('set_secret', { path: 'project/a/k', value: 'v' }),
    isError('unavailable', new RegExp(`^the daemon at ${baseUrl} stopped answering \\(it has not answered /healthz within 0\\.1 s while a call was waiting\\); set_secret may or may not have been carried out: check before running it again`)),
  );
  assert.ok(Date.now() - started < 5_000);
  // A read left unanswered changed nothing, and is said so.
  await assert.rejects(
    new HttpInvoker({ baseUrl, token: 't', liveness: { everyMs: 50, answerMs: 100 }, readsOnly: async (name) => name === 'get_secret' }).invoke('get_secret', { path: 'project/a/k' }),
    isError('unavailable', /stopped answering .*; get_secret only reads, so nothing was changed; try again once it answers/),
  );
  waiting.splice(0);
});

test('a daemon that drops the connection before answering (stopping) is said to, with the call maybe carried out; one not listening, as not running', async () => {
  const dropping = createServer((req) => req.socket.destroy());
  await new Promise<void>((resolve) => dropping.listen(0, '127.0.0.1', resolve));
  const dropUrl = `http://127.0.0.1:${(dropping.address() as AddressInfo).port}`;
  try {
    await assert.rejects(
      new HttpInvoker({ baseUrl: dropUrl, token: 't' }).invoke('import_secrets', {}),
      isError('unavailable', /^the daemon at http:\/\/127\.0\.0\.1:\d+ closed the connection before answering \(socket hang up\): it may be stopping or restarting; import_secrets may or may not have been carried out/),
    );
  } finally {
    await new Promise<void>((resolve) => dropping.close(() => resolve()));
  }
  // Nothing listens there now: refused, so nothing was sent.
  await assert.rejects(new HttpInvoker({ baseUrl: dropUrl, token: 't' }).invoke('import_secrets', {}), isError('unavailable', /is not answering \(connect ECONNREFUSED .*\); is it running\?$/));
});
