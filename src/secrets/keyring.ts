import { generateKey, open, pack, seal, unpack } from '../core/crypto.js';
import type { Clock } from '../core/clock.js';
import { toBuffer, type Db, type Queryable } from '../core/db.js';
import { SupervisorError } from '../core/errors.js';
import type { MasterKeys } from './master-key.js';

/** Serialises key rotations across processes sharing the database. */
const KEYRING_LOCK_KEY = 7_420_002;

interface KeyRow {
  id: number;
  wrapped: Buffer;
  master_key_id: string;
  encryptions: number;
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

/**
 * Data keys encrypt secret values; the master key only wraps data keys. Rotating
 * the data key starts a new key id (old versions keep theirs); rotating the master
 * key rewraps every data key without touching a single secret.
 */
export class Keyring {
  private readonly unwrapped = new Map<number, Buffer>();

  constructor(
    private readonly db: Db,
    private readonly master: MasterKeys,
    private readonly clock: Clock,
    private readonly rotateAfter: number,
  ) {}

  /** Creates the first data key if needed, finishes an interrupted master rotation, and checks the master key fits. */
  async init(): Promise<void> {
    await this.finishInterruptedMasterRotation();
    await this.db.query(
      `INSERT INTO secret_keys (id, wrapped, master_key_id, status, created_at)
       SELECT 1, $1, $2, 'active', $3 WHERE NOT EXISTS (SELECT 1 FROM secret_keys)
       ON CONFLICT DO NOTHING`,
      [this.wrap(1, generateKey()), this.master.primary.id, this.clock.now()],
    );
    const { rows } = await this.db.query<KeyRow>(`SELECT id, wrapped, master_key_id, encryptions FROM secret_keys WHERE status = 'active'`);
    if (rows[0]) this.unwrap(rows[0]);
  }

  private async finishInterruptedMasterRotation(): Promise<void> {
    const nextId = this.master.nextId;
    if (!nextId) return;
    const { rows } = await this.db.query('SELECT 1 FROM secret_keys WHERE master_key_id = $1 LIMIT 1', [nextId]);
    if (rows.length > 0) await this.master.promoteNext();
    else await this.master.discardNext();
  }

  private wrap(id: number, key: Buffer, masterKey = this.master.primary.key): Buffer {
    return pack(seal(masterKey, key, wrapAad(id)));
  }

  private unwrap(row: KeyRow): Buffer {
    const cached = this.unwrapped.get(row.id);
    if (cached) return cached;
    const master = this.master.byId(row.master_key_id);
    if (!master) {
      throw new SupervisorError('integrity', `data key ${row.id} is wrapped by master key ${row.master_key_id}, which is not loaded; set SUPERVISOR_MASTER_KEY or restore master.key from backup`);
    }
    const key = open(master, unpack(toBuffer(row.wrapped)), wrapAad(row.id));
    this.unwrapped.set(row.id, key);
    return key;
  }

  /** The key that decrypts values stored under `id`. */
  async keyById(id: number, q: Queryable = this.db): Promise<Buffer> {
    const cached = this.unwrapped.get(id);
    if (cached) return cached;
    const { rows } = await q.query<KeyRow>('SELECT id, wrapped, master_key_id, encryptions FROM secret_keys WHERE id = $1', [id]);
    if (!rows[0]) throw new SupervisorError('integrity', `data key ${id} is missing from the keyring`);
    return this.unwrap(rows[0]);
  }

  /**
   * The active key for one new encryption, counted inside the caller's
   * transaction; starts a new key when the count reaches the limit.
   */
  async keyForEncryption(tx: Queryable): Promise<{ id: number; key: Buffer }> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const { rows } = await tx.query<KeyRow>(
        `UPDATE secret_keys SET encryptions = encryptions + 1 WHERE status = 'active'
         RETURNING id, wrapped, master_key_id, encryptions`,
      );
      const row = rows[0];
      // Empty when a concurrent rotation retired the row we waited on: look again.
      if (!row) continue;
      if (row.encryptions >= this.rotateAfter) {
        const fresh = await this.startNewKey(tx);
        await tx.query('UPDATE secret_keys SET encryptions = 1 WHERE id = $1', [fresh.id]);
        return fresh;
      }
      return { id: row.id, key: this.unwrap(row) };
    }
    throw new SupervisorError('unavailable', 'no active data key; the keyring is being rotated, try again');
  }

  private async startNewKey(tx: Queryable): Promise<{ id: number; key: Buffer }> {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [KEYRING_LOCK_KEY]);
    const now = this.clock.now();
    await tx.query(`UPDATE secret_keys SET status = 'retired', retired_at = $1 WHERE status = 'active'`, [now]);
    const { rows } = await tx.query<{ id: number }>('SELECT COALESCE(MAX(id), 0) + 1 AS id FROM secret_keys');
    const id = rows[0]!.id;
    const key = generateKey();
    await tx.query(
      `INSERT INTO secret_keys (id, wrapped, master_key_id, status, created_at) VALUES ($1, $2, $3, 'active', $4)`,
      [id, this.wrap(id, key), this.master.primary.id, now],
    );
    this.unwrapped.set(id, key);
    return { id, key };
  }

  async rotateDataKey(): Promise<{ activeKeyId: number; retiredKeyId: number | null }> {
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [KEYRING_LOCK_KEY]);
      const before = await tx.query<{ id: number }>(`SELECT id FROM secret_keys WHERE status = 'active' FOR UPDATE`);
      const fresh = await this.startNewKey(tx);
      return { activeKeyId: fresh.id, retiredKeyId: before.rows[0]?.id ?? null };
    });
  }

  /** Rewraps every data key under a new master key (file mode). Secrets are not touched. */
  async rotateMasterKey(): Promise<{ masterKeyId: string; rewrapped: number }> {
    const next = generateKey();
    await this.master.stageNext(next);
    const nextId = this.master.nextId!;
    const rewrapped = await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [KEYRING_LOCK_KEY]);
      const { rows } = await tx.query<KeyRow>('SELECT id, wrapped, master_key_id, encryptions FROM secret_keys ORDER BY id FOR UPDATE');
      for (const row of rows) {
        const key = this.unwrap(row);
        await tx.query('UPDATE secret_keys SET wrapped = $2, master_key_id = $3 WHERE id = $1', [row.id, this.wrap(row.id, key, next), nextId]);
      }
      return rows.length;
    });
    await this.master.promoteNext();
    return { masterKeyId: nextId, rewrapped };
  }

  async list(): Promise<DataKeyInfo[]> {
    const { rows } = await this.db.query<{ id: number; status: 'active' | 'retired'; encryptions: number; master_key_id: string; created_at: Date; retired_at: Date | null }>(
      'SELECT id, status, encryptions, master_key_id, created_at, retired_at FROM secret_keys ORDER BY id',
    );
    return rows.map((r) => ({ id: r.id, status: r.status, encryptions: r.encryptions, masterKeyId: r.master_key_id, createdAt: r.created_at, retiredAt: r.retired_at }));
  }
}
