/**
 * Adding a domain: a manifest with one setting, one migration and one operation,
 * added to the domain list, appears in the config loader and the settings table,
 * in the catalog and a toolset, in REST, MCP, OpenAPI and the CLI, with no other
 * file edited (test/catalog/toy/ is the whole domain).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { DOMAINS } from '../../src/app.js';
import { settingsTable, toolsetsTable } from '../../src/catalog/docs.js';
import { defineApp, type App } from '../../src/catalog/wire.js';
import { runCli } from '../../src/cli/program.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/log.js';
import { buildHttpServer } from '../../src/http/server.js';
import { openTestDb } from '../helpers/db.js';
import { captureStream } from '../helpers/services.js';
import { toyDomain } from './toy/index.js';

const domains = [...DOMAINS, toyDomain] as const;
const app = defineApp(domains);
const LOCAL_TOKEN = 'toy-local-token';

describe('a toy domain added to the domain list', () => {
  let home: string;
  let running: App<typeof domains>;
  let http: FastifyInstance;
  let url: string;
  const env = () => ({ SUPERVISOR_HOME: home, SUPERVISOR_TOY_GREETING: 'hej' });

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'supervisor-toy-'));
    running = await app.open({ config: app.loadConfig(env()), db: await openTestDb('pglite'), log: createLogger('warn', captureStream()), clock: new ManualClock() });
    await running.projects.add('toy-test', { name: 'ada' });
    http = await buildHttpServer(running, { localToken: LOCAL_TOKEN, verifyToken: (t) => running.auth.tokens.verify(t) });
    await http.listen({ host: '127.0.0.1', port: 0 });
    const address = http.server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  after(async () => {
    await http?.close();
    await running?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  test('its setting is loaded and documented', () => {
    assert.deepEqual(app.loadConfig(env()).domains.toy, { toyGreeting: 'hej' });
    assert.match(settingsTable(domains), /\| `SUPERVISOR_TOY_GREETING` \| `toyGreeting` \| toy \| `hello` \| restart \| What the toy domain says first\. \|/);
  });

  test('its migration ran, and its service got the service it needs', async () => {
    assert.deepEqual(await running.toy.greet('ada'), { text: 'hej, ada', count: 1, projectExists: true });
  });

  test('it is a toolset, on request only, in the docs table', () => {
    const toolset = app.catalog.toolsets.find((t) => t.id === 'toy');
    assert.deepEqual([toolset?.defaultFor, toolset?.operations.map((op) => op.name)], [[], ['ping_toy']]);
    assert.match(toolsetsTable(app.catalog.toolsets), /\| `toy` \| Toy: greets whoever asks \(a test domain\)\. \| on request \| `ping_toy` \|/);
  });

  const auth = { authorization: `Bearer ${LOCAL_TOKEN}` };

  test('REST serves it and OpenAPI describes it', async () => {
    const answer = await fetch(`${url}/api/v1/toy/ping?name=grace`, { headers: auth });
    assert.deepEqual([answer.status, await answer.json()], [200, { text: 'hej, grace', count: 1, projectExists: false }]);
    const openapi = (await (await fetch(`${url}/api/v1/openapi.json`)).json()) as { paths: Record<string, { get?: { operationId: string; tags: string[] } }> };
    assert.deepEqual([openapi.paths['/api/v1/toy/ping']?.get?.operationId, openapi.paths['/api/v1/toy/ping']?.get?.tags], ['ping_toy', ['toy']]);
  });

  const mcp = async (headers: Record<string, string>, method: string, params: Record<string, unknown> = {}) => {
    const response = await fetch(`${url}/mcp/meta`, {
      method: 'POST',
      headers: { ...auth, ...headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    });
    const text = await response.text();
    const payload = text.startsWith('event:') || text.includes('\ndata: ') ? text.split('\n').find((l) => l.startsWith('data: '))!.slice(6) : text;
    return JSON.parse(payload) as { result?: { tools?: Array<{ name: string }>; structuredContent?: unknown }; error?: { message: string } };
  };

  test('MCP serves it when its toolset is asked for, not by default', async () => {
    const names = (r: Awaited<ReturnType<typeof mcp>>) => r.result?.tools?.map((t) => t.name) ?? [];
    assert.ok(!names(await mcp({}, 'tools/list')).includes('ping_toy'));
    assert.deepEqual(names(await mcp({ 'x-supervisor-toolsets': 'toy' }, 'tools/list')), ['ping_toy']);
    const called = await mcp({ 'x-supervisor-toolsets': 'toy' }, 'tools/call', { name: 'ping_toy', arguments: { name: 'ada' } });
    assert.deepEqual(called.result?.structuredContent, { text: 'hej, ada', count: 2, projectExists: true });
  });

  test('the CLI has its command, through the daemon', async () => {
    const saved = { ...process.env };
    let out = '';
    Object.assign(process.env, env(), { SUPERVISOR_URL: url, SUPERVISOR_TOKEN: LOCAL_TOKEN });
    try {
      assert.equal(await runCli(['toy', 'ping', 'linus', '--json'], app, { write: (text) => (out += text) }), 0);
    } finally {
      process.env = saved;
    }
    assert.deepEqual(JSON.parse(out), { text: 'hej, linus', count: 1, projectExists: false });
  });
});
