import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditRow } from '../../src/core/audit.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { skipReason, testBackends } from '../helpers/db.js';
import { connectMcp, expectError, expectOk, mcpRefusal, Rest } from './client.js';

/** The audit rows a test can see, newest first (the API an admin uses, not raw SQL). */
async function audit(daemon: TestDaemon): Promise<AuditRow[]> {
  return daemon.services.audit.list({ limit: 100 });
}

function findRow(rows: AuditRow[], match: Partial<Pick<AuditRow, 'action' | 'target' | 'outcome'>> & { detail?: Record<string, unknown>; actor?: RegExp }): AuditRow {
  const row = rows.find(
    (r) =>
      (match.action === undefined || r.action === match.action) &&
      (match.target === undefined || r.target === match.target) &&
      (match.outcome === undefined || r.outcome === match.outcome) &&
      (match.actor === undefined || match.actor.test(r.actor)) &&
      Object.entries(match.detail ?? {}).every(([k, v]) => r.detail[k] === v),
  );
  assert.ok(row, `no audit row like ${JSON.stringify({ ...match, actor: match.actor?.source })} among:\n${rows.map((r) => `${r.action} ${r.target} ${r.outcome} ${r.actor} ${JSON.stringify(r.detail)}`).join('\n')}`);
  return row;
}

for (const backend of testBackends()) {
  describe(`HTTP authentication and authorization [${backend}]`, { skip: await skipReason(backend) }, () => {
    let daemon: TestDaemon;
    let anonymous: Rest;
    let admin: Rest;
    let odin: Rest;
    let odinToken: string;

    before(async () => {
      daemon = await startTestDaemon(backend);
      anonymous = new Rest(daemon.url, undefined);
      admin = anonymous.as(daemon.adminToken);
      await daemon.services.projects.add('test', { name: 'odin' });
      odinToken = await daemon.projectToken('odin');
      odin = anonymous.as(odinToken);
      expectOk(await admin.put('secret', { path: 'project/consilio/x', value: 'consilio-only' }));
    });
    after(() => daemon?.close());

    test('no token: REST answers 401 unauthorized with a hint, and the attempt is audited', async () => {
      const error = expectError(await anonymous.get('secrets'), 401, 'unauthorized');
      assert.match(error.message, /Authorization: Bearer/);
      findRow(await audit(daemon), { action: 'auth.denied', target: 'GET /api/v1/secrets', outcome: 'denied', actor: /^anonymous$/, detail: { reason: 'no bearer token' } });
    });

    test('no token: the MCP endpoint refuses the connection with HTTP 401 and the same error', async () => {
      const refused = await mcpRefusal(daemon.url, 'meta', undefined);
      expectError(refused, 401, 'unauthorized');
      findRow(await audit(daemon), { action: 'auth.denied', target: 'POST /mcp/meta', outcome: 'denied', detail: { reason: 'no bearer token' } });
    });

    test('a 401 names its scheme (invalid_token when one was sent), and OAuth discovery finds nothing rather than another 401', async () => {
      const none = await fetch(`${daemon.url}/mcp/odin`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.deepEqual([none.status, none.headers.get('www-authenticate')], [401, 'Bearer realm="supervisor"']);
      const bad = await fetch(`${daemon.url}/api/v1/whoami`, { headers: { authorization: 'Bearer hunter2' } });
      assert.deepEqual([bad.status, bad.headers.get('www-authenticate')], [401, 'Bearer realm="supervisor", error="invalid_token"']);
      // Where an MCP client looks after a 401 (RFC 9728, RFC 8414): this server takes configured tokens, no OAuth.
      for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp/odin', '/.well-known/oauth-authorization-server']) {
        assert.equal((await fetch(`${daemon.url}${path}`)).status, 404, path);
      }
    });

    test('a garbage token is refused on REST and MCP, and audited as unknown', async () => {
      const garbage = anonymous.as('svt_000000000000_not-a-real-secret-not-a-real-secret-not-a-real');
      expectError(await garbage.get('secrets'), 401, 'unauthorized');
      expectError(await anonymous.as('hunter2').get('whoami'), 401, 'unauthorized');
      expectError(await mcpRefusal(daemon.url, 'odin', garbage.token), 401, 'unauthorized');
      const rows = await audit(daemon);
      findRow(rows, { action: 'auth.denied', target: 'GET /api/v1/secrets', detail: { reason: 'unknown or revoked token' } });
      findRow(rows, { action: 'auth.denied', target: 'POST /mcp/odin', detail: { reason: 'unknown or revoked token' } });
    });

    test("odin's token cannot read consilio's secret over REST: 403, audited as a denied secret.read", async () => {
      const error = expectError(await odin.get('secret', { path: 'project/consilio/x' }), 403, 'forbidden');
      assert.match(error.message, /project odin may not read project\/consilio\/x/);
      // The advice grants a prefix, and says what else that covers.
      assert.match(error.message, /`supervisor secrets grant odin project\/consilio\/x --access read` \(grant_secret_access over MCP\), which covers project\/consilio\/x\/ too, like any grant$/);
      assert.doesNotMatch(error.message, /consilio-only/);
      findRow(await audit(daemon), { action: 'secret.read', target: 'project/consilio/x', outcome: 'denied', actor: /odin/ });
    });

    test("odin's token cannot open consilio's MCP server: HTTP 403, audited", async () => {
      const error = expectError(await mcpRefusal(daemon.url, 'consilio', odinToken), 403, 'forbidden');
      assert.match(error.message, /belongs to project odin/);
      findRow(await audit(daemon), { action: 'auth.denied', target: 'POST /mcp/consilio', outcome: 'denied', actor: /odin/, detail: { project: 'consilio' } });
    });

    test("odin's token cannot open the meta server: HTTP 403, audited", async () => {
      const error = expectError(await mcpRefusal(daemon.url, 'meta', odinToken), 403, 'forbidden');
      assert.match(error.message, /needs an admin token/);
      findRow(await audit(daemon), { action: 'auth.denied', target: 'POST /mcp/meta', outcome: 'denied', actor: /odin/, detail: { project: 'meta' } });
    });

    test("odin's token does open odin's own MCP server", async () => {
      const session = await connectMcp(daemon.url, 'odin', odinToken);
      try {
        const who = await session.call('get_identity');
        assert.deepEqual({ role: who.output?.role, project: who.output?.project }, { role: 'project', project: 'odin' });
      } finally {
        await session.close();
      }
    });

    test('admin-only operations answer 403 to a project token, audited as op.<name> denied', async () => {
      const error = expectError(await odin.get('tokens'), 403, 'forbidden');
      assert.match(error.message, /^list_tokens needs an admin token; this connection is scoped to project odin$/);
      expectError(await odin.post('tokens', { project: 'odin', name: 'escalate' }), 403, 'forbidden');
      expectError(await odin.post('keys/rotate-master', {}), 403, 'forbidden');
      const rows = await audit(daemon);
      findRow(rows, { action: 'op.list_tokens', outcome: 'denied', actor: /odin/, detail: { project: 'odin' } });
      findRow(rows, { action: 'op.create_token', outcome: 'denied', actor: /odin/ });
      findRow(rows, { action: 'op.rotate_master_key', outcome: 'denied', actor: /odin/ });
      assert.equal((await daemon.services.auth.tokens.list({ project: 'odin' })).some((t) => t.name === 'escalate'), false);
    });

    test('the same admin-only operation works with the admin token', async () => {
      const tokens = expectOk(await admin.get('tokens'));
      assert.ok(Array.isArray(tokens.items) && tokens.items.length >= 2);
    });

    test('/healthz, /readyz and /api/v1/openapi.json answer without a token', async () => {
      assert.deepEqual(expectOk(await anonymous.get('/healthz')), { status: 'ok' });
      assert.equal(expectOk(await anonymous.get('/readyz')).status, 'ready');
      assert.equal(expectOk(await anonymous.get('openapi.json')).openapi, '3.1.0');
    });

    test('revoking a token with DELETE /api/v1/tokens?id=… makes it 401 at once, on REST and MCP', async () => {
      const created = expectOk(await admin.post('tokens', { project: 'odin', name: 'short-lived' }));
      const doomed = anonymous.as(String(created.token));
      assert.equal(expectOk(await doomed.get('whoami')).project, 'odin');
      const session = await connectMcp(daemon.url, 'odin', doomed.token);
      await session.close();

      const revoked = expectOk(await admin.delete('tokens', { id: String(created.id) }));
      assert.equal(revoked.id, created.id);
      assert.equal(typeof revoked.revokedAt, 'string');

      expectError(await doomed.get('whoami'), 401, 'unauthorized');
      expectError(await mcpRefusal(daemon.url, 'odin', doomed.token), 401, 'unauthorized');
      findRow(await audit(daemon), { action: 'auth.denied', target: 'GET /api/v1/whoami', detail: { reason: 'unknown or revoked token' } });
      // Other tokens are untouched.
      assert.equal(expectOk(await odin.get('whoami')).project, 'odin');
    });
  });
}
