/**
 * The secret read cache: hot reads skip the database, and no read is ever served
 * stale — after a write, a rollback, a delete or a master-key rotation here; after a
 * write on another daemon (a notification); and while the notification connection
 * is down (the cache is then not used at all).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, openApp, type SupervisorApp } from '../../src/app.js';
import { ManualClock } from '../../src/core/clock.js';
import type { Db } from '../../src/core/db.js';
import { createLogger } from '../../src/core/log.js';
import { adminPrincipal } from '../../src/core/principal.js';
import { ReadCache } from '../../src/secrets/read-cache.js';
import { openTestDb, skipReason, terminateBackend, testBackends } from '../helpers/db.js';
import { interceptStatements } from '../helpers/db-intercept.js';
import { isError } from '../helpers/errors.js';
import { captureStream } from '../helpers/services.js';
import { daemonsWithSilenceableSecond, openSharedDaemons, type SharedDaemons } from '../helpers/shared-daemons.js';
import { within } from '../helpers/wait.js';

const admin = adminPrincipal('test-admin');
const READS = 'FROM secrets s JOIN secret_versions v';

describe('ReadCache', () => {
  const row = (size: number) => ({ ciphertext: Buffer.alloc(size) });

  test('keeps the most recently used within its entry and byte bounds', () => {
    const cache = new ReadCache<{ ciphertext: Buffer }>({ entries: 2, bytes: 10_000 });
    cache.setTrusted(true);
    for (const p of ['a', 'b']) cache.put(p, cache.generation(p), row(10), 1);
    cache.get('a');
    cache.put('c', cache.generation('c'), row(10), 1);
    assert.deepEqual(['a', 'b', 'c'].map((p) => cache.get(p) !== undefined), [true, false, true]);
    const small = new ReadCache<{ ciphertext: Buffer }>({ entries: 100, bytes: 1_500 });
    small.setTrusted(true);
    for (const p of ['a', 'b', 'c']) small.put(p, small.generation(p), row(100), 1);
    assert.ok(small.size <= 2, `${small.size} entries in 1,500 bytes`);
  });

  test('a row read before a forget (or a clear) is not stored after it', () => {
    const cache = new ReadCache<{ ciphertext: Buffer }>({ entries: 10, bytes: 10_000 });
    cache.setTrusted(true);
    const before = cache.generation('a');
    cache.forget('a');
    cache.put('a', before, row(1), 1);
    assert.equal(cache.get('a'), undefined);
    const beforeClear = cache.generation('b');
    cache.clear();
    cache.put('b', beforeClear, row(1), 1);
    assert.equal(cache.get('b'), undefined);
  });

  test('untrusted, it holds nothing and answers nothing', () => {
    const cache = new ReadCache<{ ciphertext: Buffer }>({ entries: 10, bytes: 10_000 });
    cache.put('a', cache.generation('a'), row(1), 1);
    assert.equal(cache.get('a'), undefined);
    cache.setTrusted(true);
    cache.put('a', cache.generation('a'), row(1), 1);
    cache.setTrusted(false);
    assert.equal(cache.size, 0);
  });
});

/** A database that counts the statements that read a secret's row. */
function counting(db: Db): { db: Db; reads: () => number } {
  let reads = 0;
  const counted = interceptStatements(db, (sql, _params, run) => {
    if (sql.includes(READS)) reads++;
    return run();
  });
  return { db: counted, reads: () => reads };
}

async function openDaemon(db: Db, home: string): Promise<SupervisorApp> {
  return openApp({ config: loadConfig({ SUPERVISOR_HOME: home }), db, clock: new ManualClock(new Date('2026-11-23T10:00:00Z')), log: createLogger('warn', captureStream()) });
}

for (const backend of testBackends()) {
  describe(`secret reads from the cache [${backend}]`, { skip: await skipReason(backend) }, () => {
    let home: string;
    let app: SupervisorApp;
    let reads: () => number;
    before(async () => {
      home = await mkdtemp(join(tmpdir(), 'supervisor-cache-'));
      const counted = counting(await openTestDb(backend));
      reads = counted.reads;
      app = await openDaemon(counted.db, home);
    });
    after(async () => {
      await app?.close();
      await rm(home, { recursive: true, force: true });
    });

    test('a hot read costs no database round trip, and is still tracked and audited', async () => {
      await app.secrets.set(admin, { path: 'project/c/hot', value: 'one' });
      await app.secrets.get(admin, { path: 'project/c/hot' });
      const before = reads();
      for (let i = 0; i < 5; i++) assert.equal((await app.secrets.get(admin, { path: 'project/c/hot' })).value, 'one');
      assert.equal(reads(), before, 'no read statement for cached rows');
      assert.equal((await app.secrets.get(admin, { path: 'project/c/hot' })).readCount, 7);
      const audited = await app.audit.list({ target: 'project/c/hot', action: 'secret.read', limit: 50 });
      assert.equal(audited.length, 7);
      // Read by an export (or a run environment) too: the cached answer's count follows, as list_secrets' does.
      await app.secrets.readMany(admin, 'project/c/', 10);
      assert.equal((await app.secrets.get(admin, { path: 'project/c/hot' })).readCount, 9);
    });

    test('read-your-write: a write, a rollback, a delete and a restore are seen at once', async () => {
      const path = 'project/c/changing';
      await app.secrets.set(admin, { path, value: 'v1' });
      assert.equal((await app.secrets.get(admin, { path })).value, 'v1');
      await app.secrets.set(admin, { path, value: 'v2' });
      assert.equal((await app.secrets.get(admin, { path })).value, 'v2');
      await app.secrets.rollback(admin, { path, toVersion: 1 });
      const rolled = await app.secrets.get(admin, { path });
      assert.deepEqual([rolled.value, rolled.version], ['v1', 3]);
      await app.secrets.delete(admin, { path });
      await assert.rejects(app.secrets.get(admin, { path }), isError('not_found', /was deleted/));
      await app.secrets.restore(admin, { path });
      assert.equal((await app.secrets.get(admin, { path })).value, 'v1');
    });

    test('a master-key rotation never leaves a row that cannot be read', async () => {
      const path = 'project/c/rotated';
      await app.secrets.set(admin, { path, value: 'before rotation' });
      await app.secrets.get(admin, { path });
      await app.secrets.keyring.rotateMasterKey('test-admin');
      await app.secrets.keyring.rotateDataKey('test-admin');
      assert.equal((await app.secrets.get(admin, { path })).value, 'before rotation');
      await app.secrets.set(admin, { path, value: 'after rotation' });
      assert.equal((await app.secrets.get(admin, { path })).value, 'after rotation');
    });

    test('access is checked on every read, cached or not', async () => {
      await app.secrets.get(admin, { path: 'project/c/hot' });
      await assert.rejects(app.secrets.get({ role: 'project', project: 'other', actor: 'token:other' }, { path: 'project/c/hot' }), isError('forbidden'));
    });
  });
}

describe('two daemons on one PostgreSQL', { skip: await skipReason('postgres') }, () => {
  let shared: SharedDaemons;
  let a: SupervisorApp;
  let b: SupervisorApp;
  let readsOnB: () => number = () => 0;
  before(async () => {
    shared = await openSharedDaemons(2, {
      wrap: (db, i) => {
        if (i === 0) return db;
        const counted = counting(db);
        readsOnB = counted.reads;
        return counted.db;
      },
    });
    [a, b] = shared.apps as [SupervisorApp, SupervisorApp];
  });
  after(() => shared?.close());

  /** Reads on B until it sees `value` (bounded); the wait is what the notification took. */
  async function seenOnB(path: string, value: string): Promise<void> {
    const deadline = Date.now() + 5_000;
    while ((await b.secrets.get(admin, { path })).value !== value) {
      assert.ok(Date.now() < deadline, `B still reads the old value of ${path}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  test("a write on A reaches B's cache by notification", async () => {
    const path = 'project/c/shared';
    await a.secrets.set(admin, { path, value: 'first' });
    assert.equal((await b.secrets.get(admin, { path })).value, 'first');
    await a.secrets.set(admin, { path, value: 'second' });
    await seenOnB(path, 'second');
  });

  test("with B's notification connection gone, B reads from the database and is never stale; back, it caches again", async () => {
    const path = 'project/c/outage';
    await a.secrets.set(admin, { path, value: 'before' });
    assert.equal((await b.secrets.get(admin, { path })).value, 'before');
    const pid = b.secrets.cacheStatus().listenerPid;
    assert.ok(pid, 'B listens');
    await terminateBackend(pid);
    // Until B notices, it may still serve the cached row; once it notices, it must not.
    const deadline = Date.now() + 5_000;
    while (b.secrets.cacheStatus().enabled && b.secrets.cacheStatus().listenerPid === pid) {
      assert.ok(Date.now() < deadline, 'B noticed the lost connection');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await a.secrets.set(admin, { path, value: 'during the outage' });
    const before = readsOnB();
    assert.equal((await b.secrets.get(admin, { path })).value, 'during the outage');
    assert.ok(readsOnB() > before || b.secrets.cacheStatus().listenerPid !== pid, 'read from the database');
    // It comes back by itself and the cache holds nothing from before.
    const back = Date.now() + 10_000;
    while (!b.secrets.cacheStatus().enabled) {
      assert.ok(Date.now() < back, 'B listens again');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal((await b.secrets.get(admin, { path })).value, 'during the outage');
    await a.secrets.set(admin, { path, value: 'after' });
    await seenOnB(path, 'after');
  });
});

describe('a daemon whose notification connection goes silent [postgres]', { skip: await skipReason('postgres') }, () => {
  const daemons = daemonsWithSilenceableSecond();

  test('stops serving its cache within 1 s (no stale read after a write on A), and listens again by itself', async () => {
    const [a, b] = daemons.apps();
    const path = 'project/c/silent';
    await a.secrets.set(admin, { path, value: 'before' });
    // B caches the row once it has heard of that write (which would evict it).
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await b.secrets.get(admin, { path })).value, 'before');
    assert.equal(b.secrets.cacheStatus().entries, 1, 'B caches the row');
    const pid = b.secrets.cacheStatus().listenerPid;
    assert.ok(pid, 'B listens');
    // No reset, no error: only silence, as when a NAT forgets an idle connection.
    await daemons.proxy().silence(pid);
    await a.secrets.set(admin, { path, value: 'after' });
    await within(1_000, 'B reads the new value', async () => (await b.secrets.get(admin, { path })).value === 'after');
    await within(10_000, 'B listens again', () => ![undefined, pid].includes(b.secrets.cacheStatus().listenerPid));
    await a.secrets.set(admin, { path, value: 'later' });
    await within(1_000, 'B hears writes again', async () => (await b.secrets.get(admin, { path })).value === 'later');
  });
});

describe('a read racing the removal of its project [postgres]', { skip: await skipReason('postgres') }, () => {
  // PostgreSQL only: there a read on another connection sees the rows as they were until the
  // removal commits; on PGlite's one connection a read waits for the removal's transaction.
  let home: string;
  let app: SupervisorApp;
  let during: (() => Promise<void>) | undefined;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'supervisor-cache-'));
    const db = interceptStatements(await openTestDb('postgres'), async (sql, params, run) => {
      const result = await run();
      if (sql.startsWith('DELETE FROM projects')) await during?.();
      return result;
    });
    app = await openDaemon(db, home);
  });
  after(async () => {
    await app?.close();
    await rm(home, { recursive: true, force: true });
  });

  test('does not leave the deleted secret in the cache once the removal commits', async () => {
    const path = 'project/racing/db_url';
    await app.projects.add('test-admin', { name: 'racing' });
    await app.secrets.set(admin, { path, value: 'old' });
    during = async () => {
      during = undefined;
      // Between the secrets' release and the commit: the row is still live for this read.
      assert.equal((await app.secrets.get(admin, { path })).value, 'old');
    };
    await app.projects.remove('test-admin', { name: 'racing', force: true });
    assert.equal(during, undefined, 'the read ran during the removal');
    await assert.rejects(app.secrets.get(admin, { path }), isError('not_found', /was deleted/));
  });
});
