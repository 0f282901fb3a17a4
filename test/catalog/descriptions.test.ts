/**
 * Agents choose arguments by their descriptions: every input field of every tool has
 * one, nested fields included, and none is copied from another domain where it means
 * something else (project_add's description once read "What the port is for").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { catalog } from '../../src/app.js';
import { toolDefinition } from '../../src/mcp/server.js';

type Schema = { description?: string; properties?: Record<string, Schema>; items?: Schema; anyOf?: Schema[]; oneOf?: Schema[] };

/** Fields without a description, as tool.path.to.field. */
function undescribed(schema: Schema, at: string): string[] {
  const missing: string[] = [];
  for (const [name, field] of Object.entries(schema.properties ?? {})) {
    const where = `${at}.${name}`;
    const variants = [field, ...(field.anyOf ?? []), ...(field.oneOf ?? [])];
    if (!variants.some((v) => typeof v.description === 'string' && v.description.trim() !== '')) missing.push(where);
    for (const v of variants) {
      if (v.properties) missing.push(...undescribed(v, where));
      if (v.items?.properties) missing.push(...undescribed(v.items, `${where}[]`));
    }
  }
  return missing;
}

const tools = catalog.all().map(toolDefinition);

test('every input field of every tool has a description', () => {
  const missing = tools.flatMap((tool) => undescribed(tool.inputSchema as Schema, tool.name));
  const fields = tools.reduce((n, tool) => n + Object.keys((tool.inputSchema as Schema).properties ?? {}).length, 0);
  assert.ok(fields > 100, `only ${fields} input fields seen: is the walk reading the schemas?`);
  assert.deepEqual(missing, [], `${missing.length} input fields without a description`);
});

test('no input field of a tool outside ports describes a port', () => {
  const wrong = tools
    .filter((tool) => !/port/.test(tool.name))
    .flatMap((tool) => Object.entries((tool.inputSchema as Schema).properties ?? {}).filter(([, f]) => /what the port is for/i.test(f.description ?? '')).map(([name]) => `${tool.name}.${name}`));
  assert.deepEqual(wrong, []);
});
