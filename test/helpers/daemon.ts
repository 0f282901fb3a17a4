import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/core/clock.js';
import { loadConfig } from '../../src/app.js';
import { createLogger } from '../../src/core/log.js';
import { startDaemon, type RunningDaemon } from '../../src/daemon.js';
import { openTestDb, type Backend } from './db.js';
import { captureStream } from './services.js';

export interface TestDaemon extends RunningDaemon {
  home: string;
  /** The first admin token (created on start). */
  adminToken: string;
  /** Issues a project token through the services. */
  projectToken(project: string): Promise<string>;
}

/** A daemon on a free port with a fresh database and temp data dir; logs captured for leak scans. */
export async function startTestDaemon(backend: Backend, env: Record<string, string> = {}): Promise<TestDaemon> {
  const home = await mkdtemp(join(tmpdir(), 'supervisor-daemon-'));
  const config = loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_PORT: '0', SUPERVISOR_LOG_LEVEL: 'debug', ...env });
  const daemon = await startDaemon(config, { db: await openTestDb(backend), log: createLogger('debug', captureStream()), clock: new ManualClock(new Date('2026-11-23T10:00:00Z')) });
  return {
    ...daemon,
    home,
    adminToken: daemon.initialAdminToken!,
    projectToken: async (project) => (await daemon.services.auth.tokens.create({ name: `test-${project}`, project })).token,
    async close() {
      await daemon.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}
