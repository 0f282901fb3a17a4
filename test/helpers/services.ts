import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ManualClock } from '../../src/core/clock.js';
import { loadConfig, openApp, type SupervisorApp } from '../../src/app.js';
import { createLogger } from '../../src/core/log.js';
import type { Db } from '../../src/core/db.js';
import { openTestDb, type Backend } from './db.js';

/** Every log line written during a test process, for leak scans. */
export const capturedLogLines: string[] = [];

export function captureStream(): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      capturedLogLines.push(chunk.toString('utf8'));
      done();
    },
  });
}

export type TestServices = SupervisorApp & {
  home: string;
  clock: ManualClock;
};

/** Services on a fresh database, with a temp data dir, a manual clock and captured logs. */
export async function openTestServices(backend: Backend, env: Record<string, string> = {}, options: { sleep?: (ms: number) => Promise<void>; wrapDb?: (db: Db) => Db } = {}): Promise<TestServices> {
  const home = await mkdtemp(join(tmpdir(), 'supervisor-test-'));
  const config = loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_LOG_LEVEL: 'debug', ...env });
  const clock = new ManualClock(new Date('2026-11-23T10:00:00Z'));
  const opened = await openTestDb(backend);
  const db = options.wrapDb?.(opened) ?? opened;
  const services = await openApp({ config, db, clock, log: createLogger('debug', captureStream()), sleep: options.sleep });
  const close = services.close;
  return Object.assign(services, {
    home,
    clock,
    async close() {
      await close();
      await rm(home, { recursive: true, force: true });
    },
  });
}
