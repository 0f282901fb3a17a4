import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { catalog } from '../../src/catalog/index.js';
import { SETTINGS } from '../../src/core/config.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

test('the README documents every setting and every MCP tool', () => {
  for (const setting of Object.values(SETTINGS)) assert.ok(readme.includes(`\`${setting.env}\``), `${setting.env} missing from README`);
  for (const op of catalog.all()) assert.ok(readme.includes(`\`${op.name}\``), `${op.name} missing from README`);
});

test('the README quick start is exactly npm install, npm start', () => {
  assert.match(readme, /## Quick start\s+```sh\nnpm install\nnpm start\n```/);
});
