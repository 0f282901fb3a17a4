/**
 * Starting `node --import tsx` costs seconds on a loaded machine, most of it tsx
 * itself, and the kill -9 loop starts a process per cycle. So its worker runs as
 * plain JavaScript: the worker and every module of ours it imports, transpiled once
 * per run (TypeScript's transpileModule: no type check, `npm run typecheck` does
 * that) into node_modules/.cache, laid out like the repository so relative imports
 * hold and packages resolve from the project's node_modules. Not a test file.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const RELATIVE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*)['"](\.{1,2}\/[^'"]+)\.js['"]/g;

export interface PlainJs {
  /** The transpiled entry, to run with plain `node`. */
  entry: string;
  remove(): Promise<void>;
}

export async function transpileForNode(entryTs: string): Promise<PlainJs> {
  await mkdir(join(REPO, 'node_modules/.cache'), { recursive: true });
  const root = await mkdtemp(join(REPO, 'node_modules/.cache/plain-js-'));
  await writeFile(join(root, 'package.json'), '{"type":"module"}\n');
  const queue = [resolve(entryTs)];
  const done = new Set<string>();
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (done.has(file)) continue;
    done.add(file);
    const { outputText } = ts.transpileModule(await readFile(file, 'utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2023 },
    });
    const out = join(root, relative(REPO, file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, outputText);
    // Type-only imports are gone from the output: only modules that run are followed.
    for (const [, specifier] of outputText.matchAll(RELATIVE_IMPORT)) queue.push(resolve(dirname(file), `${specifier}.ts`));
  }
  return { entry: join(root, relative(REPO, resolve(entryTs))).replace(/\.ts$/, '.js'), remove: () => rm(root, { recursive: true, force: true }) };
}
