import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { startTestDaemon } from '../helpers/daemon.js';
import { daemonBackend } from '../cli/run-cli.js';

// PostgreSQL when it answers; in CI a missing server fails here instead of quietly using PGlite.
const backend = await daemonBackend();

/** A port in meta's range (3000-3099) nothing listens on right now. */
async function freeMetaPort(): Promise<number> {
  for (let port = 3099; port >= 3000; port--) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port in 3000-3099');
}

test("the daemon reserves its own port as meta/supervisor, so no project is handed it", async () => {
  const port = await freeMetaPort();
  const daemon = await startTestDaemon(backend, { SUPERVISOR_PORT: String(port) });
  try {
    const owners = await daemon.services.ports.list({ project: 'meta', limit: 50 });
    const own = owners.items.find((a) => a.service === 'supervisor');
    assert.equal(own?.port, port);
  } finally {
    await daemon.close();
  }
});
