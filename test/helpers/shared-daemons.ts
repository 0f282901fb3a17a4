import { cp, mkdtemp, rm } from 'node:fs/promises';
import { after, before } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, openApp, type SupervisorApp } from '../../src/app.js';
import { ManualClock } from '../../src/core/clock.js';
import type { Db } from '../../src/core/db.js';
import { createLogger } from '../../src/core/log.js';
import { openTestDb } from './db.js';
import { keepOpen } from './db-intercept.js';
import { captureStream } from './services.js';
import { startSilencingProxy, type SilencingProxy } from './tcp-proxy.js';

export interface SharedDaemons {
  apps: SupervisorApp[];
  /** The schema they share (a pooled connection of its own, for checks and faults). */
  db: Db;
  close(): Promise<void>;
}

/**
 * `count` daemons (apps in this process, each with its own pool, data dir and
 * notification connections) on one fresh PostgreSQL schema, as on hosts sharing a
 * database. They share the first one's key files, as hosts sharing secrets must.
 * `wrap` lets a test watch one daemon's statements; `url` reaches the database another
 * way for some of them (through a proxy that injects faults; not the first).
 */
export async function openSharedDaemons(
  count: number,
  options: { wrap?: (db: Db, index: number) => Db; env?: Record<string, string>; url?: (index: number) => string | undefined } = {},
): Promise<SharedDaemons> {
  const first = await openTestDb('postgres');
  const schema = (await first.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s;
  const homes: string[] = [];
  const apps: SupervisorApp[] = [];
  const dbs: Db[] = [first];
  try {
    for (let i = 0; i < count; i++) {
      const home = await mkdtemp(join(tmpdir(), `supervisor-shared-${i}-`));
      homes.push(home);
      if (i > 0) {
        await cp(join(homes[0]!, 'keys'), join(home, 'keys'), { recursive: true });
        await cp(join(homes[0]!, 'master.key'), join(home, 'master.key'));
      }
      const own = i === 0 ? first : await openTestDb('postgres', { schema, url: options.url?.(i) });
      if (i > 0) dbs.push(own);
      const db = options.wrap ? options.wrap(own, i) : own;
      const config = loadConfig({ SUPERVISOR_HOME: home, ...options.env });
      apps.push(await openApp({ config, db: keepOpen(db), clock: new ManualClock(new Date('2026-11-23T10:00:00Z')), log: createLogger('warn', captureStream()) }));
    }
  } catch (err) {
    for (const app of apps.reverse()) await app.close().catch(() => undefined);
    throw err;
  }
  return {
    apps,
    db: first,
    async close() {
      for (const app of [...apps].reverse()) await app.close().catch(() => undefined);
      for (const db of dbs.reverse()) await db.close().catch(() => undefined);
      for (const home of homes) await rm(home, { recursive: true, force: true });
    },
  };
}

/**
 * Two daemons on one PostgreSQL, the second reaching it through a silencing proxy: registers
 * the suite's before and after hooks and returns what the tests use once they have run.
 */
export function daemonsWithSilenceableSecond(): { proxy: () => SilencingProxy; apps: () => [SupervisorApp, SupervisorApp] } {
  let proxy: SilencingProxy | undefined;
  let shared: SharedDaemons | undefined;
  before(async () => {
    proxy = await startSilencingProxy();
    shared = await openSharedDaemons(2, { url: (i) => (i === 1 ? proxy!.url : undefined) });
  });
  after(async () => {
    // The proxy first: a silenced connection would keep the daemon waiting for its goodbye.
    await proxy?.close();
    await shared?.close();
  });
  return { proxy: () => proxy!, apps: () => shared!.apps as [SupervisorApp, SupervisorApp] };
}
