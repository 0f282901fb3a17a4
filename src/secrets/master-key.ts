import { keyFingerprint, parseKey } from '../core/crypto.js';
import { dataDirFiles } from '../core/datadir.js';
import { SupervisorError } from '../core/errors.js';
import { MasterKeyDir, type MasterKey } from './key-files.js';

export type { MasterKey } from './key-files.js';

/** Master keys a keyring needs but does not have, by fingerprint, with the data keys they wrap. */
export type MissingMasterKeys = ReadonlyMap<string, readonly number[]>;

/**
 * The master keys a daemon can unwrap data keys with: the one in
 * SUPERVISOR_MASTER_KEY, or the key files of the data dir (see MasterKeyDir).
 */
export interface MasterKeys {
  readonly mode: 'env' | 'file';
  /** The key the first data key of an empty keyring is wrapped with (in file mode master.key, made now if missing). */
  initial(): Promise<MasterKey>;
  /**
   * The key with this fingerprint. In file mode the key files are read again when it
   * is not loaded yet: another daemon sharing them may have rotated.
   */
  find(id: string): Promise<Buffer | undefined>;
  /** The error for data keys wrapped by master keys this daemon does not have: names them and where to put them. */
  missing(needed: MissingMasterKeys): SupervisorError;
  /** File mode: the on-disk steps of a master-key rotation. Env mode throws how to rotate instead. */
  rotator(): MasterKeyRotator;
}

export interface MasterKeyRotator {
  /** Runs `fn` while no other call or process changes these master keys. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** A new master key, stored durably (with a record of the keys it replaces) before any data key is wrapped with it. */
  stage(from: string[]): Promise<MasterKey>;
  /**
   * Ends a rotation left under way, going by the master keys the data keys
   * reference now: moved to the new key → it goes to master.key and the old files
   * go; never moved → the new file goes. Any other answer (another database?) keeps
   * every file.
   */
  settle(referenced: ReadonlySet<string>): Promise<void>;
}

const describeNeeds = (needed: MissingMasterKeys) =>
  [...needed].map(([id, dataKeys]) => `${id} (wraps data key${dataKeys.length > 1 ? 's' : ''} ${dataKeys.join(', ')})`).join(', ');

export async function loadMasterKeys(home: string, fromEnv: string | undefined): Promise<MasterKeys> {
  if (fromEnv) return new EnvMasterKeys(home, parseKey(fromEnv, 'SUPERVISOR_MASTER_KEY'));
  const dir = new MasterKeyDir(home);
  await dir.exclusive(() => dir.prepare());
  return new FileMasterKeys(dir, await dir.readAll());
}

class EnvMasterKeys implements MasterKeys {
  readonly mode = 'env';
  private readonly key: MasterKey;

  constructor(
    private readonly home: string,
    key: Buffer,
  ) {
    this.key = { id: keyFingerprint(key), key };
  }

  initial(): Promise<MasterKey> {
    return Promise.resolve(this.key);
  }

  find(id: string): Promise<Buffer | undefined> {
    return Promise.resolve(id === this.key.id ? this.key.key : undefined);
  }

  missing(needed: MissingMasterKeys): SupervisorError {
    // Waits for a person (a key copied, a variable set), so not_configured: no Retry-After, no "try again later".
    return new SupervisorError(
      'not_configured',
      `the keyring needs master key ${describeNeeds(needed)}, but SUPERVISOR_MASTER_KEY holds ${this.key.id}; set SUPERVISOR_MASTER_KEY to the key with that fingerprint, as on the daemons that share this database`,
      { needed: [...needed.keys()], loaded: [this.key.id] },
    );
  }

  rotator(): never {
    const file = dataDirFiles(this.home).masterKey;
    throw new SupervisorError(
      'invalid_input',
      'the master key comes from SUPERVISOR_MASTER_KEY, so the daemon cannot replace it. To rotate it: stop the daemons using this database, ' +
        `write the current key to ${file} (mode 0600), unset SUPERVISOR_MASTER_KEY and run \`supervisor keys rotate-master\`; ` +
        `then start every daemon with SUPERVISOR_MASTER_KEY set to the new key from ${file} (or with the file itself)`,
    );
  }
}

class FileMasterKeys implements MasterKeys, MasterKeyRotator {
  readonly mode = 'file';
  private reloading: Promise<void> | undefined;

  constructor(
    private readonly dir: MasterKeyDir,
    private readonly keys: Map<string, Buffer>,
  ) {}

  async initial(): Promise<MasterKey> {
    const primary = await this.dir.exclusive(() => this.dir.createPrimary());
    this.keys.set(primary.id, primary.key);
    return primary;
  }

  async find(id: string): Promise<Buffer | undefined> {
    if (!this.keys.has(id)) await this.reload();
    return this.keys.get(id);
  }

  /** One read of the key files at a time, however many reads miss a key at once. */
  private reload(): Promise<void> {
    this.reloading ??= this.dir
      .readAll()
      .then((found) => {
        for (const [id, key] of found) this.keys.set(id, key);
      })
      .finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  missing(needed: MissingMasterKeys): SupervisorError {
    // Waits for a person (a key copied, a variable set), so not_configured: no Retry-After, no "try again later".
    return new SupervisorError(
      'not_configured',
      `the keyring needs master key ${describeNeeds(needed)}, which is not in ${this.dir.keysDir}; ` +
        'copy the key file there as <fingerprint>.key (mode 0600), from the data dir of the daemon that rotated it or from a backup of master.key; ' +
        'or, if the daemons sharing this database take their key from SUPERVISOR_MASTER_KEY, set it to the same key here ' +
        `(this process has ${this.keys.size > 0 ? [...this.keys.keys()].join(', ') : 'no key file'}` +
        `${this.dir.notKeys.size > 0 ? `; passed over as no key: ${[...this.dir.notKeys.values()].join('; ')}` : ''})`,
      { needed: [...needed.keys()], loaded: [...this.keys.keys()] },
    );
  }

  rotator(): MasterKeyRotator {
    return this;
  }

  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.dir.exclusive(fn);
  }

  async stage(from: string[]): Promise<MasterKey> {
    const staged = await this.dir.stage(from);
    this.keys.set(staged.id, staged.key);
    return staged;
  }

  async settle(referenced: ReadonlySet<string>): Promise<void> {
    const pending = await this.dir.readPending();
    if (!pending) return;
    const stillOnOld = pending.from.some((id) => referenced.has(id));
    const onNew = referenced.has(pending.to);
    const key = this.keys.get(pending.to);
    if (onNew && !stillOnOld && key) {
      await this.dir.promote({ id: pending.to, key });
      await this.dir.finish(pending.from.filter((id) => id !== pending.to));
    } else if (stillOnOld && !onNew) {
      await this.dir.finish([pending.to]);
    }
  }
}
