import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { SupervisorError, invalidInput } from './errors.js';

/** AES-256-GCM with a random 96-bit IV and a 128-bit tag, the parameters NIST SP 800-38D recommends. */
const ALGORITHM = 'aes-256-gcm';
export const KEY_BYTES = 32;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;

export interface Sealed {
  iv: Buffer;
  /** Ciphertext followed by the authentication tag. */
  ciphertext: Buffer;
}

function checkKey(key: Buffer): void {
  if (key.length !== KEY_BYTES) {
    throw invalidInput(`an AES-256 key must be ${KEY_BYTES} bytes, got ${key.length}`);
  }
}

/**
 * Encrypts `plaintext`. The AAD binds the ciphertext to where it is stored, so a
 * ciphertext copied to another row fails to decrypt.
 */
export function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Sealed {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, ciphertext: Buffer.concat([body, cipher.getAuthTag()]) };
}

export function open(key: Buffer, sealed: Sealed, aad: Buffer): Buffer {
  checkKey(key);
  if (sealed.iv.length !== IV_BYTES) {
    throw integrityError(`the stored IV is ${sealed.iv.length} bytes instead of ${IV_BYTES}`);
  }
  if (sealed.ciphertext.length < TAG_BYTES) {
    throw integrityError('the stored ciphertext is truncated (shorter than its authentication tag)');
  }
  const body = sealed.ciphertext.subarray(0, sealed.ciphertext.length - TAG_BYTES);
  const tag = sealed.ciphertext.subarray(sealed.ciphertext.length - TAG_BYTES);
  const decipher = createDecipheriv(ALGORITHM, key, sealed.iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw integrityError('authentication failed: the ciphertext was altered, truncated, moved to another path or version, or the key is wrong');
  }
}

function integrityError(reason: string): SupervisorError {
  return new SupervisorError('integrity', `cannot decrypt: ${reason}`);
}

/** One buffer holding iv ‖ ciphertext ‖ tag, for wrapped data keys. */
export function pack(sealed: Sealed): Buffer {
  return Buffer.concat([sealed.iv, sealed.ciphertext]);
}

export function unpack(packed: Buffer): Sealed {
  if (packed.length < IV_BYTES + TAG_BYTES) throw integrityError('the wrapped key is truncated');
  return { iv: packed.subarray(0, IV_BYTES), ciphertext: packed.subarray(IV_BYTES) };
}

export function generateKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/**
 * A stable, non-reversible name for a key, so rows can say which master key
 * wrapped them without revealing any part of it.
 */
export function keyFingerprint(key: Buffer): string {
  return createHmac('sha256', key).update('supervisor key id v1').digest('hex').slice(0, 16);
}

/** Parses a 32-byte key written as 64 hex digits or base64. */
export function parseKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES) {
    throw invalidInput(`${source} must hold a ${KEY_BYTES}-byte key as 64 hex digits or base64 (it decodes to ${key.length} bytes)`);
  }
  return key;
}
