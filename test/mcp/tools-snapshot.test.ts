/**
 * The MCP tool list is a public contract: agents pick tools by name and
 * description, and clients cache schemas. This test pins it to a committed
 * snapshot, so any change shows up as a reviewed diff.
 *
 * After an intended change: UPDATE_SNAPSHOTS=1 node --import tsx scripts/test.mjs test/mcp
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tool } from '@modelcontextprotocol/server';
import { catalog } from '../../src/catalog/index.js';
import { toolDefinition } from '../../src/mcp/server.js';

const SNAPSHOT = join(dirname(fileURLToPath(import.meta.url)), '__snapshots__', 'tools.json');

/** Object keys sorted at every level, so the file only changes when the content does. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}

const tools: Tool[] = catalog.all().map(toolDefinition);
const snapshotText = `${JSON.stringify(sortKeys([...tools].sort((a, b) => a.name.localeCompare(b.name))), null, 2)}\n`;

type Schema = { type?: unknown; properties?: Record<string, unknown> };
const propertiesOf = (schema: unknown): Record<string, unknown> => (schema as Schema).properties ?? {};

describe('MCP tool definitions', () => {
  test('match the committed snapshot test/mcp/__snapshots__/tools.json', () => {
    if (process.env.UPDATE_SNAPSHOTS === '1') {
      mkdirSync(dirname(SNAPSHOT), { recursive: true });
      writeFileSync(SNAPSHOT, snapshotText);
      return;
    }
    const where = relative(process.cwd(), SNAPSHOT);
    assert.ok(existsSync(SNAPSHOT), `${where} is missing: run the tests once with UPDATE_SNAPSHOTS=1 to create it, then commit it`);
    assert.equal(snapshotText, readFileSync(SNAPSHOT, 'utf8'), `the tool list changed; if intended, run with UPDATE_SNAPSHOTS=1 and commit ${where}`);
  });

  test('there is one tool per catalog operation, with unique names', () => {
    assert.equal(tools.length, catalog.all().length);
    assert.equal(new Set(tools.map((t) => t.name)).size, tools.length);
  });

  for (const tool of tools) {
    describe(tool.name, () => {
      test('name is short snake_case and fits mcp__<server>__<name> in 64 characters', () => {
        assert.match(tool.name, /^[a-z][a-z0-9_]*$/);
        const shown = `mcp__meta__${tool.name}`;
        assert.ok(shown.length <= 64, `${shown} is ${shown.length} characters`);
      });

      test('has a title and a description', () => {
        assert.equal(typeof tool.title, 'string');
        assert.ok(tool.title && tool.title.trim().length > 0);
        assert.ok(tool.description && tool.description.trim().length > 0);
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

      const listsThings = tool.name.startsWith('list_') || tool.name === 'secret_history' || tool.name === 'secrets_due';
      if (listsThings) {
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
