/**
 * What a default tools/list costs an agent's context: name + description + input
 * schema of every tool an endpoint serves without being asked for more, at about
 * 4 characters per token. The budgets (README, "MCP toolsets") hold for today's
 * domains and must keep holding as domains are added: a new domain that does not
 * fit is on request, or trims its descriptions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { catalog } from '../../src/app.js';
import { adminPrincipal, projectPrincipal, type Principal } from '../../src/core/principal.js';
import { toolDefinition } from '../../src/mcp/server.js';
import { DEFAULT_SELECTION, endpointOf, selectTools } from '../../src/mcp/toolsets.js';

const CHARS_PER_TOKEN = 4;

function tokensServed(principal: Principal, project: string): { tokens: number; tools: number } {
  const { tools } = selectTools(catalog, principal, endpointOf(project), DEFAULT_SELECTION);
  const chars = tools.map(toolDefinition).reduce((n, t) => n + t.name.length + (t.description?.length ?? 0) + JSON.stringify(t.inputSchema).length, 0);
  return { tokens: Math.ceil(chars / CHARS_PER_TOKEN), tools: tools.length };
}

test('a project endpoint lists its default tools in at most 3,000 tokens', () => {
  const served = tokensServed(projectPrincipal('consilio', 'token:consilio'), 'consilio');
  console.log(`/mcp/<project>: ${served.tools} tools, ~${served.tokens} tokens`);
  assert.ok(served.tokens <= 3000, `~${served.tokens} tokens`);
});

test('the meta endpoint lists its default tools in at most 8,000 tokens', () => {
  const served = tokensServed(adminPrincipal('admin'), 'meta');
  console.log(`/mcp/meta: ${served.tools} tools, ~${served.tokens} tokens`);
  assert.ok(served.tokens <= 8000, `~${served.tokens} tokens`);
});

test('the gcloud toolset (meta only) lists its 19 tools in about 1,560 tokens', () => {
  const gcloud = catalog.toolsets.find((t) => t.id === 'gcloud')!;
  const chars = gcloud.operations.map(toolDefinition).reduce((n, t) => n + t.name.length + (t.description?.length ?? 0) + JSON.stringify(t.inputSchema).length, 0);
  const tokens = Math.ceil(chars / CHARS_PER_TOKEN);
  console.log(`gcloud toolset: ${gcloud.operations.length} tools, ~${tokens} tokens`);
  assert.ok(tokens <= 1560, `~${tokens} tokens`);
  assert.deepEqual(gcloud.defaultFor, ['meta'], 'not on project endpoints by default');
});
