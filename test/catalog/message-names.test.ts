/**
 * Error messages and hints tell people which operation to call next (`list_secrets`
 * shows the paths…): every operation named that way in the source must exist, so a
 * rename cannot leave a message pointing at nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { catalog } from '../../src/app.js';

test('every operation named in a message exists', () => {
  const names = new Set(catalog.all().map((op) => op.name));
  const missing: string[] = [];
  for (const entry of readdirSync('src', { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = join(entry.parentPath, entry.name);
    // An operation named inside a message: a snake_case word in escaped backticks within a template literal.
    for (const m of readFileSync(file, 'utf8').matchAll(/\\`([a-z]+(?:_[a-z]+)+)\\`/g)) if (!names.has(m[1]!)) missing.push(`${file}: ${m[1]}`);
  }
  assert.deepEqual(missing, []);
});
