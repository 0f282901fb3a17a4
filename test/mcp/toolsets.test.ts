/**
 * Toolsets per MCP endpoint, through the official MCP client over HTTP: the
 * default toolsets of meta and project endpoints, a chosen list by header or
 * query parameter, read-only, and the refusals a client gets for a wrong choice.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { catalog } from '../../src/app.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { daemonBackend } from '../cli/run-cli.js';
import { connectMcp, expectToolError, expectToolOk, type McpOptions } from '../http/client.js';

const namesOf = (toolsets: string[]) => catalog.toolsets.filter((t) => toolsets.includes(t.id)).flatMap((t) => t.operations.map((op) => op.name)).sort();

describe('MCP toolsets', () => {
  let daemon: TestDaemon;
  let consilioToken: string;
  const list = async (project: string, token: string, options: McpOptions = {}) => {
    const session = await connectMcp(daemon.url, project, token, undefined, options);
    try {
      return { names: (await session.tools()).map((t) => t.name).sort(), instructions: session.client.getInstructions() ?? '' };
    } finally {
      await session.close();
    }
  };

  before(async () => {
    daemon = await startTestDaemon(await daemonBackend());
    consilioToken = await daemon.projectToken('consilio');
  });
  after(() => daemon?.close());

  test("the meta endpoint serves the toolsets that are default for meta, and its instructions describe them", async () => {
    const meta = catalog.toolsets.filter((t) => t.defaultFor.includes('meta'));
    const served = await list('meta', daemon.adminToken);
    assert.deepEqual(served.names, namesOf(meta.map((t) => t.id)));
    for (const t of meta) assert.ok(served.instructions.includes(t.description), `instructions name ${t.id}`);
  });

  test('a project endpoint serves its defaults, without admin-only tools', async () => {
    const served = await list('consilio', consilioToken);
    const expected = catalog.toolsets.filter((t) => t.defaultFor.includes('project')).flatMap((t) => t.operations).filter((op) => op.access === 'any').map((op) => op.name).sort();
    assert.deepEqual(served.names, expected);
    assert.ok(served.names.includes('get_secret') && !served.names.includes('create_token'));
    assert.match(served.instructions, /Supervisor server for project consilio/);
  });

  test('the instructions describe only toolsets that give the session a tool: a project token asking for all, a read-only session', async () => {
    const offered = (instructions: string) => catalog.toolsets.filter((t) => instructions.includes(t.description)).map((t) => t.id);
    const adminOnly = catalog.toolsets.filter((t) => t.operations.every((op) => op.access === 'admin')).map((t) => t.id);
    assert.ok(adminOnly.includes('gcloud'), `toolsets with admin tools only: ${adminOnly.join(', ')}`);
    const all = await list('consilio', consilioToken, { headers: { 'X-Supervisor-Toolsets': 'all' } });
    assert.deepEqual(offered(all.instructions).filter((id) => adminOnly.includes(id)), []);
    assert.ok(offered(all.instructions).includes('secrets'));
    // Nor are they offered "on request" to a project's session.
    const defaults = await list('consilio', consilioToken);
    const onRequest = /More toolsets on request[^:]*: (.*)\./.exec(defaults.instructions)?.[1]?.split(', ') ?? [];
    assert.deepEqual(onRequest.filter((id) => adminOnly.includes(id)), []);
    // A read-only session is not told about a toolset whose every tool writes.
    const writesOnly = catalog.toolsets.filter((t) => t.defaultFor.includes('meta') && t.operations.every((op) => !op.annotations.readOnlyHint)).map((t) => t.id);
    const readonly = await list('meta', daemon.adminToken, { headers: { 'X-Supervisor-Readonly': 'true' } });
    assert.deepEqual(offered(readonly.instructions).filter((id) => writesOnly.includes(id)), []);
    // An admin on meta still hears of every toolset: its defaults described, the others on request.
    const meta = await list('meta', daemon.adminToken);
    assert.ok(catalog.toolsets.every((t) => meta.instructions.includes(t.description) || meta.instructions.includes(t.id)));
  });

  test('the instructions name only tools the session is given: a project token on all, read-only sessions, the defaults', async () => {
    const tools = new Set(catalog.all().map((op) => op.name));
    const sessions = [
      await list('consilio', consilioToken, { headers: { 'X-Supervisor-Toolsets': 'all' } }),
      await list('consilio', consilioToken, { headers: { 'X-Supervisor-Toolsets': 'default,knowledge', 'X-Supervisor-Readonly': 'true' } }),
      await list('meta', daemon.adminToken, { headers: { 'X-Supervisor-Readonly': 'true' } }),
      await list('consilio', consilioToken),
      await list('meta', daemon.adminToken),
    ];
    for (const session of sessions) {
      const named = (session.instructions.match(/\b[a-z]+(?:_[a-z]+)+\b/g) ?? []).filter((word) => tools.has(word));
      assert.deepEqual(named.filter((name) => !session.names.includes(name)), [], session.instructions);
    }
    // What is left of a toolset still says what it is for.
    assert.match(sessions[1]!.instructions, /^Ports: each project owns a range\. Never hard-code a port\.$/m);
    assert.match(sessions[0]!.instructions, /^Instructions: each project's CLAUDE\.md is built from layer files/m);
    // start_piv is an admin's: the project's line keeps what a loop is, and the tool it has.
    assert.match(sessions[0]!.instructions, /^PIV loops: a coding agent plans, implements and validates a feature on a branch of the project's repository\. get_piv_status follows one\.$/m);
  });

  test('X-Supervisor-Toolsets and ?toolsets= choose; all means all', async () => {
    assert.deepEqual((await list('meta', daemon.adminToken, { headers: { 'X-Supervisor-Toolsets': 'secrets,ports' } })).names, namesOf(['secrets', 'ports']));
    assert.deepEqual((await list('meta', daemon.adminToken, { query: 'toolsets=cloudflare' })).names, namesOf(['cloudflare']));
    assert.deepEqual((await list('meta', daemon.adminToken, { headers: { 'X-Supervisor-Toolsets': 'all' } })).names, catalog.all().map((op) => op.name).sort());
    assert.deepEqual((await list('meta', daemon.adminToken, { headers: { 'X-Supervisor-Toolsets': 'secrets,all' } })).names, catalog.all().map((op) => op.name).sort());
  });

  test('default plus others: the endpoint defaults and the named toolsets on request', async () => {
    const defaults = catalog.toolsets.filter((t) => t.defaultFor.includes('meta')).map((t) => t.id);
    assert.ok(!defaults.includes('agent'), 'the PIV loop is on request on meta');
    const served = await list('meta', daemon.adminToken, { headers: { 'X-Supervisor-Toolsets': 'default,agent' } });
    assert.deepEqual(served.names, namesOf([...defaults, 'agent']));
    assert.ok(served.names.includes('start_piv'));
  });

  test('read-only serves only read-only tools', async () => {
    const served = await list('meta', daemon.adminToken, { headers: { 'X-Supervisor-Toolsets': 'all', 'X-Supervisor-Readonly': 'true' } });
    const readOnly = catalog.all().filter((op) => op.annotations.readOnlyHint).map((op) => op.name).sort();
    assert.deepEqual(served.names, readOnly);
    assert.ok(!served.names.includes('set_secret'));
  });

  test('an unknown toolset: the session is refused at its start, with the valid ones; all beside it does not hide it', async () => {
    for (const asked of ['secrets,nosuch', 'all,nosuch']) {
      await assert.rejects(connectMcp(daemon.url, 'meta', daemon.adminToken, undefined, { headers: { 'X-Supervisor-Toolsets': asked } }), (err: Error) => {
        assert.ok(err.message.includes(`unknown toolset nosuch; valid toolsets: ${catalog.toolsets.map((t) => t.id).join(', ')} (or all, or default plus others)`), `${asked}: ${err.message}`);
        return true;
      });
    }
  });

  test('a read-only flag that is neither yes nor no is refused, not taken as no', async () => {
    const answer = await fetch(`${daemon.url}/mcp/meta`, {
      method: 'POST',
      headers: { authorization: `Bearer ${daemon.adminToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'x-supervisor-readonly': 'banana' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(answer.status, 400);
    assert.match(await answer.text(), /readonly: \\"banana\\" is neither yes \(true, 1, on\) nor no \(false, 0, off\)/);
  });

  test('a tool left out by the selection is refused with the toolset to ask for; read-only refuses writes', async () => {
    const session = await connectMcp(daemon.url, 'meta', daemon.adminToken, undefined, { headers: { 'X-Supervisor-Toolsets': 'ports', 'X-Supervisor-Readonly': 'true' } });
    try {
      const text = expectToolError(await session.call('get_secret', { path: 'meta/x/y' }), 'forbidden');
      assert.match(text, /get_secret is not served here \(toolsets: ports, read-only\); ask for its toolset secrets: the X-Supervisor-Toolsets header over HTTP, --toolsets default,secrets for supervisor mcp$/);
      // Its toolset is on: the refusal says read-only mode is why, not the toolset.
      const write = expectToolError(await session.call('allocate_port', { project: 'meta', service: 'x' }), 'forbidden');
      assert.match(write, /^forbidden: allocate_port changes things, and this session is read-only \(X-Supervisor-Readonly over HTTP, --readonly for supervisor mcp\)/);
      expectToolOk(await session.call('get_port_summary', {}));
      // A tool no toolset has is the protocol's error (-32602), not a tool's failure.
      await assert.rejects(session.client.callTool({ name: 'nonexistent_tool', arguments: {} }), (err: unknown) => {
        assert.ok(err instanceof Error && 'code' in err, String(err));
        assert.equal(err.code, -32602);
        assert.match(err.message, /unknown tool "nonexistent_tool"; tools\/list shows the tools of this session/);
        return true;
      });
    } finally {
      await session.close();
    }
  });

  test('read-only leaves out get_run_env too: given a service, it reserves that service\'s port', async () => {
    const session = await connectMcp(daemon.url, 'meta', daemon.adminToken, undefined, { headers: { 'X-Supervisor-Toolsets': 'secrets', 'X-Supervisor-Readonly': 'true' } });
    try {
      assert.ok(!(await session.tools()).some((t) => t.name === 'get_run_env'));
      expectToolError(await session.call('get_run_env', { project: 'meta', service: 'sneaky' }), 'forbidden');
    } finally {
      await session.close();
    }
  });
});
