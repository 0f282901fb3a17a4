import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey, keyFingerprint } from '../../src/core/crypto.js';
import type { Db } from '../../src/core/db.js';
import type { SupervisorApp } from '../../src/app.js';
import { openTestDb, skipReason, testBackends } from '../helpers/db.js';
import { interceptStatements } from '../helpers/db-intercept.js';
import { admin, leftovers, masterKeyFileId, openDaemon, readEveryVersion, referencedMasterKeys } from './keyring-fixture.js';
import { isError } from '../helpers/errors.js';

/** The database with every statement run through `around` (which calls `run` to send it). */
const aroundStatements = (db: Db, around: <T>(sql: string, run: () => Promise<T>) => Promise<T>): Db =>
  interceptStatements(db, (sql, _params, run) => around(sql, run), { keepOpen: true });

/** The database through a connection that is lost at the first statement `lost` picks: that one and every later one fail. */
function losingDb(db: Db, lost: (sql: string) => boolean): Db {
  let down = false;
  return aroundStatements(db, (sql, run) => {
    down ||= lost(sql);
    return down ? Promise.reject(new Error('connection lost (test)')) : run();
  });
}

/** The database with a pause after each statement `slow` picks, holding whatever its transaction has locked. */
function pausingDb(db: Db, slow: (sql: string) => boolean, ms: number): Db {
  return aroundStatements(db, async (sql, run) => {
    const result = await run();
    if (slow(sql)) await new Promise((resolve) => setTimeout(resolve, ms));
    return result;
  });
}

/** Picks the n-th statement that matches. */
const nth = (n: number, pattern: RegExp) => {
  let seen = 0;
  return (sql: string) => pattern.test(sql) && ++seen === n;
};

for (const backend of testBackends()) {
  describe(`keyring [${backend}]`, { skip: await skipReason(backend) }, () => {
    let db: Db;
    let home: string;
    const opened: SupervisorApp[] = [];
    const start = async (env: Record<string, string> = {}, on: Db = db) => {
      const services = await openDaemon(on, home, env);
      opened.push(services);
      return services;
    };
    const write = (s: SupervisorApp, path: string, value: string) => s.secrets.set(admin, { path, value });

    before(async () => {
      db = await openTestDb(backend);
    });
    after(() => db.close());
    // A fresh keyring and data dir per test (a fresh database costs seconds on PGlite).
    beforeEach(async () => {
      await db.query('TRUNCATE secret_keys, secrets, secret_versions CASCADE');
      home = await mkdtemp(join(tmpdir(), 'supervisor-keyring-'));
    });
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      await rm(home, { recursive: true, force: true });
    });

    test('after SUPERVISOR_KEY_ROTATE_AFTER encryptions a new data key starts by itself; every version still decrypts', async () => {
      const s = await start({ SUPERVISOR_KEY_ROTATE_AFTER: '3' });
      for (let i = 1; i <= 8; i++) await write(s, 'project/k/auto', `value-${i}`);
      const keys = await s.secrets.keyring.list();
      assert.ok(keys.length >= 3, `${keys.length} data keys`);
      assert.ok(keys.every((k) => k.encryptions <= 3), JSON.stringify(keys));
      assert.deepEqual(keys.filter((k) => k.status === 'active').map((k) => k.id), [keys.at(-1)!.id]);
      const { rows } = await db.query<{ n: number }>('SELECT count(DISTINCT key_id)::int AS n FROM secret_versions');
      assert.ok(rows[0]!.n >= 3);
      const restarted = await start();
      assert.deepEqual([...(await readEveryVersion(restarted)).values()], Array.from({ length: 8 }, (_, i) => `value-${i + 1}`));
    });

    test(
      'a write reaching the encryption limit while a data-key rotation waits for the active key does not deadlock',
      { skip: backend === 'pglite' ? 'PGlite runs one transaction at a time' : undefined },
      async () => {
        const path = 'project/k/limit';
        // Each write pauses while it holds the active key's row, so the rotation comes in between.
        const s = await start({ SUPERVISOR_KEY_ROTATE_AFTER: '2' }, pausingDb(db, (sql) => sql.startsWith('UPDATE secret_keys SET encryptions = encryptions + 1'), 300));
        await write(s, path, 'one');
        const writing = write(s, path, 'two');
        await new Promise((resolve) => setTimeout(resolve, 100));
        await Promise.all([writing, s.secrets.keyring.rotateDataKey('test-admin')]);
        assert.deepEqual([...(await readEveryVersion(s)).values()], ['one', 'two']);
      },
    );

    test(
      'a write racing a run of data-key rotations waits for them and succeeds, never unavailable; each rotation starts its own key',
      { skip: backend === 'pglite' ? 'PGlite runs one transaction at a time' : undefined },
      async () => {
        // Each rotation holds the active key's row a while; a write that found it retired (as it once could) pauses, so the next rotation takes the new row first.
        const paused = aroundStatements(db, async (sql, run) => {
          const result = await run();
          const missed = sql.startsWith('UPDATE secret_keys SET encryptions = encryptions + 1') && (result as { rowCount: number }).rowCount === 0;
          if (missed || sql.includes("WHERE status = 'active' FOR UPDATE")) await new Promise((resolve) => setTimeout(resolve, missed ? 100 : 300));
          return result;
        });
        const s = await start({}, paused);
        await write(s, 'project/k/during', 'before');
        const rotations = [1, 2, 3, 4].map(() => s.secrets.keyring.rotateDataKey('test-admin'));
        await new Promise((resolve) => setTimeout(resolve, 50));
        const results = await Promise.allSettled([write(s, 'project/k/during', 'during'), ...rotations]);
        assert.deepEqual(results.filter((r) => r.status === 'rejected').map((r) => String(r.reason)), []);
        const ids = results.slice(1).map((r) => (r as PromiseFulfilledResult<{ activeKeyId: number }>).value.activeKeyId);
        assert.equal(new Set(ids).size, 4, 'each rotation started its own key');
        assert.deepEqual([...(await readEveryVersion(s)).values()], ['before', 'during']);
      },
    );

    test('concurrent master rotations, data rotations and writes all succeed; a restart reads every version and finds no leftover key', async () => {
      const s = await start();
      await write(s, 'project/k/a', 'first');
      for (let round = 0; round < 3; round++) {
        const results = await Promise.allSettled([
          s.secrets.keyring.rotateMasterKey('test-admin'),
          s.secrets.keyring.rotateMasterKey('test-admin'),
          s.secrets.keyring.rotateMasterKey('test-admin'),
          s.secrets.keyring.rotateDataKey('test-admin'),
          write(s, 'project/k/a', `round-${round}`),
        ]);
        assert.deepEqual(results.filter((r) => r.status === 'rejected').map((r) => String(r.reason)), []);
      }
      const restarted = await start();
      assert.equal((await readEveryVersion(restarted)).size, 4);
      assert.equal((await referencedMasterKeys(db)).length, 1);
      assert.deepEqual(await leftovers(db, home), []);
    });

    test('every rotation is audited in its transaction: by whom, which keys (fingerprints, never keys); the rotate-after rollover too', async () => {
      const { rows: [mark] } = await db.query<{ id: number }>('SELECT COALESCE(MAX(id), 0)::int AS id FROM audit_log');
      const s = await start({ SUPERVISOR_KEY_ROTATE_AFTER: '2' });
      const firstMaster = await masterKeyFileId(home);
      await s.secrets.keyring.rotateDataKey('token:ops');
      const { masterKeyId } = await s.secrets.keyring.rotateMasterKey('token:ops');
      for (const value of ['a', 'b', 'c']) await write(s, 'project/k/rolled', value);
      const { rows } = await db.query<{ actor: string; action: string; detail: Record<string, unknown> }>("SELECT actor, action, detail FROM audit_log WHERE id > $1 AND action LIKE 'keys.%' ORDER BY id", [mark!.id]);
      assert.deepEqual(rows.slice(0, 3), [
        { actor: 'token:ops', action: 'keys.rotate_data', detail: { activeKeyId: 2, retiredKeyId: 1 } },
        { actor: 'token:ops', action: 'keys.rotate_master', detail: { from: [firstMaster], to: masterKeyId, rewrapped: 2 } },
        { actor: 'system:key-rotate-after', action: 'keys.rotate_data', detail: { activeKeyId: 3, retiredKeyId: 2, encryptions: 2 } },
      ]);
      const keys = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM secret_keys');
      assert.equal(rows.filter((r) => r.action === 'keys.rotate_data').length, keys.rows[0]!.n - 1, 'one row per data key started after the first');
    });

    test('a data key id the keyring does not have is an integrity error naming it', async () => {
      const s = await start();
      await assert.rejects(s.secrets.keyring.keyById(999), isError('integrity', /data key 999 is missing from the keyring/));
    });

    test('a restart without the master key the data keys need is refused, naming it and where it goes; the key file back under any name, it starts', async () => {
      const s = await start();
      await write(s, 'project/k/lost', 'still here');
      await s.secrets.keyring.rotateDataKey('test-admin');
      const { masterKeyId } = await s.secrets.keyring.rotateMasterKey('test-admin');
      const saved = await readFile(join(home, 'keys', `${masterKeyId}.key`));
      await rm(join(home, 'keys', `${masterKeyId}.key`));
      await rm(join(home, 'master.key'));
      await assert.rejects(start(), isError('not_configured', new RegExp(`needs master key ${masterKeyId} \\(wraps data keys 1, 2\\), which is not in ${home}/keys; copy the key file there`)));
      await writeFile(join(home, 'keys', 'restored-from-backup.key'), saved, { mode: 0o600 });
      assert.equal((await readEveryVersion(await start())).get('project/k/lost@1'), 'still here');
    });

    test('SUPERVISOR_MASTER_KEY must be the key of the data keys, and cannot be rotated by the daemon', async () => {
      const s = await start();
      await write(s, 'project/k/env', 'from env');
      const fileKey = (await readFile(join(home, 'master.key'), 'utf8')).trim();
      const fileKeyId = await masterKeyFileId(home);
      const other = generateKey();
      await assert.rejects(
        start({ SUPERVISOR_MASTER_KEY: other.toString('hex') }),
        isError('not_configured', new RegExp(`needs master key ${fileKeyId} \\(wraps data key 1\\), but SUPERVISOR_MASTER_KEY holds ${keyFingerprint(other)}`)),
      );
      const fromEnv = await start({ SUPERVISOR_MASTER_KEY: fileKey });
      assert.equal((await readEveryVersion(fromEnv)).get('project/k/env@1'), 'from env');
      await assert.rejects(fromEnv.secrets.keyring.rotateMasterKey('test-admin'), isError('invalid_input', /To rotate it: stop the daemons/));
      await fromEnv.secrets.keyring.rotateDataKey('test-admin');
      assert.deepEqual(await referencedMasterKeys(db), [fileKeyId]);
    });

    describe('a master-key rotation cut short is finished or undone at the next start', () => {
      const interrupt = async (lost: (sql: string) => boolean) => {
        const s = await start();
        await write(s, 'project/k/cut', 'before');
        const before = await masterKeyFileId(home);
        const cut = await start({}, losingDb(db, lost));
        await assert.rejects(cut.secrets.keyring.rotateMasterKey('test-admin'), /connection lost/);
        return before;
      };

      test('lost before the rewrap: the staged key goes, master.key stays', async () => {
        const before = await interrupt(nth(1, /^UPDATE secret_keys SET wrapped/));
        assert.equal((await readdir(join(home, 'keys'))).length, 3, 'old key, staged key, record');
        const restarted = await start();
        assert.deepEqual(await referencedMasterKeys(db), [before]);
        assert.deepEqual(await leftovers(db, home), []);
        assert.equal((await readEveryVersion(restarted)).get('project/k/cut@1'), 'before');
      });

      test('lost after the rewrap committed: the new key goes to master.key, the old one goes', async () => {
        // The keyring is looked at by the start, before the rotation and after its commit: the third look.
        const before = await interrupt(nth(3, /SELECT DISTINCT master_key_id/));
        assert.equal(await masterKeyFileId(home), before);
        const restarted = await start();
        assert.notDeepEqual(await referencedMasterKeys(db), [before]);
        assert.deepEqual(await leftovers(db, home), []);
        assert.equal((await readEveryVersion(restarted)).get('project/k/cut@1'), 'before');
      });

      test('a record whose key file was never written is dropped', async () => {
        const s = await start();
        await write(s, 'project/k/cut', 'before');
        await writeFile(join(home, 'keys', 'rotation.json'), JSON.stringify({ from: [await masterKeyFileId(home)], to: '0123456789abcdef' }), { mode: 0o600 });
        await start();
        assert.deepEqual(await leftovers(db, home), []);
      });

      test('an older version’s master.key.next is finished by fingerprint', async () => {
        const s = await start();
        await write(s, 'project/k/cut', 'before');
        const oldKey = await readFile(join(home, 'master.key'));
        const { masterKeyId } = await s.secrets.keyring.rotateMasterKey('test-admin');
        // The data dir as the older version left it after a crash between its commit and its rename.
        await writeFile(join(home, 'master.key.next'), await readFile(join(home, 'master.key')), { mode: 0o600 });
        await writeFile(join(home, 'master.key'), oldKey, { mode: 0o600 });
        await rm(join(home, 'keys'), { recursive: true });
        const restarted = await start();
        assert.equal(await masterKeyFileId(home), masterKeyId);
        assert.deepEqual(await leftovers(db, home), []);
        assert.equal((await readEveryVersion(restarted)).get('project/k/cut@1'), 'before');
      });
    });
  });
}
