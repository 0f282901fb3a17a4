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
