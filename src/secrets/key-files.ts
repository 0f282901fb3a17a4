import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, realpath } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { generateKey, keyFingerprint, parseKey } from '../core/crypto.js';
import { dataDirFiles, fileMode } from '../core/datadir.js';
import { SupervisorError } from '../core/errors.js';
import { createFileExclusive, removeFileDurably, removeStrayTempFiles, writeFileAtomic } from '../core/files.js';
import { KeyedLock } from '../core/keyed-lock.js';
import { lockFileWaiting } from '../core/lock-file.js';

export interface MasterKey {
  /** Fingerprint (keyFingerprint), never the key. */
  id: string;
  key: Buffer;
}

/** A rotation under way: written before its new key, removed once the database shows how it ended. Fingerprints name files, so only those pass. */
const Fingerprint = z.string().regex(/^[0-9a-f]{16}$/, 'a key fingerprint');
const PendingRotation = z.object({ from: z.array(Fingerprint), to: Fingerprint });
type PendingRotation = z.infer<typeof PendingRotation>;

/** Rotations take well under a second; a holder this slow is stuck, and the error names it. */
const LOCK_WAIT_MS = 30_000;
/** The file lock tells processes apart; calls within one process queue here first. */
const inProcess = new KeyedLock();

const encode = (key: Buffer) => `${key.toString('base64')}\n`;

async function readKeyFile(path: string): Promise<Buffer | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if ((err as NodeJS.ErrnoException).code === 'EISDIR') throw new SupervisorError('invalid_input', `${path} is a folder, not a key file`);
    throw err;
  }
  const mode = await fileMode(path);
  if (mode !== undefined && (mode & 0o077) !== 0) {
    throw new SupervisorError('forbidden', `${path} is readable by other users (mode ${mode.toString(8)}); run \`chmod 600 ${path}\``);
  }
  return parseKey(text, path);
}

/**
 * The master keys in the data dir:
 *   master.key           the key the data keys are wrapped with once no rotation is under way
 *   keys/<id>.key        every master key that may still wrap a data key (master.key's too)
 *   keys/rotation.json   a rotation under way: the keys it moves from, the key it moves to
 *   keys.lock            held by whoever writes any of these
 * Each write is temp file, fsync, rename, fsync of the folder. A key file is removed
 * only when the database shows that a rotation moved every data key off it (or never
 * moved any onto it).
 */
export class MasterKeyDir {
  private readonly home: string;
  private readonly files: ReturnType<typeof dataDirFiles>;
  readonly keysDir: string;
  private readonly pendingFile: string;

  constructor(home: string) {
    this.home = resolve(home);
    this.files = dataDirFiles(this.home);
    this.keysDir = this.files.masterKeys;
    this.pendingFile = join(this.keysDir, 'rotation.json');
  }

  private keyPath(id: string): string {
    return join(this.keysDir, `${id}.key`);
  }

  /** Runs `fn` while no other call or process writes this data dir's master keys. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const lockPath = this.files.masterKeysLock;
    return inProcess.run(lockPath, async () => {
      const lock = await lockFileWaiting(lockPath, 'master keys', LOCK_WAIT_MS, (holder) =>
        new SupervisorError('locked', `the master keys in ${this.keysDir} are being changed by pid ${holder.pid} (since ${holder.startedAt}); try again when it is done, or remove ${lockPath} if that process is not a supervisor`),
      );
      try {
        return await fn();
      } finally {
        await lock.release();
      }
    });
  }

  /** Files in keys/ that hold no key (junk, a folder named x.key), by path, with why: the last readAll's. */
  readonly notKeys = new Map<string, string>();

  /**
   * Every key on disk by fingerprint, taken from the content so a renamed file still counts. A
   * file in keys/ that holds no key is passed over (noted in notKeys), not allowed to stop every
   * read: a key that is needed and missing is named by its fingerprint. master.key, and a key
   * file other users can read, still stop it.
   */
  async readAll(): Promise<Map<string, Buffer>> {
    const names = await readdir(this.keysDir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    });
    const paths = [this.files.masterKey, this.files.legacyNextMasterKey, ...names.filter((n) => n.endsWith('.key')).map((n) => join(this.keysDir, n))];
    const keys = new Map<string, Buffer>();
    this.notKeys.clear();
    for (const path of paths) {
      let key: Buffer | undefined;
      try {
        key = await readKeyFile(path);
      } catch (err) {
        const passable = path.startsWith(this.keysDir) && err instanceof SupervisorError && err.code === 'invalid_input';
        if (!passable) throw err;
        this.notKeys.set(path, err.message);
        continue;
      }
      if (key) keys.set(keyFingerprint(key), key);
    }
    return keys;
  }

  /**
   * Call under `exclusive`, before anything else: removes what killed writers left,
   * copies master.key into keys/ and adopts a rotation staged by an older version
   * (master.key.next). Creates nothing when there is no master.key: only an empty
   * keyring needs one (`createPrimary`), and a data dir whose keys come from
   * SUPERVISOR_MASTER_KEY must not get a stray key of no use beside its database.
   */
  async prepare(): Promise<void> {
    await removeStrayTempFiles(this.keysDir);
    await removeStrayTempFiles(this.home, [this.files.masterKey, this.files.legacyNextMasterKey, this.files.masterKeysLock].map((f) => basename(f)));
    const key = await readKeyFile(this.files.masterKey);
    if (!key) return;
    const primary = { id: keyFingerprint(key), key };
    // Before anything can replace master.key.
    await this.keep(primary);
    await this.adoptLegacyNext(primary);
  }

  /** Call under `exclusive`: master.key, created when missing (the first key of an empty keyring). */
  async createPrimary(): Promise<MasterKey> {
    let key = await readKeyFile(this.files.masterKey);
    if (!key) {
      // Exclusive even under the lock: a process of an older version takes no lock.
      await createFileExclusive(this.files.masterKey, encode(generateKey()));
      key = (await readKeyFile(this.files.masterKey))!;
    }
    const primary = { id: keyFingerprint(key), key };
    await this.keep(primary);
    return primary;
  }

  /** Makes sure keys/ holds this key. */
  private async keep({ id, key }: MasterKey): Promise<void> {
    if (existsSync(this.keyPath(id))) return;
    await this.makeKeysDir();
    await writeFileAtomic(this.keyPath(id), encode(key), 0o600);
  }

  private async makeKeysDir(): Promise<void> {
    await mkdir(this.keysDir, { recursive: true, mode: 0o700 });
  }

  /** master.key.next was the staged key of a rotation from master.key: record it as one. */
  private async adoptLegacyNext(primary: MasterKey): Promise<void> {
    const next = await readKeyFile(this.files.legacyNextMasterKey);
    if (!next) return;
    const staged = { id: keyFingerprint(next), key: next };
    await this.keep(staged);
    if (staged.id !== primary.id && !(await this.readPending())) await this.writePending({ from: [primary.id], to: staged.id });
    await removeFileDurably(this.files.legacyNextMasterKey);
  }

  async readPending(): Promise<PendingRotation | undefined> {
    let text: string;
    try {
      text = await readFile(this.pendingFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let parsed;
    try {
      parsed = PendingRotation.safeParse(JSON.parse(text));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) throw new SupervisorError('integrity', `${this.pendingFile} is not a rotation record; move it away and start again`);
    return parsed.data;
  }

  private writePending(pending: PendingRotation): Promise<void> {
    return writeFileAtomic(this.pendingFile, JSON.stringify(pending), 0o600);
  }

  /**
   * Stores a new key before any data key is wrapped with it: first the record of the
   * rotation, then the key file, both durable; the key is read back to be sure.
   */
  async stage(from: string[]): Promise<MasterKey> {
    const key = generateKey();
    const id = keyFingerprint(key);
    await this.makeKeysDir();
    await this.writePending({ from, to: id });
    await writeFileAtomic(this.keyPath(id), encode(key), 0o600);
    if (!(await readKeyFile(this.keyPath(id)))?.equals(key)) {
      throw new SupervisorError('internal', `the new master key file ${this.keyPath(id)} does not read back as written; the rotation was not started`);
    }
    return { id, key };
  }

  /**
   * Makes `key` the one in master.key (the file people back up). A master.key that links to
   * the key where it is kept (a backed-up or mounted folder) is written through: replaced by a
   * file here, the link's target would keep the retired key, and its backups no key that opens
   * the data keys.
   */
  async promote({ key }: MasterKey): Promise<void> {
    const target = await realpath(this.files.masterKey).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return this.files.masterKey;
      throw err;
    });
    await writeFileAtomic(target, encode(key), 0o600);
  }

  /** Removes these keys' files and the rotation record. */
  async finish(remove: string[]): Promise<void> {
    for (const id of remove) await removeFileDurably(this.keyPath(id));
    await removeFileDurably(this.pendingFile);
  }
}
