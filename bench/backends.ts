import { skipReason, type Backend } from '../test/helpers/db.js';

/**
 * Runs `fn` on each storage backend that is reachable here, PostgreSQL first; a backend that
 * is not says why in the output instead of failing the whole run.
 */
export async function onEachBackend(fn: (backend: Backend) => Promise<void>, backends: readonly Backend[] = ['postgres', 'pglite']): Promise<void> {
  for (const backend of backends) {
    const reason = await skipReason(backend).catch((err: Error) => err.message);
    if (reason) {
      console.log(`  [${backend}] not run: ${reason}`);
      continue;
    }
    await fn(backend);
  }
}
