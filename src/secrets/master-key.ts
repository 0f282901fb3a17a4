import { readFile, rename, rm } from 'node:fs/promises';
import { generateKey, keyFingerprint, parseKey } from '../core/crypto.js';
import { dataDirFiles, fileMode } from '../core/datadir.js';
import { SupervisorError } from '../core/errors.js';
import { createFileExclusive, writeFileAtomic } from '../core/files.js';

/**
 * Where the master key lives. In file mode a rotation writes the new key to
 * `master.key.next` before the database rewrap and renames it over `master.key`
 * after, so a crash at any point leaves a key that opens every data key.
 */
export interface MasterKeys {
  readonly mode: 'env' | 'file';
  /** The key new data keys are wrapped with. */
  readonly primary: { id: string; key: Buffer };
  /** Every key we can unwrap with, by fingerprint (the primary and, mid-rotation, the next one). */
  byId(id: string): Buffer | undefined;
  /** File mode only: stores `key` as the pending next key. */
  stageNext(key: Buffer): Promise<void>;
  /** File mode only: makes the staged key the primary. */
  promoteNext(): Promise<void>;
  /** File mode only: drops a staged key no data key uses. */
  discardNext(): Promise<void>;
  readonly nextId: string | undefined;
}

const encode = (key: Buffer) => `${key.toString('base64')}\n`;

async function readKeyFile(path: string): Promise<Buffer | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const mode = await fileMode(path);
  if (mode !== undefined && (mode & 0o077) !== 0) {
    throw new SupervisorError('forbidden', `${path} is readable by other users (mode ${mode.toString(8)}); run \`chmod 600 ${path}\``);
  }
  return parseKey(text, path);
}

export async function loadMasterKeys(home: string, fromEnv: string | undefined): Promise<MasterKeys> {
  if (fromEnv) {
    const key = parseKey(fromEnv, 'SUPERVISOR_MASTER_KEY');
    const id = keyFingerprint(key);
    const refuse = async (): Promise<never> => {
      throw new SupervisorError('invalid_input', 'the master key comes from SUPERVISOR_MASTER_KEY; rotate it by unsetting the variable to use the key file, or re-encrypt with a new key file');
    };
    return { mode: 'env', primary: { id, key }, byId: (k) => (k === id ? key : undefined), stageNext: refuse, promoteNext: refuse, discardNext: refuse, nextId: undefined };
  }
  const files = dataDirFiles(home);
  let primary = await readKeyFile(files.masterKey);
  if (!primary) {
    const fresh = generateKey();
    // Exclusive create: two processes starting at once must not each make a different key.
    await createFileExclusive(files.masterKey, encode(fresh), 0o600);
    primary = (await readKeyFile(files.masterKey))!;
  }
  return new FileMasterKeys(files, { id: keyFingerprint(primary), key: primary }, await readKeyFile(files.nextMasterKey));
}

class FileMasterKeys implements MasterKeys {
  readonly mode = 'file';
  constructor(
    private readonly files: ReturnType<typeof dataDirFiles>,
    public primary: { id: string; key: Buffer },
    private next: Buffer | undefined,
  ) {}

  get nextId(): string | undefined {
    return this.next ? keyFingerprint(this.next) : undefined;
  }

  byId(id: string): Buffer | undefined {
    if (id === this.primary.id) return this.primary.key;
    if (this.next && id === this.nextId) return this.next;
    return undefined;
  }

  async stageNext(key: Buffer): Promise<void> {
    await writeFileAtomic(this.files.nextMasterKey, encode(key), 0o600);
    this.next = key;
  }

  async promoteNext(): Promise<void> {
    if (!this.next) return;
    await rename(this.files.nextMasterKey, this.files.masterKey);
    this.primary = { id: keyFingerprint(this.next), key: this.next };
    this.next = undefined;
  }

  async discardNext(): Promise<void> {
    await rm(this.files.nextMasterKey, { force: true });
    this.next = undefined;
  }
}
