// Creates an embedded database cluster (the build's template, else initdb) in the folder given and applies the
// migrations of the domains given (JSON), in a process of its own: initdb grows PGlite's
// WebAssembly memory to ~700 MB and the migrations fill PostgreSQL's caches, which a
// process never gives back. Run here, the daemon then opens a finished cluster at restart size.
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { openPglite } from './db-pglite.js';
import { migrate, type DomainMigrations } from './migrate.js';

const [dir, domainsJson = '[]'] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: pglite-init <folder> [<domains as JSON>]\n');
  process.exit(2);
}
const domains: DomainMigrations[] = (JSON.parse(domainsJson) as Array<{ id: string; migrations?: string }>).map((d) => ({
  id: d.id,
  migrations: d.migrations === undefined ? undefined : new URL(d.migrations),
}));
const db = await openFresh(dir);
await migrate(db, domains);
await db.close();

/**
 * The build's template cluster unpacked (scripts/write-pglite-template.mjs), or initdb where there
 * is none (not built yet) or it cannot be used (a PGlite changed without a rebuild).
 */
async function openFresh(folder: string) {
  // Next to this file when it runs compiled; the build's when it runs from src/ under tsx (the
  // tests), which would otherwise run initdb (~5 s of CPU, 800 MB) for every cluster they make.
  const template = new URL(`${import.meta.url.endsWith('.ts') ? '../../dist/core/' : './'}pglite-template.tar.gz`, import.meta.url);
  if (existsSync(template)) {
    try {
      return await openPglite({ dataDir: folder, createHere: true, loadDataDir: new Blob([await readFile(template)]) });
    } catch (err) {
      process.stderr.write(`the build's database template could not be used (${(err as Error).message}); creating the database from scratch\n`);
      await rm(folder, { recursive: true, force: true });
    }
  }
  return openPglite({ dataDir: folder, createHere: true });
}
