import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { catalog, DOMAINS } from '../../src/app.js';
import { replaceBetweenMarkers, settingsTable, toolsetsTable } from '../../src/catalog/docs.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

test('the README settings and toolsets tables are the ones the manifests generate (npm run docs)', () => {
  const generated = replaceBetweenMarkers(replaceBetweenMarkers(readme, 'settings', settingsTable(DOMAINS)), 'toolsets', toolsetsTable(catalog.toolsets));
  assert.equal(readme, generated, 'README.md is out of date: run `npm run docs`');
});

test('the README documents every MCP tool', () => {
  for (const op of catalog.all()) assert.ok(readme.includes(`\`${op.name}\``), `${op.name} missing from README`);
});

test('the README quick start is exactly npm install, npm start', () => {
  assert.match(readme, /## Quick start\s+```sh\nnpm install\nnpm start\n```/);
});

test('the README gets `supervisor` on PATH one documented way and never runs it through npx', () => {
  assert.match(readme, /```sh\nnpm link\n```/);
  assert.doesNotMatch(readme, /npx supervisor/);
  // Stdio lines name this checkout's entry, not a package to fetch.
  for (const line of readme.split('\n').filter((l) => l.startsWith('claude mcp add') && !l.includes('--transport http'))) {
    assert.match(line, /-- node \/path\/to\/clone\/dist\/cli\/supervisor\.cjs mcp --project [a-z]+$/, line);
  }
});

test("the README's CLI table names only flags its commands take, and no field through --input that has a flag of its own", async () => {
  const { describeCommands } = await import('../../src/cli/commands.js');
  const { kebab } = await import('../../src/cli/cli-terms.js');
  const commands = new Map(describeCommands(catalog).commands.map((c) => [c.name, c]));
  const global = new Set(['json', 'field', 'f', 'wide', 'all', 'help', 'input']);
  const problems: string[] = [];
  for (const row of readme.split('\n').filter((l) => l.startsWith('| `supervisor '))) {
    const [usage, ops] = row.split(' | ');
    // Built-in commands name their operation in parentheses: their flags are their own.
    const specs = [...(ops ?? '').matchAll(/^`([a-z_]+)`| \/ `([a-z_]+)`/g)].map((m) => commands.get(m[1] ?? m[2]!)).filter((c) => c !== undefined);
    if (specs.length === 0) continue;
    const takes = new Set(specs.flatMap((c) => [
      ...c.input.flatMap((f) => (f.type === 'boolean' ? [kebab(f.name), `no-${kebab(f.name)}`] : [kebab(f.name)])),
      ...Object.keys(c.cli.flags ?? {}),
      ...(c.cli.wait ? ['wait'] : []),
    ]));
    for (const [, flag] of (usage ?? '').matchAll(/--([a-z][a-z0-9-]*)/g)) {
      if (!takes.has(flag!) && !global.has(flag!)) problems.push(`${usage}: --${flag} is not a flag of ${specs.map((c) => c.name).join(' / ')}`);
    }
    for (const [, field] of (usage ?? '').matchAll(/--input '\{[^']*?"([a-zA-Z]+)":(?!null)/g)) {
      if (specs.some((c) => c.input.some((f) => f.name === field))) problems.push(`${usage}: pass ${field} as --${kebab(field!)}, not through --input`);
    }
  }
  assert.deepEqual(problems, []);
});
