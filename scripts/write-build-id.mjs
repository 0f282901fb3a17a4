// Writes dist/build.json: an id of this build, a hash of everything else in dist/. A daemon
// records the id it started with, so `supervisor daemon status` can tell a daemon that still
// runs code an `npm install` (or a rebuild) has since replaced. The same sources give the same id;
// builtAt says when it was made.
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

const dist = new URL('../dist/', import.meta.url).pathname;
const OUT = 'build.json';
/** Made anew by every build and never byte for byte the same (initdb's timestamps): not source. */
const MADE = new Set([OUT, 'core/pglite-template.tar.gz']);

async function files(dir) {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)])));
  return nested.flat();
}

const hash = createHash('sha256');
for (const file of (await files(dist)).map((f) => relative(dist, f)).filter((f) => !MADE.has(f) && !f.endsWith('.map')).sort()) {
  hash.update(`${file}\0`).update(await readFile(join(dist, file))).update('\0');
}
// builtAt (not hashed) tells which of two builds is the newer: a daemon's, or a command's from another checkout.
await writeFile(join(dist, OUT), `${JSON.stringify({ id: hash.digest('hex').slice(0, 12), builtAt: new Date().toISOString() })}\n`);
