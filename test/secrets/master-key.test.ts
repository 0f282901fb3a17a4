import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey, keyFingerprint } from '../../src/core/crypto.js';
import { loadMasterKeys } from '../../src/secrets/master-key.js';

const homes: string[] = [];
const fresh = () => {
  const home = mkdtempSync(join(tmpdir(), 'supervisor-mk-'));
  homes.push(home);
  return home;
};
after(() => {
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});
const writeKey = (path: string, key: Buffer) => writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600 });
const mode = (path: string) => statSync(path).mode & 0o777;
/** Compares keys without printing them when they differ. */
/** A data dir after a first start: loaded, and master.key made for the first data key. */
async function started(home: string) {
  const keys = await loadMasterKeys(home, undefined);
  await keys.initial();
  return keys;
}
const sameKey = (actual: Buffer | undefined, expected: Buffer) => assert.ok(actual?.equals(expected), 'not the same key');

test('loading writes nothing; the key of a first data key makes master.key and its copy in keys/ (0600 in a 0700 folder); the next load reads the same key', async () => {
  const home = fresh();
  const first = await loadMasterKeys(home, undefined);
  assert.equal(first.mode, 'file');
  assert.deepEqual(readdirSync(home).filter((f) => f !== 'keys.lock'), [], 'a data dir whose key is elsewhere gets no stray key');
  const initial = await first.initial();
  assert.equal(mode(join(home, 'master.key')), 0o600);
  assert.equal(mode(join(home, 'keys')), 0o700);
  assert.equal(mode(join(home, 'keys', `${initial.id}.key`)), 0o600);
  sameKey(readFileSync(join(home, 'keys', `${initial.id}.key`)), readFileSync(join(home, 'master.key')));
  const second = await loadMasterKeys(home, undefined);
  assert.equal((await second.initial()).id, initial.id);
  sameKey(await second.find(initial.id), initial.key);
  assert.ok(!readFileSync(join(home, 'master.key'), 'utf8').includes(initial.id));
});

test('a key file other users can read is refused with the fix', async () => {
  const home = fresh();
  await started(home);
  chmodSync(join(home, 'master.key'), 0o644);
  await assert.rejects(loadMasterKeys(home, undefined), /readable by other users .*`chmod 600/);
});

test('SUPERVISOR_MASTER_KEY is used instead of files, and refuses rotation saying how to rotate', async () => {
  const home = fresh();
  const key = generateKey();
  const keys = await loadMasterKeys(home, key.toString('hex'));
  assert.equal(keys.mode, 'env');
  assert.equal((await keys.initial()).id, keyFingerprint(key));
  assert.deepEqual(readdirSync(home), []);
  assert.throws(() => keys.rotator(), /SUPERVISOR_MASTER_KEY.*write the current key to .*master\.key.*`supervisor keys rotate-master`/);
  assert.equal(await keys.find(keyFingerprint(generateKey())), undefined);
});

test('a key file another daemon adds is found on first use, whatever its file name', async () => {
  const home = fresh();
  const keys = await started(home);
  const added = generateKey();
  writeKey(join(home, 'keys', 'copied-from-daemon-a.key'), added);
  sameKey(await keys.find(keyFingerprint(added)), added);
});

test('a file in keys/ that holds no key (junk, a folder named x.key) is passed over, not allowed to stop every read, and named when a key is missing', async () => {
  const home = fresh();
  const keys = await started(home);
  writeFileSync(join(home, 'keys', 'junk.key'), 'abc\n', { mode: 0o600 });
  mkdirSync(join(home, 'keys', 'sub.key'));
  const added = generateKey();
  writeKey(join(home, 'keys', 'real.key'), added);
  sameKey(await keys.find(keyFingerprint(added)), added);
  const restarted = await loadMasterKeys(home, undefined);
  assert.equal((await restarted.initial()).id, (await keys.initial()).id);
  assert.equal(await restarted.find('0123456789abcdef'), undefined);
  const err = restarted.missing(new Map([['0123456789abcdef', [1]]]));
  assert.match(err.message, /passed over as no key: .*junk\.key must hold a 32-byte key .*; .*sub\.key is a folder, not a key file\)$/);
});

test('a missing master key is named with where to put it, and no key material', async () => {
  const home = fresh();
  const keys = await started(home);
  const err = keys.missing(new Map([['af93aaaabbbbcccc', [1, 2]]]));
  assert.equal(err.code, 'not_configured');
  assert.match(err.message, /needs master key af93aaaabbbbcccc \(wraps data keys 1, 2\), which is not in .*keys; copy the key file there as <fingerprint>\.key/);
  assert.ok(!err.message.includes((await keys.initial()).key.toString('base64')));
});

test('a staged key survives a restart; settling keeps it when the data keys moved to it, drops it when they did not', async () => {
  const home = fresh();
  const keys = await started(home);
  const old = (await keys.initial()).id;
  const moved = await keys.rotator().stage([old]);
  const restarted = await loadMasterKeys(home, undefined);
  sameKey(await restarted.find(moved.id), moved.key);
  await restarted.rotator().settle(new Set([moved.id]));
  assert.deepEqual(readdirSync(join(home, 'keys')), [`${moved.id}.key`]);
  assert.equal((await (await loadMasterKeys(home, undefined)).initial()).id, moved.id);

  const abandoned = await restarted.rotator().stage([moved.id]);
  await restarted.rotator().settle(new Set([moved.id]));
  assert.ok(!existsSync(join(home, 'keys', `${abandoned.id}.key`)));
  assert.deepEqual(readdirSync(join(home, 'keys')), [`${moved.id}.key`]);
});

test('a master.key that links to where the key is kept is written through at the end of a rotation, not replaced by a file', async () => {
  const home = fresh();
  const vault = fresh();
  const kept = join(vault, 'master.key');
  const first = generateKey();
  writeKey(kept, first);
  symlinkSync(kept, join(home, 'master.key'));
  const keys = await loadMasterKeys(home, undefined);
  assert.equal((await keys.initial()).id, keyFingerprint(first));
  const moved = await keys.rotator().stage([keyFingerprint(first)]);
  await keys.rotator().settle(new Set([moved.id]));
  assert.ok(lstatSync(join(home, 'master.key')).isSymbolicLink(), 'still the link');
  sameKey(readFileSync(kept), readFileSync(join(home, 'keys', `${moved.id}.key`)));
  assert.equal(mode(kept), 0o600);
  assert.equal((await (await loadMasterKeys(home, undefined)).initial()).id, moved.id);
});

test('settling against a database that references neither key keeps every file', async () => {
  const home = fresh();
  const keys = await started(home);
  const staged = await keys.rotator().stage([(await keys.initial()).id]);
  await keys.rotator().settle(new Set(['0000000000000000']));
  assert.deepEqual(readdirSync(join(home, 'keys')).sort(), [`${(await keys.initial()).id}.key`, `${staged.id}.key`, 'rotation.json'].sort());
});

test('master.key.next from an older version is adopted as a rotation under way', async () => {
  const home = fresh();
  const old = (await (await started(home)).initial()).id;
  const next = generateKey();
  writeKey(join(home, 'master.key.next'), next);
  const restarted = await loadMasterKeys(home, undefined);
  assert.ok(!existsSync(join(home, 'master.key.next')));
  sameKey(await restarted.find(keyFingerprint(next)), next);
  await restarted.rotator().settle(new Set([keyFingerprint(next)]));
  assert.equal((await (await loadMasterKeys(home, undefined)).initial()).id, keyFingerprint(next));
  assert.ok(!existsSync(join(home, 'keys', `${old}.key`)));
});

test('temp files killed writers left are removed at load; other files stay', async () => {
  const home = fresh();
  await started(home);
  const stray = [join(home, '.master.key.0123456789ab.tmp'), join(home, '.master.key.next.0123456789ab.tmp'), join(home, '.keys.lock.0123456789ab.tmp'), join(home, 'keys', '.f00f00f00f00f00f.key.0123456789ab.tmp')];
  for (const path of stray) writeKey(path, generateKey());
  writeFileSync(join(home, '.daemon.json.0123456789ab.tmp'), '{}');
  await loadMasterKeys(home, undefined);
  for (const path of stray) assert.ok(!existsSync(path), `${path} is left`);
  assert.ok(existsSync(join(home, '.daemon.json.0123456789ab.tmp')));
});

test('a rotation record that is not one (or names a file outside keys/) is refused, naming it', async () => {
  const home = fresh();
  const keys = await started(home);
  writeFileSync(join(home, 'keys', 'rotation.json'), JSON.stringify({ from: ['../../elsewhere'], to: (await keys.initial()).id }));
  await assert.rejects(keys.rotator().settle(new Set()), /keys\/rotation\.json is not a rotation record; move it away/);
});
