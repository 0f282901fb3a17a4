/**
 * Secret values go to exactly one place: the answer of a read (get_secret,
 * export_secrets) to a caller allowed to read them. This test writes distinctive
 * canary values through REST and MCP, provokes every kind of failure with them,
 * then scans everything else the daemon produced (answers, error bodies, logs,
 * audit rows, call records, stored metadata) for the canaries.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { skipReason, testBackends, type Backend } from '../helpers/db.js';
import { capturedLogLines } from '../helpers/services.js';
import { connectMcp, expectError, expectOk, expectToolError, expectToolOk, mcpPost, mcpRefusal, Rest, Transcript, type McpSession, type Received } from './client.js';

const backend: Backend = testBackends().includes('postgres') && !(await skipReason('postgres')) ? 'postgres' : 'pglite';

const canaries: string[] = [];
/** A value no code path would produce by accident. */
function canary(label: string): string {
  const value = `LEAK-CANARY-${label}-${randomBytes(6).toString('hex')}`;
  canaries.push(value);
  return value;
}

const leaked = (text: string): string[] => canaries.filter((c) => text.includes(c));

/** Answers allowed to carry values: successful reads by an authorized caller. */
const READS = new Set(['GET /api/v1/secret', 'GET /api/v1/secrets/export', 'tools/call get_secret', 'tools/call export_secrets']);
const isAuthorizedRead = (r: Received) => !r.error && READS.has(r.what);

/** A row as scannable text; binary columns (ciphertext, IVs) as raw bytes. */
function rowText(row: Record<string, unknown>): string {
  return JSON.stringify(row, (_key, value: unknown) => (value instanceof Uint8Array ? Buffer.from(value).toString('latin1') : value));
}

function assertNoCanary(where: string, texts: Array<{ label: string; text: string }>): void {
  const hits = texts.flatMap(({ label, text }) => leaked(text).map((c) => `${label}: ${c} in ${text.slice(0, 200)}`));
  assert.deepEqual(hits, [], `${where} contains secret values`);
}

describe(`secret values do not leak [${backend}]`, () => {
  const transcript = new Transcript();
  let daemon: TestDaemon;
  let consilio: Rest;
  let odin: Rest;
  let admin: Rest;
  let mcp: McpSession;
  let consilioToken: string;
  let odinToken: string;

  before(async () => {
    daemon = await startTestDaemon(backend);
    consilioToken = await daemon.projectToken('consilio');
    odinToken = await daemon.projectToken('odin');
    consilio = new Rest(daemon.url, consilioToken, transcript);
    odin = consilio.as(odinToken);
    admin = consilio.as(daemon.adminToken);
    mcp = await connectMcp(daemon.url, 'consilio', consilioToken, transcript);
  });
  after(async () => {
    await mcp?.close();
    await daemon?.close();
  });

  test('REST: set, get, list, history, export, import, rollback, delete — only get and export show values', async () => {
    const path = 'project/consilio/rest_key';
    const first = canary('rest-v1');
    const second = canary('rest-v2');
    expectOk(await consilio.put('secret', { path, value: first, description: 'rest canary' }));
    expectOk(await consilio.put('secret', { path, value: second }));

    assert.equal(expectOk(await consilio.get('secret', { path })).value, second);
    assert.equal(expectOk(await consilio.get('secret', { path, version: 1 })).value, first);

    expectOk(await consilio.get('secrets'));
    expectOk(await consilio.get('secrets', { prefix: 'project/consilio/', recursive: false }));
    expectOk(await consilio.get('secret/history', { path }));
    expectOk(await consilio.get('secrets/due', { withinDays: 365 }));

    const imported = [canary('rest-import-a'), canary('rest-import-b')];
    expectOk(await consilio.post('secrets/import', { prefix: 'project/consilio/env/', content: `A=${imported[0]}\nexport B="${imported[1]}"\n` }));
    const exported = expectOk(await consilio.get('secrets/export', { prefix: 'project/consilio/' }));
    for (const value of [second, ...imported]) assert.ok(String(exported.content).includes(value), `export shows ${value}`);

    expectOk(await consilio.post('secret/rollback', { path, toVersion: 1 }));
    expectOk(await consilio.delete('secret', { path: 'project/consilio/env/b' }));
    expectOk(await consilio.post('secret/restore', { path: 'project/consilio/env/b' }));
    expectOk(await admin.get('audit', { limit: 200 }));
  });

  test('REST: failures carrying values answer without them', async () => {
    const path = 'project/consilio/rest_key';
    expectError(await consilio.put('secret', { path, value: canary('rest-conflict'), ifVersion: 1 }), 409, 'conflict');
    expectError(await odin.put('secret', { path, value: canary('rest-forbidden-write') }), 403, 'forbidden');
    expectError(await odin.get('secret', { path }), 403, 'forbidden');
    expectError(await odin.get('secrets/export', { prefix: 'project/consilio/' }), 403, 'forbidden');
    expectError(await consilio.put('secret', { path: 'meta/cloudflare/api_token', value: canary('rest-meta') }), 403, 'forbidden');
    expectError(await consilio.put('secret', { path: 'project/consilio/../odin/x', value: canary('rest-dotdot') }), 400, 'invalid_input');
    expectError(await consilio.put('secret', { path: 42, value: canary('rest-number') }), 400, 'invalid_input');
    expectError(await consilio.put('secret', { path: 'project/consilio/nul', value: `${canary('rest-nul')}\0` }), 400, 'invalid_input');
    expectError(await consilio.put('secret', { path: 'project/consilio/big', value: canary('rest-big').repeat(3000) }), 400, 'invalid_input');
    expectError(await consilio.put('secret', { path: 'project/consilio/tags', value: canary('rest-tags'), tags: ['Not A Tag'] }), 400, 'invalid_input');
    expectError(await consilio.request('PUT', 'secret', { raw: `{"path": "project/consilio/raw", "value": ${canary('rest-malformed')}}` }), 400, 'invalid_input');
    expectError(await consilio.request('PUT', 'secret', { raw: `{"path": "project/consilio/raw", "value": "${canary('rest-truncated')}` }), 400, 'invalid_input');
    expectError(await consilio.request('PUT', 'secret', { raw: canary('rest-text-body'), contentType: 'text/plain' }), 400, 'invalid_input');
    expectError(await consilio.put('secretz', { path, value: canary('rest-unknown-route') }), 404, 'not_found');
    // A misspelt field is refused, and what it carried is not kept in the call record either.
    expectError(await consilio.put('secret', { path, vaule: canary('rest-misspelt') }), 400, 'invalid_input');
    expectError(await consilio.put('secret', { path, Value: canary('rest-capitalised') }), 400, 'invalid_input');
    expectError(await consilio.post('secrets/import', { prefix: 'project/consilio/', contents: `X=${canary('rest-import-misspelt')}\n` }), 400, 'invalid_input');
    expectError(await consilio.as(canary('rest-token-like')).put('secret', { path, value: 'x' }), 401, 'unauthorized');
    expectError(await odin.post('secrets/import', { prefix: 'project/consilio/', content: `X=${canary('rest-import-forbidden')}\n` }), 403, 'forbidden');
    expectError(await consilio.post('secrets/import', { prefix: 'project/consilio/', content: `lower key=${canary('rest-import-badkey')}\n` }), 400, 'invalid_input');
    expectError(await consilio.post('secrets/import', { prefix: 'project/consilio/', content: `${canary('rest-import-noeq')}\n` }), 400, 'invalid_input');
    expectError(await consilio.post('secrets/import', { prefix: 'project/consilio/', content: `Dup=${canary('rest-dup-a')}\nDUP=${canary('rest-dup-b')}\n` }), 400, 'invalid_input');
    expectError(await consilio.post('secrets/import', { prefix: 'project/consilio/', content: `.HIDDEN=${canary('rest-hidden-key')}\n` }), 400, 'invalid_input');
  });

  test('MCP: set, get, list, history, export, import, delete — only get and export show values', async () => {
    const path = 'project/consilio/mcp_key';
    const value = canary('mcp-v1');
    expectToolOk(await mcp.call('set_secret', { path, value }));
    assert.equal(expectToolOk(await mcp.call('get_secret', { path })).value, value);
    expectToolOk(await mcp.call('list_secrets', {}));
    expectToolOk(await mcp.call('get_secret_history', { path }));
    const imported = canary('mcp-import');
    expectToolOk(await mcp.call('import_secrets', { prefix: 'project/consilio/mcp_env/', content: `TOKEN=${imported}\n` }));
    const exported = expectToolOk(await mcp.call('export_secrets', { prefix: 'project/consilio/mcp_env/' }));
    assert.ok(String(exported.content).includes(imported));
    expectToolOk(await mcp.call('delete_secret', { path: 'project/consilio/mcp_env/token' }));
    expectToolOk(await mcp.call('list_secrets', { prefix: 'project/consilio/', includeDeleted: true }));
  });

  test('MCP: failures carrying values answer without them', async () => {
    const path = 'project/consilio/mcp_key';
    expectToolError(await mcp.call('set_secret', { path, value: canary('mcp-conflict'), ifVersion: 0 }), 'conflict');
    expectToolError(await mcp.call('set_secret', { path: 'project/odin/x', value: canary('mcp-forbidden') }), 'forbidden');
    expectToolError(await mcp.call('set_secret', { path: 'project//x', value: canary('mcp-bad-path') }), 'invalid_input');
    expectToolError(await mcp.call('set_secret', { path, value: `\0${canary('mcp-nul')}` }), 'invalid_input');
    expectToolError(await mcp.call('set_secret', { path, value: canary('mcp-big').repeat(3000) }), 'invalid_input');
    expectToolError(await mcp.call('set_secret', { path, value: canary('mcp-bad-expiry'), expiresAt: 'tomorrow' }), 'invalid_input');
    // An unknown tool is a protocol error (-32602): sent raw, so its answer is in the transcript too.
    const unknownTool = await mcpPost(daemon.url, 'consilio', consilioToken, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'no_such_tool', arguments: { value: canary('mcp-unknown-tool') } } }), transcript);
    assert.match(unknownTool.text, /-32602/);
    expectToolError(await mcp.call('create_token', { name: 'x', secret: canary('mcp-admin-only') }), 'forbidden');
    expectToolError(await mcp.call('import_secrets', { prefix: 'meta/x/', content: `A=${canary('mcp-import-forbidden')}\n` }), 'forbidden');
    expectToolError(await mcp.call('import_secrets', { prefix: 'project/consilio/', content: `.BAD=${canary('mcp-import-badkey')}\n` }), 'invalid_input');
    await mcpRefusal(daemon.url, 'consilio', odinToken, transcript);
    await mcpPost(daemon.url, 'consilio', consilioToken, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"set_secret","arguments":{"path":"project/consilio/x","value":${canary('mcp-malformed')}}}}`, transcript);
    await mcpPost(daemon.url, 'consilio', consilioToken, JSON.stringify({ jsonrpc: '2.0', id: { bad: true }, method: 'tools/call', params: { name: 'set_secret', arguments: { path, value: canary('mcp-bad-rpc') } } }), transcript);
  });

  test('the scan is not vacuous: reads did return the canaries', () => {
    const reads = transcript.items.filter(isAuthorizedRead);
    assert.ok(reads.length >= 5, `${reads.length} authorized reads`);
    assert.ok(reads.every((r) => leaked(r.text).length > 0), 'every authorized read answer shows a value');
    assert.ok(transcript.items.filter((r) => r.error).length >= 30, 'failures were exercised');
    assert.ok(capturedLogLines.some((line) => line.includes('/api/v1/secret')), 'request logs were captured');
  });

  test('no error body contains a value', () => {
    assertNoCanary('error answers', transcript.items.filter((r) => r.error).map((r) => ({ label: `${r.what} → ${r.status}`, text: r.text })));
  });

  test('no other answer (set, list, history, due, import, delete, audit) contains a value', () => {
    assertNoCanary('non-read answers', transcript.items.filter((r) => !r.error && !isAuthorizedRead(r)).map((r) => ({ label: r.what, text: r.text })));
  });

  test('no log line contains a value', () => {
    assertNoCanary('the daemon log', capturedLogLines.map((line, i) => ({ label: `log line ${i}`, text: line })));
  });

  test('no audit_log row contains a value', async () => {
    await daemon.services.audit.list({ limit: 1 }); // flushes buffered read audit
    const { rows } = await daemon.services.db.query<Record<string, unknown>>('SELECT * FROM audit_log');
    assert.ok(rows.length > 20, `${rows.length} audit rows`);
    assertNoCanary('audit_log', rows.map((row) => ({ label: `audit ${String(row.action)}`, text: rowText(row) })));
  });

  test('no operation_calls row contains a value', async () => {
    await daemon.services.calls.flush();
    const { rows } = await daemon.services.db.query<Record<string, unknown>>('SELECT * FROM operation_calls');
    assert.ok(rows.length > 20, `${rows.length} call records`);
    assertNoCanary('operation_calls', rows.map((row) => ({ label: `call ${String(row.operation)}`, text: rowText(row) })));
  });

  test('the database holds no value in clear text (metadata and ciphertext)', async () => {
    for (const table of ['secrets', 'secret_versions']) {
      const { rows } = await daemon.services.db.query<Record<string, unknown>>(`SELECT * FROM ${table}`);
      assert.ok(rows.length > 0, table);
      assertNoCanary(table, rows.map((row) => ({ label: table, text: rowText(row) })));
    }
  });
});
