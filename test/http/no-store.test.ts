// Answers of the API and MCP carry secret values and tokens: none may be kept by a browser's
// cache or a proxy, so every one says Cache-Control: no-store, refusals included; and none is
// taken by a browser for anything but JSON (X-Content-Type-Options: nosniff).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonBackend } from '../cli/run-cli.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

let daemon: TestDaemon;
before(async () => {
  daemon = await startTestDaemon(await daemonBackend());
});
after(async () => {
  await daemon?.close();
});

const call = (path: string, init: RequestInit = {}, token = daemon.adminToken) =>
  fetch(`${daemon.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers } });

test('a secret read, an export and a token answer are not to be stored', async () => {
  const put = await call('/api/v1/secret', { method: 'PUT', body: JSON.stringify({ path: 'project/shop/api_key', value: 'kept-out-of-caches' }) });
  assert.equal(put.status, 200, await put.text());
  const read = await call('/api/v1/secret?path=project%2Fshop%2Fapi_key');
  assert.equal(read.status, 200);
  assert.equal(((await read.json()) as { value: string }).value, 'kept-out-of-caches');
  assert.equal(read.headers.get('cache-control'), 'no-store');
  assert.equal(read.headers.get('x-content-type-options'), 'nosniff');
  const exported = await call('/api/v1/call/export_secrets', { method: 'POST', body: JSON.stringify({ prefix: 'project/shop/' }) });
  assert.equal(exported.status, 200, await exported.clone().text());
  assert.equal(exported.headers.get('cache-control'), 'no-store');
  const token = await call('/api/v1/call/create_token', { method: 'POST', body: JSON.stringify({ name: 'ci', project: 'meta' }) });
  assert.equal(token.headers.get('cache-control'), 'no-store', await token.text());
});

test('refusals and MCP answers say so too', async () => {
  const refused = await call('/api/v1/secret?path=project%2Fshop%2Fapi_key', {}, 'svt_not_a_token');
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get('cache-control'), 'no-store');
  assert.equal(refused.headers.get('x-content-type-options'), 'nosniff');
  const missing = await call('/api/v1/secret?path=project%2Fshop%2Fnothing');
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get('cache-control'), 'no-store');
  const mcp = await call('/mcp/meta', { method: 'POST', headers: { accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_secret', arguments: { path: 'project/shop/api_key' } } }) });
  assert.equal(mcp.status, 200, await mcp.clone().text());
  assert.match(await mcp.text(), /kept-out-of-caches/);
  // An event stream keeps the SDK's no-transform (a proxy must not buffer it).
  assert.match(mcp.headers.get('cache-control') ?? '', /^no-store(, no-transform)?$/);
  assert.equal(mcp.headers.get('x-content-type-options'), 'nosniff');
});

test('the health probe may be cached as usual', async () => {
  const health = await fetch(`${daemon.url}/healthz`);
  assert.equal(health.headers.get('cache-control'), null);
});
