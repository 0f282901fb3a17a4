import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey, keyFingerprint } from '../../src/core/crypto.js';
import { loadMasterKeys } from '../../src/secrets/master-key.js';

const fresh = () => mkdtempSync(join(tmpdir(), 'supervisor-mk-'));

test('first load creates a 0600 master key file; the next load reads the same key', async () => {
  const home = fresh();
  const first = await loadMasterKeys(home, undefined);
  assert.equal(statSync(join(home, 'master.key')).mode & 0o777, 0o600);
  const second = await loadMasterKeys(home, undefined);
  assert.equal(second.primary.id, first.primary.id);
  assert.ok(!readFileSync(join(home, 'master.key'), 'utf8').includes(first.primary.id));
});

test('a key file other users can read is refused with the fix', async () => {
  const home = fresh();
  await loadMasterKeys(home, undefined);
  chmodSync(join(home, 'master.key'), 0o644);
  await assert.rejects(loadMasterKeys(home, undefined), /readable by other users .*`chmod 600/);
});

test('SUPERVISOR_MASTER_KEY is used instead of a file, and refuses file rotation', async () => {
  const home = fresh();
  const key = generateKey();
  const keys = await loadMasterKeys(home, key.toString('hex'));
  assert.equal(keys.mode, 'env');
  assert.equal(keys.primary.id, keyFingerprint(key));
  assert.ok(!existsSync(join(home, 'master.key')));
  await assert.rejects(keys.stageNext(generateKey()), /SUPERVISOR_MASTER_KEY/);
});

test('a staged next key is loaded too, and promotion makes it the primary', async () => {
  const home = fresh();
  const keys = await loadMasterKeys(home, undefined);
  const next = generateKey();
  await keys.stageNext(next);
  const reloaded = await loadMasterKeys(home, undefined);
  assert.equal(reloaded.nextId, keyFingerprint(next));
  assert.deepEqual(reloaded.byId(keyFingerprint(next)), next);
  await reloaded.promoteNext();
  assert.equal((await loadMasterKeys(home, undefined)).primary.id, keyFingerprint(next));
});
