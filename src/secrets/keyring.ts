import { generateKey, open, pack, seal, unpack } from '../core/crypto.js';
import type { AuditLog } from '../core/audit.js';
import type { Clock } from '../core/clock.js';
import { toBuffer, type Db, type Queryable } from '../core/db.js';
import { SupervisorError } from '../core/errors.js';
import { schemaLockKey } from '../core/schema-lock.js';
import type { MasterKey, MasterKeyRotator, MasterKeys } from './master-key.js';

/**
 * Serialises key rotations across processes sharing the database: a rotation holds
 * it exclusively, every encryption shared (see keyForEncryption). Named per schema:
 * the keyring is the schema's, and installations (test runs) in other schemas never contend.
 */
const KEYRING_LOCK = schemaLockKey('secret-keyring');

const lockKeyring = (tx: Queryable) => tx.query(`SELECT pg_advisory_xact_lock(${KEYRING_LOCK})`);

/** Waits for a rotation under way to commit, then keeps rotations out until the caller's transaction ends; writers share it. */
const shareKeyring = (tx: Queryable) => tx.query(`SELECT pg_advisory_xact_lock_shared(${KEYRING_LOCK})`);

async function tryLockKeyring(tx: Queryable): Promise<boolean> {
  const { rows } = await tx.query<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock(${KEYRING_LOCK}) AS locked`);
  return rows[0]!.locked;
}

interface KeyRow {
  id: number;
  wrapped: Buffer;
  master_key_id: string;
  encryptions: number;
}

const KEY_COLUMNS = 'id, wrapped, master_key_id, encryptions';

/**
 * Hands `found` the master key of each data key in `rows`; throws `master.missing`, naming them
 * all, when some master keys are not there.
 */
async function requireMasterKeys<R extends Pick<KeyRow, 'id' | 'master_key_id'>>(rows: R[], master: MasterKeys, found?: (key: Buffer, row: R) => void): Promise<void> {
  const missing = new Map<string, number[]>();
  for (const row of rows) {
    const key = await master.find(row.master_key_id);
    if (key) found?.(key, row);
    else missing.set(row.master_key_id, [...(missing.get(row.master_key_id) ?? []), row.id]);
  }
  if (missing.size > 0) throw master.missing(missing);
}

export interface DataKeyInfo {
  id: number;
  status: 'active' | 'retired';
  encryptions: number;
  masterKeyId: string;
  createdAt: Date;
  retiredAt: Date | null;
}

const wrapAad = (id: number) => Buffer.from(`supervisor data key ${id}`);

/** Data key `id` sealed with a master key, as stored in secret_keys.wrapped. */
export const wrapDataKey = (master: Buffer, id: number, key: Buffer): Buffer => pack(seal(master, key, wrapAad(id)));

/**
 * Data keys encrypt secret values; the master key only wraps data keys. Rotating
 * the data key starts a new key id (old versions keep theirs); rotating the master
 * key rewraps every data key without touching a single secret. Every data key is
 * wrapped by the same master key: a new one takes the master key of the others.
 */
export class Keyring {
  private readonly unwrapped = new Map<number, Buffer>();

  constructor(
    private readonly db: Db,
    private readonly master: MasterKeys,
    private readonly clock: Clock,
    private readonly rotateAfter: number,
    private readonly audit: AuditLog,
  ) {}

  /**
   * Ends a master-key rotation a crash interrupted, creates the first data key if
   * needed, and refuses to start unless every data key unwraps.
   */
  async init(): Promise<void> {
    if (this.master.mode === 'file') {
      const rotator = this.master.rotator();
      await rotator.exclusive(() => this.settle(rotator));
    }
    const { rows } = await this.db.query<{ empty: boolean }>('SELECT NOT EXISTS (SELECT 1 FROM secret_keys) AS empty');
    // Only an empty keyring takes the initial key (in file mode, making master.key).
    if (rows[0]!.empty) {
      const initial = await this.master.initial();
      await this.db.query(
        `INSERT INTO secret_keys (id, wrapped, master_key_id, status, created_at)
         SELECT 1, $1, $2, 'active', $3 WHERE NOT EXISTS (SELECT 1 FROM secret_keys)
         ON CONFLICT DO NOTHING`,
        [wrapDataKey(initial.key, 1, generateKey()), initial.id, this.clock.now()],
      );
    }
    await this.unwrapAll();
  }

  /**
   * Refuses (as init would) when a data key of an existing keyring is wrapped by a master key that
   * the master keys `load` gives do not have; nothing (and nothing loaded) when there is no
   * keyring yet. Run before migrations, on the database as it is.
   */
  static async checkMasterKeys(db: Queryable, load: () => Promise<MasterKeys>): Promise<void> {
    const { rows: exists } = await db.query<{ found: boolean }>(`SELECT to_regclass('secret_keys') IS NOT NULL AS found`);
    if (!exists[0]?.found) return;
    const master = await load();
    const { rows } = await db.query<Pick<KeyRow, 'id' | 'master_key_id'>>('SELECT id, master_key_id FROM secret_keys ORDER BY id');
    await requireMasterKeys(rows, master);
  }

  private async unwrapAll(): Promise<void> {
    const { rows } = await this.db.query<KeyRow>(`SELECT ${KEY_COLUMNS} FROM secret_keys ORDER BY id`);
    await requireMasterKeys(rows, this.master, (key, row) => this.unwrapWith(key, row));
  }

  private unwrapWith(master: Buffer, row: KeyRow): Buffer {
    const key = open(master, unpack(toBuffer(row.wrapped)), wrapAad(row.id));
    this.unwrapped.set(row.id, key);
    return key;
  }

  private async unwrap(row: KeyRow): Promise<Buffer> {
    const cached = this.unwrapped.get(row.id);
    if (cached) return cached;
    const master = await this.master.find(row.master_key_id);
    if (!master) throw this.master.missing(new Map([[row.master_key_id, [row.id]]]));
    return this.unwrapWith(master, row);
  }

  /** The key that decrypts values stored under `id`. */
  async keyById(id: number, q: Queryable = this.db): Promise<Buffer> {
    const cached = this.unwrapped.get(id);
    if (cached) return cached;
    const { rows } = await q.query<KeyRow>(`SELECT ${KEY_COLUMNS} FROM secret_keys WHERE id = $1`, [id]);
    if (!rows[0]) throw new SupervisorError('integrity', `data key ${id} is missing from the keyring`);
    return this.unwrap(rows[0]);
  }

  /**
   * The active key for one new encryption, counted inside the caller's
   * transaction; starts a new key when the count reaches the limit.
   *
   * The shared keyring lock comes first, in a statement of its own so the UPDATE's
   * snapshot is taken after any rotation under way has committed. Without it a write
   * racing rotations found the key it waited on retired (and kept a lock on that row,
   * which a master-key rotation then waits for): retrying lost to a run of rotations.
   * Holding it, this transaction never meets a rotation, and a rotation never waits for
   * a key row a writer holds (writers holding rows hold the lock too).
   */
  async keyForEncryption(tx: Queryable): Promise<{ id: number; key: Buffer }> {
    await shareKeyring(tx);
    const { rows } = await tx.query<KeyRow>(`UPDATE secret_keys SET encryptions = encryptions + 1 WHERE status = 'active' RETURNING ${KEY_COLUMNS}`);
    const row = rows[0];
    if (!row) throw new SupervisorError('integrity', 'the keyring has no active data key');
    // Taken only when no other writer shares the lock, so nobody holds the row the new key retires.
    if (row.encryptions >= this.rotateAfter && (await tryLockKeyring(tx))) {
      const fresh = await this.startNewKey(tx);
      await tx.query('UPDATE secret_keys SET encryptions = 1 WHERE id = $1', [fresh.id]);
      await this.audit.record({ actor: 'system:key-rotate-after', action: 'keys.rotate_data', outcome: 'ok', detail: { activeKeyId: fresh.id, retiredKeyId: row.id, encryptions: row.encryptions } }, tx);
      return fresh;
    }
    return { id: row.id, key: await this.unwrap(row) };
  }

  /** Caller holds the keyring lock. */
  private async startNewKey(tx: Queryable): Promise<{ id: number; key: Buffer }> {
    const master = await this.currentMaster(tx);
    const now = this.clock.now();
    await tx.query(`UPDATE secret_keys SET status = 'retired', retired_at = $1 WHERE status = 'active'`, [now]);
    const { rows } = await tx.query<{ id: number }>('SELECT COALESCE(MAX(id), 0) + 1 AS id FROM secret_keys');
    const id = rows[0]!.id;
    const key = generateKey();
    await tx.query(`INSERT INTO secret_keys (id, wrapped, master_key_id, status, created_at) VALUES ($1, $2, $3, 'active', $4)`, [id, wrapDataKey(master.key, id, key), master.id, now]);
    this.unwrapped.set(id, key);
    return { id, key };
  }

  /**
   * The master key the data keys are wrapped with, as the database says: never a
   * key of this daemon's choosing, which may be behind a rotation another daemon made.
   */
  private async currentMaster(tx: Queryable): Promise<MasterKey> {
    const { rows } = await tx.query<{ id: number; master_key_id: string }>(`SELECT id, master_key_id FROM secret_keys ORDER BY status = 'active' DESC, id DESC LIMIT 1`);
    const row = rows[0];
    if (!row) return this.master.initial();
    const key = await this.master.find(row.master_key_id);
    if (!key) throw this.master.missing(new Map([[row.master_key_id, [row.id]]]));
    return { id: row.master_key_id, key };
  }

  async rotateDataKey(actor: string): Promise<{ activeKeyId: number; retiredKeyId: number | null }> {
    return this.db.transaction(async (tx) => {
      await lockKeyring(tx);
      const before = await tx.query<{ id: number }>(`SELECT id FROM secret_keys WHERE status = 'active' FOR UPDATE`);
      const fresh = await this.startNewKey(tx);
      const rotated = { activeKeyId: fresh.id, retiredKeyId: before.rows[0]?.id ?? null };
      await this.audit.record({ actor, action: 'keys.rotate_data', outcome: 'ok', detail: rotated }, tx);
      return rotated;
    });
  }

  /**
   * Rewraps every data key under a new master key (file mode); secrets are not
   * touched. One rotation at a time per data dir (file lock) and per database
   * (advisory lock); the new key is on disk before any data key is wrapped with
   * it, and the old one is removed only once the database shows nothing uses it.
   */
  async rotateMasterKey(actor: string): Promise<{ masterKeyId: string; rewrapped: number }> {
    const rotator = this.master.rotator();
    return rotator.exclusive(async () => {
      await this.settle(rotator);
      try {
        return await this.rewrapAll(rotator, actor);
      } finally {
        await this.settle(rotator);
      }
    });
  }

  private rewrapAll(rotator: MasterKeyRotator, actor: string): Promise<{ masterKeyId: string; rewrapped: number }> {
    return this.db.transaction(async (tx) => {
      await lockKeyring(tx);
      const { rows } = await tx.query<KeyRow>(`SELECT ${KEY_COLUMNS} FROM secret_keys ORDER BY id FOR UPDATE`);
      const keys: Buffer[] = [];
      for (const row of rows) keys.push(await this.unwrap(row));
      const next = await rotator.stage([...new Set(rows.map((r) => r.master_key_id))]);
      for (const [i, row] of rows.entries()) {
        await tx.query('UPDATE secret_keys SET wrapped = $2, master_key_id = $3 WHERE id = $1', [row.id, wrapDataKey(next.key, row.id, keys[i]!), next.id]);
      }
      // Fingerprints only: they name the key files, never the keys.
      await this.audit.record({ actor, action: 'keys.rotate_master', outcome: 'ok', detail: { from: [...new Set(rows.map((r) => r.master_key_id))], to: next.id, rewrapped: rows.length } }, tx);
      return { masterKeyId: next.id, rewrapped: rows.length };
    });
  }

  /** Settles a rotation left under way against what the data keys reference now, under the keyring lock. */
  private settle(rotator: MasterKeyRotator): Promise<void> {
    return this.db.transaction(async (tx) => {
      await lockKeyring(tx);
      const { rows } = await tx.query<{ master_key_id: string }>('SELECT DISTINCT master_key_id FROM secret_keys');
      await rotator.settle(new Set(rows.map((r) => r.master_key_id)));
    });
  }

  async list(): Promise<DataKeyInfo[]> {
    const { rows } = await this.db.query<{ id: number; status: 'active' | 'retired'; encryptions: number; master_key_id: string; created_at: Date; retired_at: Date | null }>(
      'SELECT id, status, encryptions, master_key_id, created_at, retired_at FROM secret_keys ORDER BY id',
    );
    return rows.map((r) => ({ id: r.id, status: r.status, encryptions: r.encryptions, masterKeyId: r.master_key_id, createdAt: r.created_at, retiredAt: r.retired_at }));
  }
}
