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
  /** Issues a project token through the services (the project is added when it does not exist). */
  projectToken(project: string): Promise<string>;
}

/**
 * A daemon on a free port with a fresh database and temp data dir; logs captured for leak scans.
 * With `home`, in that data dir (kept on close): a second start there is the daemon restarted.
 */
export async function startTestDaemon(backend: Backend, env: Record<string, string> = {}, options: { home?: string } = {}): Promise<TestDaemon> {
  const home = options.home ?? (await mkdtemp(join(tmpdir(), 'supervisor-daemon-')));
  const config = loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_PORT: '0', SUPERVISOR_LOG_LEVEL: 'debug', ...env });
  const daemon = await startDaemon(config, { db: await openTestDb(backend), log: createLogger('debug', captureStream()), clock: new ManualClock(new Date('2026-11-23T10:00:00Z')) });
  return {
    ...daemon,
    home,
    // A start with a database that has an admin already prints none: '' then.
    adminToken: daemon.initialAdminToken ?? '',
    // As create_token does, for a project that exists (added here when it is not yet).
    projectToken: async (project) => {
      await daemon.services.projects.add('test', { name: project });
      return (await daemon.services.auth.tokens.create({ name: `test-${project}`, project })).token;
    },
    async close() {
      await daemon.close();
      if (!options.home) await rm(home, { recursive: true, force: true });
    },
  };
}
