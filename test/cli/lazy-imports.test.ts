/**
 * A CLI call through the daemon, and `--help`, cost little more than starting node
 * (bench/cli.ts prints the figures): what the command line loads before it knows
 * it must open the data dir stays free of the catalog, zod, yaml, the database
 * drivers and every domain. Heavier modules are imported where they are needed.
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

test('the command line loads nothing heavy before it opens the data dir', () => {
  for (const entry of ['cli/main.ts', 'cli/program.ts', 'cli/manifest.ts']) {
    const loaded = closure(join(SRC, entry));
    const heavy = loaded.filter(
      (m) =>
        /^(zod|yaml|pg|fastify|pino|@modelcontextprotocol\/|@electric-sql\/|@googleapis\/)/.test(m) ||
        /^(app|daemon)\.ts$|^(auth|secrets|ports|cloudflare|projects|instructions|gcloud|http|mcp)\//.test(m) ||
        /^catalog\/(catalog|wire|json-schema|local-invoker|validate|docs)\.ts$/.test(m) ||
        /^core\/(config|settings|names|open-db|db-|log|migrate|lock-file)/.test(m),
    );
    assert.deepEqual(heavy, [], `${entry} loads ${heavy.join(', ')}`);
  }
});
