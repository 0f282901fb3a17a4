import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

/** Static imports of a source file (type-only imports are erased and cost nothing). */
function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^import\s+(?!type\b)[^'"]*?from\s+'([^']+)';/gm)].map((m) => m[1]!);
}

/**
 * Every module `entry` (a path under src/) loads statically, following our own files:
 * our modules as paths under src/ (`cli/main.ts`), packages by name (`zod`). What a
 * start-up path costs is what this lists; dynamic imports are not followed.
 */
export function importClosure(entry: string): string[] {
  const seen = new Set<string>();
  const stack = [join(SRC, entry)];
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
