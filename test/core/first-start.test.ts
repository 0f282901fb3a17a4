// The admin token a first start makes is shown once, in the banner of a start that succeeded:
// a first start that fails (its port taken) must not make it, or the next start, finding an
// admin token already, shows none and the new user has no way in but `token create --admin`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/app.js';
import { createLogger } from '../../src/core/log.js';
import { startDaemon } from '../../src/daemon.js';
import { captureStream } from '../helpers/services.js';
import { isError } from '../helpers/errors.js';

test('a first start that fails on a taken port makes no admin token; the next start shows one', async () => {
  const home = await mkdtemp(join(tmpdir(), 'supervisor-first-'));
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as { port: number }).port;
  const log = () => createLogger('warn', captureStream());
  try {
    await assert.rejects(startDaemon(loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_PORT: String(port) }), { log: log() }), isError('conflict', new RegExp(`^port ${port} on 127\\.0\\.0\\.1 is in use`)));
    const daemon = await startDaemon(loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_PORT: '0' }), { log: log() });
    try {
      assert.match(daemon.initialAdminToken ?? '', /^svt_/, 'the first start that succeeds shows the admin token');
      assert.deepEqual((await daemon.services.auth.tokens.list({})).map((t) => t.name), ['initial-admin']);
    } finally {
      await daemon.close();
    }
  } finally {
    taken.close();
    await rm(home, { recursive: true, force: true });
  }
});
