// Creates an embedded database cluster (initdb) in the folder given, in a process of
// its own: initdb grows PGlite's WebAssembly memory to ~700 MB, which a process never
// gives back. Run here, the daemon then opens a finished cluster at restart size.
import { PGlite } from '@electric-sql/pglite';
import { PGLITE_CONF } from './pglite-conf.js';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: pglite-init <folder>\n');
  process.exit(2);
}
const db = await PGlite.create({ dataDir: dir, postgresqlconf: PGLITE_CONF });
await db.close();
