/**
 * The stdio relay is started by Claude Code for every session, so what it loads is
 * its start-up cost: everything `supervisor mcp` imports before it knows it can relay
 * must stay free of the catalog, zod, the MCP SDK and the database drivers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

/** Static imports of a source file (type-only imports are erased and cost nothing). */
function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^import\s+(?!type\b)[^'"]*?from\s+'([^']+)';/gm)].map((m) => m[1]!);
}

/** Every module `entry` loads statically, following our own files. */
function closure(entry: string): string[] {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of staticImports(file)) {
      if (spec.startsWith('.')) stack.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else seen.add(spec);
    }
  }
  return [...seen].map((m) => (m.startsWith(SRC) ? m.slice(SRC.length + 1) : m));
}

test('the relay and the CLI entry load nothing heavy before relaying', () => {
  for (const entry of ['mcp/relay.ts', 'cli/main.ts']) {
    const loaded = closure(join(SRC, entry));
    const heavy = loaded.filter((m) => /^(zod|yaml|pg|fastify|pino|@modelcontextprotocol\/|@electric-sql\/|@googleapis\/)/.test(m) || /^(catalog|app\.ts|secrets|ports|cloudflare|projects)/.test(m));
    assert.deepEqual(heavy, [], `${entry} loads ${heavy.join(', ')}`);
  }
});
