/**
 * The AAD barrier at the secrets layer: a ciphertext is bound to its path, its
 * version and its key id, so moving bytes between rows never yields a value.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SupervisorError } from '../../src/core/errors.js';
import { wrapDataKey } from '../../src/secrets/keyring.js';
import { skipReason, testBackends } from '../helpers/db.js';
import { openTestServices, type TestServices } from '../helpers/services.js';
import { admin, masterKeyFile } from './keyring-fixture.js';

const integrity = (err: unknown) => {
  assert.ok(err instanceof SupervisorError, String(err));
  assert.equal(err.code, 'integrity', err.message);
  return true;
};

for (const backend of testBackends()) {
  describe(`ciphertext barriers [${backend}]`, { skip: await skipReason(backend) }, () => {
    let s: TestServices;
    before(async () => {
      s = await openTestServices(backend);
    });
    after(() => s.close());

    const versionRow = async (path: string, version: number) => {
      const { rows } = await s.db.query<{ secret_id: number; key_id: number; iv: Buffer; ciphertext: Buffer }>(
        'SELECT v.secret_id, v.key_id, v.iv, v.ciphertext FROM secret_versions v JOIN secrets s ON s.id = v.secret_id WHERE s.path = $1 AND v.version = $2',
        [path, version],
      );
      return rows[0]!;
    };
    /** Puts `from`'s sealed bytes into the row of (path, version), as someone with write access to the database could. */
    const copySealed = async (from: { iv: Buffer; ciphertext: Buffer; key_id: number }, path: string, version: number) => {
      const target = await versionRow(path, version);
      await s.db.query('UPDATE secret_versions SET iv = $3, ciphertext = $4, key_id = $5 WHERE secret_id = $1 AND version = $2', [target.secret_id, version, from.iv, from.ciphertext, from.key_id]);
    };

    test('a ciphertext copied to another path fails with integrity', async () => {
      await s.secrets.set(admin, { path: 'project/aad/source', value: 'source value' });
      await s.secrets.set(admin, { path: 'project/aad/target', value: 'target value' });
      await copySealed(await versionRow('project/aad/source', 1), 'project/aad/target', 1);
      await assert.rejects(s.secrets.get(admin, { path: 'project/aad/target' }), integrity);
    });

    test('a ciphertext copied to another version of the same path fails with integrity', async () => {
      const path = 'project/aad/versions';
      await s.secrets.set(admin, { path, value: 'one' });
      await s.secrets.set(admin, { path, value: 'two' });
      await copySealed(await versionRow(path, 1), path, 2);
      await assert.rejects(s.secrets.get(admin, { path }), integrity);
      assert.equal((await s.secrets.get(admin, { path, version: 1 })).value, 'one');
    });

    test('a version relabelled with another key id fails with integrity, even when that id holds the same key', async () => {
      const path = 'project/aad/relabelled';
      await s.secrets.set(admin, { path, value: 'labelled' });
      const row = await versionRow(path, 1);
      const twinId = Math.max(...(await s.secrets.keyring.list()).map((k) => k.id)) + 1;
      const master = await masterKeyFile(s.home);
      await s.db.query(`INSERT INTO secret_keys (id, wrapped, master_key_id, status, created_at) VALUES ($1, $2, $3, 'retired', now())`, [
        twinId,
        wrapDataKey(master.key, twinId, await s.secrets.keyring.keyById(row.key_id)),
        master.id,
      ]);
      await copySealed({ ...row, key_id: twinId }, path, 1);
      await assert.rejects(s.secrets.get(admin, { path }), integrity);
    });
  });
}
