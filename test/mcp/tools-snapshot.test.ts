/**
 * The MCP tool list is a public contract: agents pick tools by name and
 * description, and clients cache schemas. Each tool is pinned to its own
 * committed snapshot, test/mcp/__snapshots__/<tool>.json (as github-mcp-server's
 * __toolsnaps__), so a change shows up as a reviewed diff of that tool alone and
 * two domains changing tools at once never touch the same file.
 *
 * After an intended change: UPDATE_SNAPSHOTS=1 node --import tsx scripts/test.mjs test/mcp
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tool } from '@modelcontextprotocol/server';
import { catalog } from '../../src/app.js';
import { toolDefinition } from '../../src/mcp/server.js';

const SNAPSHOTS = join(dirname(fileURLToPath(import.meta.url)), '__snapshots__');
const updating = process.env.UPDATE_SNAPSHOTS === '1';

/** Object keys sorted at every level, so a file only changes when the content does. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}

const tools: Tool[] = catalog.all().map(toolDefinition);
const fileOf = (name: string) => join(SNAPSHOTS, `${name}.json`);

type Schema = { type?: unknown; properties?: Record<string, unknown> };
const propertiesOf = (schema: unknown): Record<string, unknown> => (schema as Schema).properties ?? {};

describe('MCP tool definitions', () => {
  test('no snapshot is left for a tool that no longer exists', () => {
    const names = new Set(tools.map((t) => t.name));
    const stale = existsSync(SNAPSHOTS) ? readdirSync(SNAPSHOTS).filter((f) => f.endsWith('.json') && !names.has(f.slice(0, -5))) : [];
    if (updating) for (const f of stale) rmSync(join(SNAPSHOTS, f));
    else assert.deepEqual(stale, [], 'snapshots of removed tools: run with UPDATE_SNAPSHOTS=1 and commit the deletion');
  });

  test('there is one tool per catalog operation, with unique names', () => {
    assert.equal(tools.length, catalog.all().length);
    assert.equal(new Set(tools.map((t) => t.name)).size, tools.length);
  });

  for (const tool of tools) {
    describe(tool.name, () => {
      test(`matches its snapshot __snapshots__/${tool.name}.json`, () => {
        const text = `${JSON.stringify(sortKeys(tool), null, 2)}\n`;
        const file = fileOf(tool.name);
        if (updating) {
          mkdirSync(dirname(file), { recursive: true });
          writeFileSync(file, text);
          return;
        }
        const where = relative(process.cwd(), file);
        assert.ok(existsSync(file), `${where} is missing: run the tests once with UPDATE_SNAPSHOTS=1 to create it, then commit it`);
        assert.equal(text, readFileSync(file, 'utf8'), `${tool.name} changed; if intended, run with UPDATE_SNAPSHOTS=1 and commit ${where}`);
      });

      test('name is verb_noun snake_case and fits mcp__<server>__<name> in 64 characters', () => {
        assert.match(tool.name, /^[a-z]+_[a-z0-9_]+$/);
        const shown = `mcp__meta__${tool.name}`;
        assert.ok(shown.length <= 64, `${shown} is ${shown.length} characters`);
      });

      test('has a title and a description', () => {
        assert.equal(typeof tool.title, 'string');
        assert.ok(tool.title && tool.title.trim().length > 0);
        assert.ok(tool.description && tool.description.trim().length > 0);
      });

      test('every input field has a description', () => {
        const undocumented = Object.entries(propertiesOf(tool.inputSchema)).filter(([, schema]) => typeof (schema as { description?: unknown }).description !== 'string');
        assert.deepEqual(undocumented.map(([name]) => name), []);
      });

      test('sets all four annotations as booleans', () => {
        const annotations = tool.annotations ?? {};
        for (const hint of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const) {
          assert.equal(typeof annotations[hint], 'boolean', `${hint} is ${String(annotations[hint])}`);
        }
        assert.ok(!(annotations.readOnlyHint && annotations.destructiveHint), 'a read-only tool cannot be destructive');
      });

      test('input and output schemas are objects', () => {
        assert.equal(tool.inputSchema.type, 'object');
        assert.equal(tool.outputSchema?.type, 'object');
      });

      if (tool.name.startsWith('list_') || tool.name === 'get_secret_history') {
        test('pages: takes limit and cursor, answers nextCursor', () => {
          const input = propertiesOf(tool.inputSchema);
          assert.ok('limit' in input, `inputs: ${Object.keys(input).join(', ')}`);
          assert.ok('cursor' in input, `inputs: ${Object.keys(input).join(', ')}`);
          const output = propertiesOf(tool.outputSchema);
          assert.ok('nextCursor' in output, `outputs: ${Object.keys(output).join(', ')}`);
        });
      }
    });
  }
});
