/**
 * Bad input through both network interfaces: each gets a clear error that names
 * the field (REST: 4xx with error.code; MCP: a tool error the model can read),
 * nothing is stored, and the daemon keeps serving.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { skipReason, testBackends, type Backend } from '../helpers/db.js';
import { connectMcp, expectError, expectOk, expectToolOk, mcpPost, Rest, type Json, type McpSession, type RestOptions } from './client.js';

const backend: Backend = testBackends().includes('postgres') && !(await skipReason('postgres')) ? 'postgres' : 'pglite';

const TEN_MB = 'x'.repeat(10 * 1024 * 1024);

interface BadCall {
  name: string;
  /** The same mistake as a tool call … */
  tool: string;
  args: Json;
  /** … and as a REST request. */
  rest: { method: 'GET' | 'PUT' | 'POST' | 'DELETE'; path: string } & RestOptions;
  /** What the message must name (the field, usually). */
  names: RegExp;
  /** Acceptable error codes; default invalid_input. */
  codes?: string[];
}

const cases: BadCall[] = [
  {
    // Dropped in silence, the secret would be stored without the expiry its writer meant.
    name: 'a misspelt field',
    tool: 'set_secret',
    args: { path: 'project/x/typo', value: 'x', expires_at: '2030-01-01T00:00:00Z' },
    rest: { method: 'PUT', path: 'secret', json: { path: 'project/x/typo', value: 'x', expires_at: '2030-01-01T00:00:00Z' } },
    names: /expires_at: not a field of set_secret; did you mean "expiresAt"\?.*its fields: path, value, /,
  },
  {
    // The CLI takes a date alone; the API wants the time, and says how to write it.
    name: 'a date without a time',
    tool: 'set_secret',
    args: { path: 'project/x/dated', value: 'x', expiresAt: '2030-01-01' },
    rest: { method: 'PUT', path: 'secret', json: { path: 'project/x/dated', value: 'x', expiresAt: '2030-01-01' } },
    names: /expiresAt: expected a time with its offset, not a date alone: 2030-01-01T00:00:00Z for midnight UTC/,
  },
  {
    name: 'missing path',
    tool: 'get_secret',
    args: {},
    rest: { method: 'GET', path: 'secret' },
    names: /\bpath\b/,
  },
  {
    name: 'a number where a path belongs',
    tool: 'set_secret',
    args: { path: 42, value: 'x' },
    rest: { method: 'PUT', path: 'secret', json: { path: 42, value: 'x' } },
    names: /\bpath\b.*(number|string)/,
  },
  {
    name: 'a ../ path',
    tool: 'set_secret',
    args: { path: 'project/x/../y', value: 'x' },
    rest: { method: 'PUT', path: 'secret', json: { path: 'project/x/../y', value: 'x' } },
    names: /\bpath\b.*"\.\."/,
  },
  {
    name: 'a ../ path in a read',
    tool: 'get_secret',
    args: { path: 'project/x/../../meta/cloudflare/api_token' },
    rest: { method: 'GET', path: 'secret', query: { path: 'project/x/../../meta/cloudflare/api_token' } },
    names: /\bpath\b/,
  },
  {
    name: 'an a//b path',
    tool: 'set_secret',
    args: { path: 'project/x//y', value: 'x' },
    rest: { method: 'PUT', path: 'secret', json: { path: 'project/x//y', value: 'x' } },
    names: /\bpath\b.*empty segments/,
  },
  {
    name: 'a NUL byte in the path (write)',
    tool: 'set_secret',
    args: { path: 'project/x/a\0b', value: 'x' },
    rest: { method: 'PUT', path: 'secret', json: { path: 'project/x/a\0b', value: 'x' } },
    names: /\bpath\b.*NUL/,
  },
  {
    name: 'a NUL byte in the path (read)',
    tool: 'get_secret',
    args: { path: 'project/x/a\0b' },
    rest: { method: 'GET', path: 'secret', query: { path: 'project/x/a\0b' } },
    names: /\bpath\b.*NUL/,
  },
  {
    name: 'a NUL byte in the value',
    tool: 'set_secret',
    args: { path: 'project/x/nul', value: 'a\0b' },
    rest: { method: 'PUT', path: 'secret', json: { path: 'project/x/nul', value: 'a\0b' } },
    names: /\bvalue\b.*NUL/,
  },
  {
    name: 'an empty value',
    tool: 'set_secret',
    args: { path: 'project/x/empty', value: '' },
    rest: { method: 'PUT', path: 'secret', json: { path: 'project/x/empty', value: '' } },
    names: /\bvalue\b.*empty/,
  },
  {
    name: 'a 10 MB value',
    tool: 'set_secret',
    args: { path: 'project/x/huge', value: TEN_MB },
    rest: { method: 'PUT', path: 'secret', json: { path: 'project/x/huge', value: TEN_MB } },
    names: /\bvalue\b.*bytes/,
    codes: ['invalid_input', 'too_large'],
  },
  {
    name: 'a .env import with a NUL byte in a value',
    tool: 'import_secrets',
    args: { prefix: 'project/x/', content: 'GOOD=fine\nBAD="a\0b"\n' },
    rest: { method: 'POST', path: 'secrets/import', json: { prefix: 'project/x/', content: 'GOOD=fine\nBAD="a\0b"\n' } },
    names: /\bvalue\b|\bcontent\b|line 2/,
  },
  // Pagination and filters: a cursor no page handed out, a NUL in a free-text filter.
  {
    name: 'a cursor that no page returned (secret_history)',
    tool: 'get_secret_history',
    args: { path: 'project/x/exists', cursor: 'abc' },
    rest: { method: 'GET', path: 'secret/history', query: { path: 'project/x/exists', cursor: 'abc' } },
    names: /\bcursor\b/,
  },
  {
    name: 'a cursor that no page returned (list_secrets)',
    tool: 'list_secrets',
    args: { cursor: 'AA' },
    rest: { method: 'GET', path: 'secrets', query: { cursor: 'AA' } },
    names: /\bcursor\b/,
  },
  {
    name: 'a cursor that no page returned (secrets_due)',
    tool: 'list_due_secrets',
    args: { cursor: 'AA' },
    rest: { method: 'GET', path: 'secrets/due', query: { cursor: 'AA' } },
    names: /\bcursor\b/,
  },
  {
    name: 'a cursor that no page returned (list_audit)',
    tool: 'list_audit',
    args: { cursor: 'abc' },
    rest: { method: 'GET', path: 'audit', query: { cursor: 'abc' } },
    names: /\bcursor\b/,
  },
  {
    // Base64url of a bare key, as cursors were before they carried a check tag: it was read as a key.
    name: 'a cursor that no page returned (list_projects, a bare key)',
    tool: 'list_projects',
    args: { cursor: Buffer.from('a').toString('base64url') },
    rest: { method: 'GET', path: 'projects', query: { cursor: Buffer.from('a').toString('base64url') } },
    names: /\bcursor: not one this server issued\b/,
  },
  {
    // Read as "no cursor" before: the first page again, for ever, to a caller looping on nextCursor.
    name: 'an empty cursor (list_projects)',
    tool: 'list_projects',
    args: { cursor: '' },
    rest: { method: 'GET', path: 'projects', query: { cursor: '' } },
    names: /\bcursor: not one this server issued\b/,
  },
  {
    name: 'a NUL byte in an audit filter',
    tool: 'list_audit',
    args: { target: 'project/x/\0' },
    rest: { method: 'GET', path: 'audit', query: { target: 'project/x/\0' } },
    names: /\btarget\b/,
  },
];

describe(`bad input over REST and MCP [${backend}]`, () => {
  let daemon: TestDaemon;
  let rest: Rest;
  let mcp: McpSession;
  let pathsBefore: string[];

  const allPaths = async (): Promise<string[]> => {
    const page = expectOk(await rest.get('secrets', { includeDeleted: true, limit: 200 }));
    return (page.items as Array<{ path: string; version: number }>).map((i) => `${i.path}@${i.version}`);
  };

  before(async () => {
    daemon = await startTestDaemon(backend);
    rest = new Rest(daemon.url, daemon.adminToken);
    expectOk(await rest.put('secret', { path: 'project/x/exists', value: 'before' }));
    mcp = await connectMcp(daemon.url, 'meta', daemon.adminToken);
    pathsBefore = await allPaths();
  });
  after(async () => {
    await mcp?.close();
    await daemon?.close();
  });

  for (const c of cases) {
    test(`REST: ${c.name} → 4xx ${c.codes?.join('/') ?? 'invalid_input'} naming the field`, async () => {
      const answer = await rest.request(c.rest.method, c.rest.path, c.rest);
      assert.ok(answer.status >= 400 && answer.status < 500, `expected a 4xx, got ${answer.status}: ${answer.text.slice(0, 300)}`);
      const code = String((answer.body.error as Json | undefined)?.code);
      assert.ok((c.codes ?? ['invalid_input']).includes(code), `code ${code}: ${answer.text.slice(0, 300)}`);
      const error = expectError(answer, answer.status, code);
      assert.match(error.message, c.names);
    });

    test(`MCP: ${c.name} → a tool error naming the field`, async () => {
      const answer = await mcp.call(c.tool, c.args);
      assert.equal(answer.isError, true, `expected a tool error, got: ${answer.text.slice(0, 300)}`);
      const codes = c.codes ?? ['invalid_input'];
      assert.ok(codes.some((code) => answer.text.startsWith(`${code}:`)), `expected ${codes.join(' or ')}: ${answer.text.slice(0, 300)}`);
      assert.match(answer.text, c.names);
    });
  }

  test('MCP: a refusal with details carries them after its message, as the REST error says them', async () => {
    const answer = await mcp.call('set_secret', { path: 'project/x/exists', value: 'v', ifVersion: 7 });
    assert.equal(answer.isError, true);
    const [message, json] = answer.text.split('\n');
    assert.match(message!, /^conflict: project\/x\/exists is at version 1, not 7/);
    const refused = await rest.request('PUT', 'secret', { json: { path: 'project/x/exists', value: 'v', ifVersion: 7 } });
    assert.equal(refused.status, 409);
    assert.deepEqual(JSON.parse(json!), refused.body);
    // No details, no second block.
    const plain = await mcp.call('get_secret', { path: 'project/x/none-here' });
    assert.equal(plain.text.split('\n').length, 1, plain.text);
  });

  test('REST: a thousand long unknown fields → a short error naming the first few', async () => {
    const json: Json = { path: 'project/x/flood', value: 'v' };
    for (let i = 0; i < 1000; i++) json[`${'x'.repeat(1000)}${i}`] = i;
    const unknown = await rest.request('PUT', 'secret', { json });
    const error = expectError(unknown, 400, 'invalid_input');
    assert.ok(unknown.text.length < 4000, `the error is ${unknown.text.length} bytes`);
    assert.match(error.message, /^invalid input for set_secret: x{64}…: not a field of set_secret; .*; and 995 more unknown fields \(its fields: path, value, /);
  });

  test('REST: a query string on a PUT or POST → 400 naming the fields sent there, never their values, and nothing is stored', async () => {
    const before = await rest.get('secret', { path: 'project/x/from-query' });
    for (const [method, path] of [['PUT', 'secret'], ['POST', 'call/set_secret']] as const) {
      const answer = await rest.request(method, `${path}?path=project/x/from-query&value=S3CRET-QS`, { json: { path: 'project/x/from-query', value: 'body-value' } });
      const error = expectError(answer, 400, 'invalid_input');
      assert.match(error.message, new RegExp(`^${method} /api/v1/${path.replace('call/', 'call/')} takes its input as a JSON body, not the query string \\(path, value given there\\); send every field in the body$`));
      assert.ok(!answer.text.includes('S3CRET-QS'), 'the value is not echoed');
    }
    assert.equal((await rest.get('secret', { path: 'project/x/from-query' })).status, before.status, 'nothing stored');
  });

  test('REST: a query parameter given twice → 400 saying so, not that a list is the wrong type; query text is told as query text', async () => {
    const twice = expectError(await rest.request('GET', 'ports/check?port=3300&port=3301'), 400, 'invalid_input');
    assert.equal(twice.message, 'port: given 2 times; give it once');
    const text = expectError(await rest.request('GET', 'ports/check?port=abc'), 400, 'invalid_input');
    assert.match(text.message, /port: a port is a whole number from 1 to 65535 \(in JSON a number, not text; in a query string, decimal digits\)$/);
  });

  test('REST: a body on a GET or DELETE → 400 saying where the input goes, and nothing is done', async () => {
    for (const [method, path, json] of [
      ['GET', 'secrets', { prefix: 'project/x/' }],
      ['DELETE', 'secret', { path: 'project/x/exists' }],
    ] as const) {
      // fetch refuses a GET body; curl -X GET -d sends one, and so does node:http.
      const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const body = JSON.stringify(json);
        const req = httpRequest(`${daemon.url}/api/v1/${path}`, { method, headers: { authorization: `Bearer ${daemon.adminToken}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
        req.end(body);
      });
      assert.equal(answer.status, 400, answer.text);
      const error = (JSON.parse(answer.text) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'invalid_input');
      assert.match(error.message, new RegExp(`^${method} /api/v1/${path} takes its input in the query string, not a body; or POST the JSON to /api/v1/call/`));
    }
  });

  test('REST: an unknown route → 404 not_found naming the route and where the list is', async () => {
    const error = expectError(await rest.get('no-such-route'), 404, 'not_found');
    assert.match(error.message, /\/api\/v1\/no-such-route/);
    assert.match(error.message, /openapi\.json/);
    // A path that exists, with a method it does not take: 405 naming the ones it does, in Allow too.
    const patch = await rest.request('PATCH', 'secret', { json: { path: 'project/x/y', value: 'x' } });
    const wrong = expectError(patch, 405, 'method_not_allowed');
    assert.equal(wrong.message, '/api/v1/secret takes DELETE, GET, PUT, not PATCH; see /api/v1/openapi.json');
    const raw = (method: string, path: string) => fetch(new URL(`/api/v1/${path}`, rest.url), { method, headers: { authorization: `Bearer ${rest.token}` } });
    assert.equal((await raw('PATCH', 'secret')).headers.get('allow'), 'DELETE, GET, PUT');
    assert.equal((await raw('HEAD', '../../healthz')).status, 200, 'HEAD of a path with no effects is answered');
  });

  test('REST: HEAD of an operation is 405, and carries out nothing (a GET may audit a read or reserve a port)', async () => {
    const reads = async () => (expectOk(await rest.get('secrets', { prefix: 'project/x/exists' })).items as Array<{ readCount: number }>)[0]!.readCount;
    const before = await reads();
    const raw = (path: string) => fetch(new URL(`/api/v1/${path}`, rest.url), { method: 'HEAD', headers: { authorization: `Bearer ${rest.token}` } });
    const head = await raw('secret?path=project/x/exists');
    assert.equal(head.status, 405);
    assert.equal(head.headers.get('allow'), 'DELETE, GET, PUT');
    assert.equal(await reads(), before, 'no read was counted');
    assert.equal((await raw('run-env?project=x&service=headsvc')).status, 405);
    const ports = await rest.get('ports?service=headsvc');
    assert.equal(ports.status, 200, ports.text);
    assert.deepEqual(ports.body.items, []);
    const call = expectError(await rest.get('call/get_secret'), 405, 'method_not_allowed');
    assert.match(call.message, /^\/api\/v1\/call\/get_secret takes POST, not GET/);
  });

  test('REST: POST /call/<name> of an operation that does not exist → 404 not_found naming it and where the list is, as an unknown route', async () => {
    const error = expectError(await rest.request('POST', 'call/no_such_operation', { json: {} }), 404, 'not_found');
    assert.match(error.message, /^unknown operation "no_such_operation"; .*openapi\.json/);
  });

  test('REST: streamed progress for an operation that does not exist → its error status, not a 200 stream', async () => {
    const unknown = await rest.request('POST', 'call/no_such_operation', { json: {}, headers: { accept: 'application/x-ndjson' } });
    assert.ok(unknown.status >= 400 && unknown.status < 500, `${unknown.status}: ${unknown.text}`);
    assert.match(String((unknown.body.error as { message?: string } | undefined)?.message), /no_such_operation/);
    const known = await rest.request('POST', 'call/get_identity', { json: {}, headers: { accept: 'application/x-ndjson' } });
    assert.equal(known.status, 200);
    assert.match(known.text, /^\{"result":\{.*"role":"admin"/m);
  });

  test('MCP: an unknown tool → the protocol error for it (-32602), naming it and where the list is', async () => {
    await assert.rejects(mcp.call('no_such_tool', { path: 'project/x/y', value: 'x' }), (err: unknown) => {
      assert.ok(err instanceof Error && 'code' in err && err.code === -32602, String(err));
      assert.match(err.message, /"no_such_tool"/);
      assert.match(err.message, /tools\/list/);
      return true;
    });
  });

  test('REST: a body that is not JSON → 400 invalid_input saying so', async () => {
    const error = expectError(await rest.request('PUT', 'secret', { raw: '{"path": "project/x/y", "value": oops}' }), 400, 'invalid_input');
    assert.match(error.message, /JSON/);
    const plain = expectError(await rest.request('PUT', 'secret', { raw: 'path=project/x/y&value=z', contentType: 'text/plain' }), 400, 'invalid_input');
    assert.equal(plain.message, 'send the body as application/json');
  });

  test('MCP: a body that is not JSON → HTTP 400 with a JSON-RPC parse error (-32700) saying so', async () => {
    for (const body of ['this is not json-rpc', '']) {
      const answer = await mcpPost(daemon.url, 'meta', daemon.adminToken, body);
      assert.equal(answer.status, 400, answer.text);
      assert.equal(answer.body.jsonrpc, '2.0', answer.text);
      assert.equal(answer.body.id, null);
      assert.equal((answer.body.error as { code: number }).code, -32700);
      assert.match((answer.body.error as { message: string }).message, /JSON/);
    }
  });

  test('MCP: other methods get 405 naming the ones taken (no DELETE: sessions are stateless); a body not sent as JSON gets 415 with a JSON-RPC error', async () => {
    const call = (method: string, headers: Record<string, string> = {}, body?: string) =>
      fetch(new URL('/mcp/meta', daemon.url), { method, headers: { authorization: `Bearer ${daemon.adminToken}`, accept: 'application/json, text/event-stream', ...headers }, body });
    for (const method of ['PUT', 'DELETE', 'HEAD']) {
      const answer = await call(method);
      assert.equal(answer.status, 405, method);
      assert.equal(answer.headers.get('allow'), 'GET, POST', method);
      if (method !== 'HEAD') assert.match(((await answer.json()) as { error: { message: string } }).error.message, /^\/mcp\/meta takes GET, POST, not /, method);
    }
    // A GET is checked like a message, then declined by the MCP server: no stream.
    const get = await call('GET');
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    const text = await call('POST', { 'content-type': 'text/plain' }, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
    assert.equal(text.status, 415);
    assert.deepEqual(await text.json(), { jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Unsupported Media Type: send the body as application/json' } });
  });

  test('MCP: JSON that is not a JSON-RPC message → HTTP 400 with a JSON-RPC error', async () => {
    const answer = await mcpPost(daemon.url, 'meta', daemon.adminToken, JSON.stringify({ hello: 'world' }));
    assert.equal(answer.status, 400, answer.text);
    assert.equal(answer.body.jsonrpc, '2.0');
    assert.ok(answer.body.error, answer.text);
  });

  test('nothing was stored by any of the bad calls', async () => {
    assert.deepEqual(await allPaths(), pathsBefore);
    const exists = expectOk(await rest.get('secret', { path: 'project/x/exists' }));
    assert.equal(exists.value, 'before');
    assert.equal(exists.version, 1);
  });

  test('the daemon still serves: /healthz, a REST write and read, an MCP read', async () => {
    assert.deepEqual(expectOk(await rest.as(undefined).get('/healthz')), { status: 'ok' });
    expectOk(await rest.put('secret', { path: 'project/x/after', value: 'still-works' }));
    assert.equal(expectOk(await rest.get('secret', { path: 'project/x/after' })).value, 'still-works');
    assert.equal(expectToolOk(await mcp.call('get_secret', { path: 'project/x/after' })).value, 'still-works');
  });
});
