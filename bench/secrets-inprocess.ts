import { adminPrincipal } from '../src/core/principal.js';
import { LocalInvoker } from '../src/catalog/local-invoker.js';
import type { Backend } from '../test/helpers/db.js';
import { openTestServices } from '../test/helpers/services.js';
import { measurePair, printComparison } from './stats.js';

const N = 5000;

/** get_secret in process (with access tracking and audit) next to a bare parameterized SELECT on the same pool. */
export async function benchInProcessGet(backend: Backend): Promise<void> {
  const s = await openTestServices(backend);
  try {
    const admin = adminPrincipal('bench');
    const path = 'project/bench/database_url';
    await s.secrets.set(admin, { path, value: 'postgres://bench:secret@localhost/bench' });
    const invoker = new LocalInvoker(s, admin, 'internal');
    const bareSelect = () => s.db.query('SELECT id, path, current_version FROM secrets WHERE path = $1', [path]);
    const [service, bare] = await measurePair(N, () => s.secrets.get(admin, { path }), bareSelect);
    const [viaCatalog, bare2] = await measurePair(N, () => invoker.invoke('get_secret', { path }), bareSelect);
    console.log(`\n[${backend}] in-process get_secret, ${N} sequential calls`);
    printComparison('get_secret (service)', service, bare, 'bare SELECT (same pool)');
    printComparison('get_secret (catalog: +validation, record)', viaCatalog, bare2, 'bare SELECT (same pool)');
  } finally {
    await s.close();
  }
}
