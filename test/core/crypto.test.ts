import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { generateKey, open, parseKey, seal, keyFingerprint, TAG_BYTES } from '../../src/core/crypto.js';
import { SupervisorError } from '../../src/core/errors.js';

const aad = Buffer.from('project/a/db_url\u00001\u00001');
const plain = Buffer.from('postgres://user:hunter2@db/app');

function integrityFailure(fn: () => unknown): void {
  assert.throws(fn, (err) => err instanceof SupervisorError && err.code === 'integrity' && /cannot decrypt/.test(err.message));
}

describe('AES-256-GCM sealing', () => {
  const key = generateKey();

  test('ciphertext differs from the plaintext and between two encryptions of one value', () => {
    const a = seal(key, plain, aad);
    const b = seal(key, plain, aad);
    assert.ok(!a.ciphertext.includes(plain));
    assert.notDeepEqual(a.ciphertext, b.ciphertext);
    assert.notDeepEqual(a.iv, b.iv);
    assert.deepEqual(open(key, a, aad), plain);
    assert.deepEqual(open(key, b, aad), plain);
  });

  test('a flipped bit anywhere fails to decrypt', () => {
    const sealed = seal(key, plain, aad);
    for (let i = 0; i < sealed.ciphertext.length; i++) {
      const tampered = Buffer.from(sealed.ciphertext);
      tampered[i]! ^= 0x01;
      integrityFailure(() => open(key, { iv: sealed.iv, ciphertext: tampered }, aad));
    }
    const iv = Buffer.from(sealed.iv);
    iv[0]! ^= 0x80;
    integrityFailure(() => open(key, { iv, ciphertext: sealed.ciphertext }, aad));
  });

  test('a ciphertext moved to another path or version fails', () => {
    const sealed = seal(key, plain, aad);
    integrityFailure(() => open(key, sealed, Buffer.from('project/b/db_url\u00001\u00001')));
    integrityFailure(() => open(key, sealed, Buffer.from('project/a/db_url\u00002\u00001')));
    integrityFailure(() => open(key, sealed, Buffer.from('project/a/db_url\u00001\u00002')));
  });

  test('the wrong key fails', () => {
    integrityFailure(() => open(generateKey(), seal(key, plain, aad), aad));
  });

  test('a key of the wrong length is refused', () => {
    for (const length of [0, 16, 31, 33, 64]) {
      assert.throws(() => seal(Buffer.alloc(length), plain, aad), (err) => err instanceof SupervisorError && err.code === 'invalid_input' && err.message.includes(`got ${length}`));
    }
  });

  test('truncated input gives a clear error', () => {
    const sealed = seal(key, plain, aad);
    assert.throws(() => open(key, { iv: sealed.iv, ciphertext: sealed.ciphertext.subarray(0, TAG_BYTES - 1) }, aad), /truncated/);
    assert.throws(() => open(key, { iv: sealed.iv.subarray(0, 8), ciphertext: sealed.ciphertext }, aad), /IV is 8 bytes/);
    integrityFailure(() => open(key, { iv: sealed.iv, ciphertext: sealed.ciphertext.subarray(0, sealed.ciphertext.length - 1) }, aad));
  });

  test('keys parse from hex or base64 and their fingerprint reveals nothing of them', () => {
    const hex = key.toString('hex');
    assert.deepEqual(parseKey(hex, 'x'), key);
    assert.deepEqual(parseKey(key.toString('base64'), 'x'), key);
    assert.throws(() => parseKey('abc', 'SUPERVISOR_MASTER_KEY'), /SUPERVISOR_MASTER_KEY must hold a 32-byte key/);
    const fp = keyFingerprint(key);
    assert.equal(fp.length, 16);
    for (let i = 0; i + 8 <= hex.length; i += 8) assert.ok(!fp.includes(hex.slice(i, i + 8)));
  });
});
