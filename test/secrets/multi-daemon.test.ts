/**
 * Several daemons on one PostgreSQL database: they must unwrap the same data keys
 * whoever rotates what (README, "Several daemons on one database").
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from '../../src/core/db.js';
import { SupervisorError } from '../../src/core/errors.js';
import { generateKey } from '../../src/core/crypto.js';
import type { SupervisorApp } from '../../src/app.js';
import { skipReason } from '../helpers/db.js';
import { admin, openDaemon, readEveryVersion, referencedMasterKeys, sharedSchema } from './keyring-fixture.js';

describe('several daemons on one database [postgres]', { skip: await skipReason('postgres') }, () => {
  let schema: Awaited<ReturnType<typeof sharedSchema>>;
  const pools: Db[] = [];
  const homes: string[] = [];
  const daemons: SupervisorApp[] = [];

  before(async () => {
    schema = await sharedSchema();
  });
  after(async () => {
    for (const d of daemons) await d.close();
    for (const p of pools) await p.close();
    for (const h of homes) await rm(h, { recursive: true, force: true });
    await schema.drop();
  });

  const newHome = async () => {
    const home = await mkdtemp(join(tmpdir(), 'supervisor-multi-'));
    homes.push(home);
    return home;
  };
  /** A daemon process of its own: its own pool on the shared database. */
  const start = async (home: string, env: Record<string, string> = {}) => {
    const pool = await schema.open(4);
    pools.push(pool);
    const daemon = await openDaemon(pool, home, env);
    daemons.push(daemon);
    return daemon;
  };
  const stop = async (daemon: SupervisorApp) => {
    daemons.splice(daemons.indexOf(daemon), 1);
    await daemon.close();
  };
  const clearKeyring = () => schema.open(1).then(async (db) => {
    await db.query('TRUNCATE secret_keys, secrets, secret_versions CASCADE');
    await db.close();
  });

  test('two daemons sharing a data dir rotate master and data keys in turn while both write: every version decrypts on both, and both restart', async () => {
    await clearKeyring();
    const home = await newHome();
    let [a, b] = [await start(home), await start(home)];
    const written = new Map<string, string>();
    for (let round = 0; round < 6; round++) {
      const [x, y] = round % 2 === 0 ? [a, b] : [b, a];
      const results = await Promise.all([
        x.secrets.keyring.rotateMasterKey('test-admin'),
        y.secrets.keyring.rotateDataKey('test-admin'),
        x.secrets.set(admin, { path: 'project/multi/x', value: `x ${round}` }),
        y.secrets.set(admin, { path: 'project/multi/y', value: `y ${round}` }),
      ]);
      written.set(`project/multi/x@${results[2].version}`, `x ${round}`);
      written.set(`project/multi/y@${results[3].version}`, `y ${round}`);
    }
    assert.deepEqual(await readEveryVersion(a), written);
    assert.deepEqual(await readEveryVersion(b), written);
    assert.equal((await referencedMasterKeys(a.db)).length, 1);
    await stop(a);
    await stop(b);
    [a, b] = [await start(home), await start(home)];
    assert.deepEqual(await readEveryVersion(a), written);
    assert.deepEqual(await readEveryVersion(b), written);
  });

  test('a daemon with its own copy of the key files, behind a rotation, never splits the keyring: it names the key it needs, and works once the file is copied', async () => {
    await clearKeyring();
    const [homeA, homeB] = [await newHome(), await newHome()];
    const a = await start(homeA);
    await copyFile(join(homeA, 'master.key'), join(homeB, 'master.key'));
    const b = await start(homeB);
    await b.secrets.set(admin, { path: 'project/multi/before', value: 'before' });

    const { masterKeyId } = await a.secrets.keyring.rotateMasterKey('test-admin');
    const needs = (err: unknown) => err instanceof SupervisorError && err.code === 'not_configured' && err.message.includes(`needs master key ${masterKeyId}`);
    await assert.rejects(b.secrets.keyring.rotateDataKey('test-admin'), needs);
    // What B has unwrapped keeps working; nothing is wrapped by its old key.
    await b.secrets.set(admin, { path: 'project/multi/during', value: 'during' });
    await a.secrets.keyring.rotateDataKey('test-admin');
    await assert.rejects(b.secrets.set(admin, { path: 'project/multi/during', value: 'unwritable' }), needs);
    await assert.rejects(start(homeB), needs);
    assert.deepEqual(await referencedMasterKeys(a.db), [masterKeyId]);

    await copyFile(join(homeA, 'master.key'), join(homeB, 'keys', 'copied-from-a.key'));
    await b.secrets.set(admin, { path: 'project/multi/after', value: 'after' });
    await b.secrets.keyring.rotateDataKey('test-admin');
    const everything = await readEveryVersion(a);
    assert.deepEqual([...everything.values()], ['after', 'before', 'during']);
    assert.deepEqual(await readEveryVersion(b), everything);
    assert.deepEqual(await readEveryVersion(await start(homeB)), everything);
    assert.deepEqual(await readEveryVersion(await start(homeA)), everything);
  });

  test('daemons with separate data dirs and the same SUPERVISOR_MASTER_KEY share the keyring; none can rotate the master key', async () => {
    await clearKeyring();
    const env = { SUPERVISOR_MASTER_KEY: generateKey().toString('base64') };
    const [a, b] = [await start(await newHome(), env), await start(await newHome(), env)];
    await a.secrets.set(admin, { path: 'project/multi/env', value: 'one' });
    await b.secrets.keyring.rotateDataKey('test-admin');
    await b.secrets.set(admin, { path: 'project/multi/env', value: 'two' });
    await a.secrets.keyring.rotateDataKey('test-admin');
    assert.deepEqual([...(await readEveryVersion(a)).values()], ['one', 'two']);
    assert.deepEqual(await readEveryVersion(b), await readEveryVersion(a));
    await assert.rejects(b.secrets.keyring.rotateMasterKey('test-admin'), /SUPERVISOR_MASTER_KEY, so the daemon cannot replace it/);
  });
});
