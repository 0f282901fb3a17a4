// Creates an embedded database cluster (initdb) in the folder given and applies the
// migrations of the domains given (JSON), in a process of its own: initdb grows PGlite's
// WebAssembly memory to ~700 MB and the migrations fill PostgreSQL's caches, which a
// process never gives back. Run here, the daemon then opens a finished cluster at restart size.
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
const db = await openPglite({ dataDir: dir, createHere: true });
await migrate(db, domains);
await db.close();
