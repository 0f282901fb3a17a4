// Writes dist/core/pglite-template.tar.gz: a freshly initialised embedded database cluster (what
// initdb makes, no tables), made here by the PGlite this install has. An embedded database's first
// start unpacks it instead of running initdb in WebAssembly, which takes ~3.5 s of the first
// start's ~6.5. Made by openPglite itself, so it is the cluster a first start would make.
import { writeFile } from 'node:fs/promises';
import { openPglite } from '../dist/core/db-pglite.js';

const db = await openPglite();
try {
  await writeFile(new URL('../dist/core/pglite-template.tar.gz', import.meta.url), Buffer.from(await (await db.dump('gzip')).arrayBuffer()));
} finally {
  await db.close();
}
