/**
 * Requests that would cost the server more than they cost the caller (from the
 * adversarial review): each gets a cheap, clear 4xx, nothing unbounded is stored,
 * and the daemon keeps serving everyone else.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { daemonBackend } from '../cli/run-cli.js';
import { capturedLogLines } from '../helpers/services.js';
import { bindCursor, encodeCursor } from '../../src/core/page.js';

describe('hostile requests', () => {
  let daemon: TestDaemon;
  const url = (path: string) => new URL(path, daemon.url);
  const auth = () => ({ authorization: `Bearer ${daemon.adminToken}` });
  const raw = (path: string, init: RequestInit = {}) => fetch(url(path), init);
  const errorOf = async (response: Response) => ((await response.json()) as { error: { code: string; message: string } }).error;
  const auditRows = async (action: string) => {
    const rows = await daemon.services.audit.list({ action, limit: 200 });
    return rows;
  };

  before(async () => {
    daemon = await startTestDaemon(await daemonBackend());
  });
  after(() => daemon?.close());

  test('a 15,000-character path without a token: 401, and the audit row holds a bounded target', async () => {
    const path = `/api/v1/${'a'.repeat(15_000)}`;
    const response = await raw(path);
    assert.equal(response.status, 401);
    const rows = (await auditRows('auth.denied')).filter((r) => r.target?.startsWith('GET /api/v1/aaaa'));
    assert.equal(rows.length, 1);
    assert.ok(rows[0]!.target!.length <= 300, `${rows[0]!.target!.length} characters`);
    assert.match(rows[0]!.target!, /…\(15012 chars, sha256 [0-9a-f]{16}\)$/);
  });

  test('2,000 requests without a token: refusals are counted in a few rows, and past its budget the client gets 429', async () => {
    const before = (await auditRows('auth.denied')).length;
    const statuses: number[] = [];
    for (let round = 0; round < 100; round++) {
      const answers = await Promise.all(Array.from({ length: 20 }, () => raw('/api/v1/secrets')));
      statuses.push(...answers.map((a) => a.status));
    }
    assert.equal(statuses.length, 2000);
    // The budget is a burst of 100 (the test daemon's clock stands still, so nothing refills).
    assert.ok(statuses.filter((s) => s === 401).length >= 90, 'the first ones are plain refusals');
    assert.ok(statuses.filter((s) => s === 429).length > 0, 'then the client is slowed down');
    const limited = await raw('/api/v1/secrets');
    if (limited.status === 429) assert.match(limited.headers.get('retry-after') ?? '', /^\d+$/);
    const rows = (await auditRows('auth.denied')).slice(0, -before || undefined);
    assert.ok(rows.length <= 4, `${rows.length} audit rows for 2,000 refusals`);
    const counted = rows.reduce((n, r) => n + Number(r.detail.count ?? 0), 0);
    assert.ok(counted >= 2000, `rows count ${counted} refusals`);
    // Everyone with a token is still served.
    assert.equal((await raw('/api/v1/whoami', { headers: auth() })).status, 200);
  });

  test('a body nested 100,000 deep: 400 naming the problem over REST, a JSON-RPC error over MCP', async () => {
    const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    const rest = await raw('/api/v1/secret', { method: 'PUT', headers: { ...auth(), 'content-type': 'application/json' }, body: deep });
    assert.equal(rest.status, 400);
    assert.match((await errorOf(rest)).message, /nests more than 32 levels deep/);
    const rpc = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const mcp = await raw('/mcp/meta', { method: 'POST', headers: { ...auth(), 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: rpc });
    assert.equal(mcp.status, 400);
    const answer = (await mcp.json()) as { jsonrpc: string; error: { code: number; message: string } };
    assert.equal(answer.jsonrpc, '2.0');
    assert.match(answer.error.message, /nests more than 32 levels deep/);
  });

  test('a cursor past a column’s range is an invalid cursor, not a server error', async () => {
    await daemon.services.secrets.set({ role: 'admin', actor: 'test' }, { path: 'project/h/x', value: 'v' });
    // Well formed (as a page of this list would issue it), but the version is past int4.
    const cursor = bindCursor('get_secret_history', encodeCursor('99999999999999'), { path: 'project/h/x', limit: 50 });
    const response = await raw(`/api/v1/secret/history?path=project/h/x&cursor=${cursor}`, { headers: auth() });
    assert.equal(response.status, 400);
    assert.match((await errorOf(response)).message, /cursor: not one this server issued/);
  });

  test("what the router or Node refuses before any handler is answered in the API's error format, with the status that says why", async () => {
    const long = await raw(`/api/v1/call/${'a'.repeat(101)}`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: '{}' });
    assert.equal(long.status, 400);
    assert.deepEqual(await errorOf(long), { code: 'invalid_input', message: 'a name in the URL path is longer than 100 characters', details: {} });
    const badEscape = await raw('/api/v1/call/%E0%A4%A', { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: '{}' });
    assert.equal(badEscape.status, 400);
    assert.equal((await errorOf(badEscape)).code, 'invalid_input');
    // Headers past Node's limit (16 KiB): 431, and the connection is closed.
    const socket = net.connect(Number(new URL(daemon.url).port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`);
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    await once(socket, 'close');
    assert.match(answer, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    assert.deepEqual(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)), { error: { code: 'too_large', message: 'the request line and headers are too large: together at most 16 KiB (a long query string counts; send long input as a JSON body)', details: { limitBytes: 16384 } } });
  });

  test('a version past the 32-bit column is invalid input naming the field, not a server error', async () => {
    await daemon.services.secrets.set({ role: 'admin', actor: 'test' }, { path: 'project/h/v', value: 'v' });
    const got = await raw('/api/v1/secret?path=project/h/v&version=2147483648', { headers: auth() });
    assert.equal(got.status, 400);
    assert.match((await errorOf(got)).message, /version: .*2147483647/);
    const rolled = await raw('/api/v1/secret/rollback', { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ path: 'project/h/v', toVersion: 9007199254740991 }) });
    assert.equal(rolled.status, 400);
    assert.match((await errorOf(rolled)).message, /toVersion: /);
  });

  test('text that would not come back as sent is refused: invalid UTF-8, a lone surrogate, a broken %-escape', async () => {
    const body = Buffer.concat([Buffer.from('{"path":"project/h/utf","value":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
    const bytes = await raw('/api/v1/secret', { method: 'PUT', headers: { ...auth(), 'content-type': 'application/json' }, body });
    assert.equal(bytes.status, 400);
    assert.match((await errorOf(bytes)).message, /not valid UTF-8/);
    const surrogate = await raw('/api/v1/secret', { method: 'PUT', headers: { ...auth(), 'content-type': 'application/json' }, body: '{"path":"project/h/utf","value":"a\\ud800b"}' });
    assert.equal(surrogate.status, 400);
    assert.match((await errorOf(surrogate)).message, /value: is not valid Unicode text \(a lone surrogate/);
    const query = await raw('/api/v1/secret?path=project/h/%ff', { headers: auth() });
    assert.equal(query.status, 400);
    assert.match((await errorOf(query)).message, /query string is not valid percent-encoded UTF-8/);
    assert.equal((await raw('/api/v1/secret?path=project/h/utf', { headers: auth() })).status, 404, 'nothing was stored');
  });

  test('a __proto__ key is refused with a message that says so', async () => {
    const response = await raw('/api/v1/secret', { method: 'PUT', headers: { ...auth(), 'content-type': 'application/json' }, body: '{"path":"project/h/p","value":"v","__proto__":{"admin":true}}' });
    assert.equal(response.status, 400);
    assert.match((await errorOf(response)).message, /"__proto__" .* key, which is refused/);
    // In a query string, where the parser drops it without a word.
    const queried = await raw('/api/v1/secret?path=project/h/p&__proto__=x', { headers: auth() });
    assert.equal(queried.status, 400);
    assert.match((await errorOf(queried)).message, /query string has a "__proto__" field, which is refused/);
    assert.equal((await raw('/api/v1/secret?path=project/h/p&__pr%6Fto__=x', { headers: auth() })).status, 400, 'spelt with %-escapes');
    assert.equal((await raw('/api/v1/secret?path=project/h/p&%5F%5Fproto%5F%5F%5B%5D=x', { headers: auth() })).status, 400, 'as a list, every character escaped');
  });

  test('a JSON body sent as text/plain is told to come as application/json', async () => {
    const response = await raw('/api/v1/secret', { method: 'PUT', headers: { ...auth(), 'content-type': 'text/plain' }, body: '{"path":"project/h/t","value":"v"}' });
    assert.equal(response.status, 400);
    assert.deepEqual(await errorOf(response), { code: 'invalid_input', message: 'send the body as application/json', details: {} });
  });

  test('a DELETE with a JSON content type and no body is fine', async () => {
    const response = await raw('/api/v1/secret?path=project/h/none', { method: 'DELETE', headers: { ...auth(), 'content-type': 'application/json' } });
    assert.equal(response.status, 404);
    assert.equal((await errorOf(response)).code, 'not_found');
  });

  test("a caller's mistakes are logged below error level", async () => {
    const from = capturedLogLines.length;
    const marker = `/api/v1/secret?path=project/h/loglevel`;
    assert.equal((await raw(marker, { method: 'DELETE', headers: { ...auth(), 'content-type': 'application/json' } })).status, 404);
    assert.equal((await raw('/api/v1/secret', { method: 'PUT', headers: { ...auth(), 'content-type': 'application/json' }, body: '{"path": ' })).status, 400);
    assert.equal((await raw('/api/v1/secret', { method: 'PUT', headers: { ...auth(), 'content-type': 'text/plain' }, body: 'x' })).status, 400);
    const lines = capturedLogLines.slice(from).map((line) => JSON.parse(line) as { level: number | string; msg?: string });
    const errors = lines.filter((l) => l.level === 'error' || (typeof l.level === 'number' && l.level >= 50));
    assert.deepEqual(errors, [], 'no error-level line for a client error');
  });

  test('rejected inputs are recorded bounded, and a hostile one does not lose other callers’ records', async () => {
    const huge = 'd'.repeat(10 * 1024 * 1024);
    for (let i = 0; i < 5; i++) {
      const r = await raw('/api/v1/secret', { method: 'PUT', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ path: 'project/h/big', value: 'v', description: huge }) });
      assert.equal(r.status, 400);
    }
    const nested = JSON.stringify({ path: 'project/h/n', value: 'v', tags: [[[[[[[[[[['x']]]]]]]]]]], description: 'a\u0000b' });
    assert.equal((await raw('/api/v1/secret', { method: 'PUT', headers: { ...auth(), 'content-type': 'application/json' }, body: nested })).status, 400);
    assert.equal((await raw('/api/v1/secret?path=project/h/x', { headers: auth() })).status, 200);
    await daemon.services.calls.flush();
    const { rows } = await daemon.services.db.query<{ operation: string; bytes: number }>(
      `SELECT operation, length(input::text) AS bytes FROM operation_calls WHERE operation IN ('set_secret', 'get_secret') ORDER BY id`,
    );
    assert.ok(rows.length >= 7, `${rows.length} call records`);
    assert.ok(rows.every((r) => r.bytes < 8 * 1024), `largest record ${Math.max(...rows.map((r) => r.bytes))} bytes`);
    assert.ok(rows.some((r) => r.operation === 'get_secret'), 'the good call next to the bad ones was recorded');
  });

  test('DNS rebinding: a foreign Origin or Host is refused; our own origin works', async () => {
    const evil = await raw('/mcp/meta', { method: 'POST', headers: { ...auth(), origin: 'http://evil.example', 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' });
    assert.equal(evil.status, 403);
    assert.match((await errorOf(evil)).message, /Origin "http:\/\/evil.example" is not this daemon/);
    // fetch will not send another Host; node:http will.
    const host = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.get(url('/api/v1/whoami'), { headers: { ...auth(), host: 'evil.example' } }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
    });
    assert.equal(host.status, 403);
    assert.match(host.body, /Host \\"evil.example\\" is not a name of this daemon/);
    const own = await raw('/api/v1/whoami', { headers: { ...auth(), origin: daemon.url } });
    assert.equal(own.status, 200);
  });
});
