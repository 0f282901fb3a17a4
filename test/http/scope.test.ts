/**
 * A project's MCP server (/mcp/<project>) is a sandbox: whatever token opens it,
 * its tools act as that project and see only what that project's own token would.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { catalog } from '../../src/app.js';
import { defaultToolNames } from '../helpers/tools.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { skipReason, testBackends, type Backend } from '../helpers/db.js';
import { connectMcp, expectError, expectOk, expectToolError, expectToolOk, Rest, type McpSession } from './client.js';

const backend: Backend = testBackends().includes('postgres') && !(await skipReason('postgres')) ? 'postgres' : 'pglite';

const ADMIN_ONLY = catalog.all().filter((op) => op.access === 'admin').map((op) => op.name);

/** Paths outside consilio's folder, seeded by the admin. */
const META_SECRET = 'meta/cloudflare/api_token';
const ODIN_SECRET = 'project/odin/database_url';

describe(`MCP project scope [${backend}]`, () => {
  let daemon: TestDaemon;
  let admin: Rest;
  let consilioToken: string;

  before(async () => {
    daemon = await startTestDaemon(backend);
    admin = new Rest(daemon.url, daemon.adminToken);
    consilioToken = await daemon.projectToken('consilio');
    expectOk(await admin.put('secret', { path: META_SECRET, value: 'cf-token-value' }));
    expectOk(await admin.put('secret', { path: ODIN_SECRET, value: 'postgres://odin' }));
  });
  after(() => daemon?.close());

  const openers: Array<{ who: string; token: () => string }> = [
    { who: "consilio's own token", token: () => consilioToken },
    { who: 'the admin token (narrowed to consilio)', token: () => daemon.adminToken },
  ];

  for (const { who, token } of openers) {
    describe(`/mcp/consilio opened with ${who}`, () => {
      let mcp: McpSession;
      before(async () => {
        mcp = await connectMcp(daemon.url, 'consilio', token());
      });
      after(() => mcp?.close());

      test('acts as project consilio', async () => {
        const me = expectToolOk(await mcp.call('get_identity'));
        assert.equal(me.role, 'project');
        assert.equal(me.project, 'consilio');
      });

      test('tools/list shows the project tools and none of the admin-only ones', async () => {
        const names = (await mcp.tools()).map((t) => t.name);
        for (const name of ['create_token', 'rotate_master_key', 'list_tokens', 'grant_secret_access', 'list_audit']) assert.ok(!names.includes(name), `${name} is listed`);
        assert.deepEqual(names.filter((n) => ADMIN_ONLY.includes(n)), []);
        assert.deepEqual([...names].sort(), defaultToolNames('consilio'));
      });

      test('an admin-only tool called by name anyway is refused', async () => {
        expectToolError(await mcp.call('create_token', { admin: true, name: 'escalation' }), 'forbidden');
        expectToolError(await mcp.call('rotate_master_key'), 'forbidden');
        expectToolError(await mcp.call('list_tokens'), 'forbidden');
      });

      test('cannot read, write or list meta/…', async () => {
        assert.match(expectToolError(await mcp.call('get_secret', { path: META_SECRET }), 'forbidden'), /meta\/ paths need an admin token/);
        expectToolError(await mcp.call('set_secret', { path: META_SECRET, value: 'overwritten' }), 'forbidden');
        expectToolError(await mcp.call('set_secret', { path: 'meta/new/key', value: 'planted' }), 'forbidden');
        expectToolError(await mcp.call('list_secrets', { prefix: 'meta/' }), 'forbidden');
        expectToolError(await mcp.call('get_secret_history', { path: META_SECRET }), 'forbidden');
        expectToolError(await mcp.call('export_secrets', { prefix: 'meta/' }), 'forbidden');
        expectToolError(await mcp.call('delete_secret', { path: META_SECRET }), 'forbidden');
      });

      test('cannot read, write or list project/odin/…', async () => {
        expectToolError(await mcp.call('get_secret', { path: ODIN_SECRET }), 'forbidden');
        expectToolError(await mcp.call('set_secret', { path: ODIN_SECRET, value: 'overwritten' }), 'forbidden');
        expectToolError(await mcp.call('list_secrets', { prefix: 'project/odin/' }), 'forbidden');
        expectToolError(await mcp.call('list_secrets', { prefix: 'project/odin' }), 'forbidden');
        expectToolError(await mcp.call('export_secrets', { prefix: 'project/odin/' }), 'forbidden');
        expectToolError(await mcp.call('import_secrets', { prefix: 'project/odin/', content: 'PLANTED=1\n' }), 'forbidden');
        expectToolError(await mcp.call('rollback_secret', { path: ODIN_SECRET, toVersion: 1 }), 'forbidden');
        expectToolError(await mcp.call('delete_secret', { path: ODIN_SECRET }), 'forbidden');
      });

      test('listing above its folder shows only its own secrets', async () => {
        for (const args of [{}, { prefix: 'project/' }]) {
          const page = expectToolOk(await mcp.call('list_secrets', args));
          const paths = (page.items as Array<{ path: string }>).map((i) => i.path);
          assert.deepEqual(paths.filter((p) => !p.startsWith('project/consilio/')), [], JSON.stringify(args));
        }
        const due = expectToolOk(await mcp.call('list_due_secrets', { withinDays: 365 }));
        assert.deepEqual((due.items as Array<{ path: string }>).filter((i) => !i.path.startsWith('project/consilio/')), []);
      });

      test('can read, write, list and export project/consilio/…', async () => {
        const path = `project/consilio/${who.startsWith('the admin') ? 'via_admin' : 'via_project'}`;
        const written = expectToolOk(await mcp.call('set_secret', { path, value: 'mine' }));
        assert.equal(written.created, true);
        assert.equal(expectToolOk(await mcp.call('get_secret', { path })).value, 'mine');
        const listed = expectToolOk(await mcp.call('list_secrets', { prefix: 'project/consilio/' }));
        assert.ok((listed.items as Array<{ path: string }>).some((i) => i.path === path));
        const exported = expectToolOk(await mcp.call('export_secrets', { prefix: 'project/consilio/' }));
        assert.match(String(exported.content), /mine/);
      });
    });
  }

  test('after all those attempts, meta/ and project/odin/ are unchanged', async () => {
    for (const [path, value] of [[META_SECRET, 'cf-token-value'], [ODIN_SECRET, 'postgres://odin']]) {
      const read = expectOk(await admin.get('secret', { path: path! }));
      assert.equal(read.value, value);
      assert.equal(read.version, 1);
    }
    expectError(await admin.get('secret', { path: 'meta/new/key' }), 404, 'not_found');
    const odin = expectOk(await admin.get('secrets', { prefix: 'project/odin/' }));
    assert.deepEqual((odin.items as Array<{ path: string }>).map((i) => i.path), [ODIN_SECRET]);
  });

  test('the admin token at /mcp/meta reads and lists everything and sees the admin tools', async () => {
    const mcp = await connectMcp(daemon.url, 'meta', daemon.adminToken);
    try {
      const names = (await mcp.tools()).map((t) => t.name);
      assert.deepEqual([...names].sort(), defaultToolNames('meta'));
      assert.equal(expectToolOk(await mcp.call('get_secret', { path: META_SECRET })).value, 'cf-token-value');
      assert.equal(expectToolOk(await mcp.call('get_secret', { path: ODIN_SECRET })).value, 'postgres://odin');
      expectToolOk(await mcp.call('set_secret', { path: 'meta/cloudflare/zone_id', value: 'zone' }));
      const meta = expectToolOk(await mcp.call('list_secrets', { prefix: 'meta/' }));
      assert.deepEqual((meta.items as Array<{ path: string }>).map((i) => i.path), [META_SECRET, 'meta/cloudflare/zone_id']);
      const all = expectToolOk(await mcp.call('list_secrets', {}));
      assert.ok((all.items as Array<{ path: string }>).some((i) => i.path === ODIN_SECRET));
      assert.equal(expectToolOk(await mcp.call('get_identity')).role, 'admin');
    } finally {
      await mcp.close();
    }
  });
});

