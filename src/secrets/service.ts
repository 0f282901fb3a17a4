import { randomBytes } from 'node:crypto';
import type { Principal } from '../core/principal.js';
import type { AuditLog } from '../core/audit.js';
import type { Clock } from '../core/clock.js';
import { logListenState } from '../core/listen-log.js';
import type { Logger } from '../core/log.js';
import { open, seal } from '../core/crypto.js';
import { toBuffer, type Db, type Listening, type Queryable } from '../core/db.js';
import { conflict, forbidden, invalidInput, notFound, SupervisorError } from '../core/errors.js';
import { grantAllows, grantsFor, ownsPath, projectFolder, projectOfFolder, type AccessMode } from './access.js';
import type { Keyring } from './keyring.js';
import type { ReadTracker } from './read-tracker.js';
import { decodeCursor, decodeIntCursor, encodeCursor, type Page } from '../core/page.js';
import { folderOf, prefixBounds } from './paths.js';
import { tooManySecrets, type Spread } from './too-many.js';
import { changePayload, FORGET_ALL, parseChange, ReadCache, SECRETS_CHANNEL, type CacheLimits } from './read-cache.js';
import type { ProjectData } from '../core/project-data.js';
import { byCodeUnits } from '../core/order.js';
import type { ProjectLookup } from '../projects/index.js';
import { secretProjectData } from './project-data.js';
import { buildRunEnv, type ReadSecret, type RunEnv, type RunEnvInput, type RunEnvPorts } from './run-env.js';

export interface SecretMeta {
  path: string;
  version: number;
  description: string | null;
  tags: string[];
  expiresAt: Date | null;
  rotationIntervalDays: number | null;
  valueChangedAt: Date;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
  lastReadAt: Date | null;
  readCount: number;
}

export interface SetSecretInput {
  path: string;
  value: string;
  /** Compare-and-set: the write happens only if the current version is this (0: only if the path is new). */
  ifVersion?: number;
  description?: string | null;
  tags?: string[];
  expiresAt?: Date | null;
  rotationIntervalDays?: number | null;
}

interface MetaRow {
  id: number;
  path: string;
  current_version: number;
  description: string | null;
  tags: string[];
  expires_at: Date | null;
  rotation_interval_days: number | null;
  value_changed_at: Date;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
  last_read_at: Date | null;
  read_count: number;
}

/** What decrypting one version needs: the AAD parts and the sealed bytes. */
interface SealedRow {
  path: string;
  version: number;
  key_id: number;
  iv: Buffer;
  ciphertext: Buffer;
}

/** version_created_at: when the version read was written (an older one's value changed then). */
type ValueRow = MetaRow & SealedRow & { version_created_at: Date };

/** A row locked for a write, with its live value (none for a new or deleted secret). */
interface Locked {
  row: MetaRow;
  value?: Buffer;
}

const META_COLUMNS = `s.id, s.path, s.current_version, s.description, s.tags, s.expires_at, s.rotation_interval_days,
  s.value_changed_at, s.created_at, s.updated_at, s.deleted_at, s.last_read_at, s.read_count`;

const toMeta = (r: MetaRow): SecretMeta => ({
  path: r.path,
  version: r.current_version,
  description: r.description,
  tags: r.tags,
  expiresAt: r.expires_at,
  rotationIntervalDays: r.rotation_interval_days,
  valueChangedAt: r.value_changed_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  deletedAt: r.deleted_at,
  lastReadAt: r.last_read_at,
  readCount: r.read_count,
});

/** The AAD binds a ciphertext to its path, version and key, so it cannot be replayed elsewhere. */
const aadFor = (path: string, version: number, keyId: number) => Buffer.from(`${path}\0${version}\0${keyId}`);

/** Whether a secret's expiresAt has passed at `now` (what get_secret, get_run_env and export_secrets call expired). */
const hasExpired = (expiresAt: Date | null, now: Date): boolean => expiresAt !== null && expiresAt <= now;

/** The current (or a given) version of a live secret: one SELECT; tracking and audit go to the ReadTracker. */
const READ_SQL = `
SELECT ${META_COLUMNS}, v.version, v.key_id, v.iv, v.ciphertext, v.created_at AS version_created_at
FROM secrets s JOIN secret_versions v ON v.secret_id = s.id AND v.version = COALESCE($2::int, s.current_version)
WHERE s.path = $1 AND s.deleted_at IS NULL`;

/**
 * The paths `folders` ($n, text[]) lets through: each folder and the secret it names
 * (a grant of project/x/key covers that secret and what is under it, as isUnder says);
 * an empty array lets everything through.
 */
const VISIBLE = (n: number) =>
  `(cardinality($${n}::text[]) = 0 OR EXISTS (SELECT 1 FROM unnest($${n}::text[]) AS f(folder) WHERE starts_with(s.path, f.folder) OR s.path = rtrim(f.folder, '/')))`;

/** readMany's scope: every live secret under the folder ($1 <= path < $2) or named by it ($3), that the principal may read ($4). */
const READ_MANY_SCOPE = `((s.path ~>=~ $1 AND s.path ~<~ $2) OR s.path = $3) AND s.deleted_at IS NULL AND ${VISIBLE(4)}`;

const READ_MANY_COUNT_SQL = `SELECT count(*)::int AS n FROM secrets s WHERE ${READ_MANY_SCOPE} AND s.current_version > 0`;

/** The same secrets counted per sub-folder of the folder ($5); the folder NULL for those directly in it. */
const READ_MANY_SPREAD_SQL = `
SELECT CASE WHEN position('/' IN substr(s.path, length($5) + 1)) > 0 THEN $5 || split_part(substr(s.path, length($5) + 1), '/', 1) || '/' END AS folder, count(*)::int AS n
FROM secrets s WHERE ${READ_MANY_SCOPE} AND s.current_version > 0
GROUP BY 1 ORDER BY 2 DESC, 1`;

/** readMany's statement. */
const READ_MANY_SQL = `
SELECT s.id, s.path, s.expires_at, v.version, v.key_id, v.iv, v.ciphertext
FROM secrets s JOIN secret_versions v ON v.secret_id = s.id AND v.version = s.current_version
WHERE ${READ_MANY_SCOPE}
ORDER BY s.path LIMIT $5`;

/** list's statement; exported for the test that checks its generic plan uses the path index. */
export const LIST_SQL = `SELECT ${META_COLUMNS} FROM secrets s
       WHERE s.path ~>=~ $1 AND s.path ~<~ $7 AND s.path > $2 AND s.current_version > 0 AND ($3 OR s.deleted_at IS NULL)
         AND ($4 OR position('/' IN substr(s.path, length($1) + 1)) = 0)
         AND ${VISIBLE(6)}
       ORDER BY s.path LIMIT $5`;

/** The secret a list's prefix names exactly (`list project/x/api_key`), listed before its folder's. */
const LIST_NAMED_SQL = `SELECT ${META_COLUMNS} FROM secrets s
       WHERE s.path = $1 AND s.current_version > 0 AND ($2 OR s.deleted_at IS NULL) AND ${VISIBLE(3)}`;

export type DueReason = 'expired' | 'expiring' | 'rotation_overdue' | 'rotation_due';

export interface DueInfo {
  /** expired / rotation_overdue: the deadline has passed; expiring / rotation_due: it falls within the window. */
  reasons: DueReason[];
  state: 'overdue' | 'due_soon';
  /** The nearest deadline: expiry or rotation, whichever comes first. */
  dueAt: Date;
  /** Whole days from now to dueAt, rounded down: 0 within a day, negative once it has passed. */
  daysLeft: number;
  /** When the value should be rotated (valueChangedAt + rotationIntervalDays); null without a rotation interval. */
  rotateBy: Date | null;
}

const DAY_MS = 86_400_000;

/** Why a secret listed by due() is there, and how urgent it is. */
function dueInfo(r: { expires_at: Date | null; value_changed_at: Date; rotation_interval_days: number | null }, now: Date, horizon: Date): DueInfo {
  const reasons: DueReason[] = [];
  const deadlines: number[] = [];
  if (r.expires_at && r.expires_at <= horizon) {
    reasons.push(r.expires_at <= now ? 'expired' : 'expiring');
    deadlines.push(r.expires_at.getTime());
  }
  const rotateBy = r.rotation_interval_days === null ? null : new Date(r.value_changed_at.getTime() + r.rotation_interval_days * DAY_MS);
  if (rotateBy !== null && rotateBy <= horizon) {
    reasons.push(rotateBy <= now ? 'rotation_overdue' : 'rotation_due');
    deadlines.push(rotateBy.getTime());
  }
  const dueAt = Math.min(...deadlines);
  return { reasons, state: dueAt <= now.getTime() ? 'overdue' : 'due_soon', dueAt: new Date(dueAt), daysLeft: Math.floor((dueAt - now.getTime()) / DAY_MS), rotateBy };
}

export interface SecretsDeps {
  db: Db;
  keyring: Keyring;
  /** For get_run_env's port variables. */
  ports?: RunEnvPorts;
  /** A grant is given only to a project that exists. */
  projects: ProjectLookup;
  clock: Clock;
  audit: AuditLog;
  reads: ReadTracker;
  maxValueBytes: number;
  /** Bounds of the cache of current rows of recently read secrets (read-cache.ts); off when absent. */
  cacheLimits?: CacheLimits;
  /** Where losing other daemons' notifications (the cache bypassed meanwhile) is said. */
  log?: Pick<Logger, 'warn' | 'info'>;
}

export class SecretsService {
  private readonly cache: ReadCache<ValueRow>;
  private listening: Listening | undefined;
  /** Tells this process's notifications from other daemons'. */
  private readonly instance = randomBytes(6).toString('hex');

  constructor(private readonly deps: SecretsDeps) {
    this.cache = new ReadCache(deps.cacheLimits ?? { entries: 0, bytes: 0 });
  }

  /** Listens for other daemons' writes, so the read cache can be trusted (PGlite: always). */
  async startCache(): Promise<void> {
    const said = this.deps.log ? logListenState(this.deps.log, SECRETS_CHANNEL, 'secret reads bypass the read cache') : () => undefined;
    this.listening = await this.db.listen(SECRETS_CHANNEL, {
      // Our own writes were forgotten when they were made; the echo would only evict a fresh row.
      message: (payload) => {
        const change = parseChange(payload);
        if (change.from !== this.instance) this.cache.forget(change.path);
      },
      state: (listening) => {
        said(listening);
        this.cache.setTrusted(listening);
      },
    });
  }

  /**
   * A mark that changes whenever the secret at `path` may have been written, here or (heard by
   * notification) by another daemon; undefined while other daemons' writes cannot be heard. A
   * caller keeping a value it read (Cloudflare's API token) compares marks, so a new value is
   * used at once rather than after some time.
   */
  changeMark(path: string): string | undefined {
    return this.cache.hearing ? this.cache.generation(path) : undefined;
  }

  /**
   * Whether a live secret is at `path`: a look at the row, not a read (nothing decrypted or
   * handed out, so not audited). For the supervisor's own services before they read a credential
   * they may not have been given yet: every Cloudflare call without a token wrote a failed read
   * of it into the audit log.
   */
  async exists(path: string): Promise<boolean> {
    if (this.cache.get(path)) return true;
    const { rows } = await this.db.query('SELECT 1 FROM secrets WHERE path = $1 AND deleted_at IS NULL', [path]);
    return rows.length > 0;
  }

  /** How the read cache stands (health checks, tests). */
  cacheStatus(): { enabled: boolean; entries: number; listenerPid: number | undefined } {
    return { enabled: this.cache.enabled, entries: this.cache.size, listenerPid: this.listening?.backendPid() };
  }

  async stop(): Promise<void> {
    await this.listening?.stop();
    this.cache.setTrusted(false);
    await this.deps.reads.flush();
  }

  /**
   * A write to `paths` in one transaction: the cache forgets them before (so a read
   * racing the write cannot store the old row) and after the commit, and the other
   * daemons are told in the transaction (a notification goes out only if it commits).
   */
  private async changing<T>(paths: readonly string[], write: (tx: Queryable) => Promise<T>): Promise<T> {
    const each = paths.length > 50 ? [FORGET_ALL] : paths;
    for (const path of each) this.cache.forget(path);
    try {
      return await this.db.transaction(async (tx) => {
        const result = await write(tx);
        for (const path of each) await tx.query('SELECT pg_notify($1, $2)', [SECRETS_CHANNEL, changePayload(this.instance, path)]);
        return result;
      });
    } finally {
      for (const path of each) this.cache.forget(path);
    }
  }

  /** Data keys and the master key that wraps them (the keys operations). */
  get keyring(): Keyring {
    return this.deps.keyring;
  }

  /** Buffered read tracking and audit rows, written now (tests). */
  flush(): Promise<void> {
    return this.deps.reads.flush();
  }

  /** What secrets hold about a project (its folder, its grants), for the projects domain. */
  projectData(): ProjectData {
    return secretProjectData({ audit: this.deps.audit, clock: this.deps.clock, forgetAll: () => this.cache.forget(FORGET_ALL) });
  }

  /** The environment `supervisor run` gives a project's command (see run-env.ts). */
  async runEnv(principal: Principal, input: RunEnvInput): Promise<RunEnv> {
    if (!this.deps.ports) throw new SupervisorError('unavailable', 'port variables need the ports domain, which is not wired here');
    // A misspelt project is named, not answered with an empty environment.
    await this.deps.projects.get(input.project);
    return buildRunEnv({ readMany: (p, prefix, limit, check) => this.readMany(p, prefix, limit, check), ports: this.deps.ports }, principal, input);
  }

  private get db(): Db {
    return this.deps.db;
  }

  /** Throws `forbidden` (and audits the denial) unless `principal` may `mode` the path. */
  async authorize(principal: Principal, path: string, mode: AccessMode, action = `secret.${mode}`): Promise<void> {
    if (ownsPath(principal, path)) return;
    if (principal.role === 'project' && grantAllows(await grantsFor(this.db, principal.project), path, mode)) return;
    await this.deps.audit.record({ actor: principal.actor, action, target: path, outcome: 'denied' });
    const project = principal.role === 'project' ? principal.project : 'meta';
    const hint = path.startsWith('meta/')
      ? 'meta/ paths need an admin token'
      : `a project token may use ${projectFolder(project)} and paths granted to it`;
    // A grant is a prefix: granting a secret's path also grants any secret stored under it, which the advice must say.
    throw forbidden(
      `project ${project} may not ${mode} ${path}: ${hint}; an admin can run \`supervisor secrets grant ${project} ${path} --access ${mode}\` (grant_secret_access over MCP), which covers ${folderOf(path)} too, like any grant`,
    );
  }

  async get(principal: Principal, input: { path: string; version?: number }): Promise<SecretMeta & { value: string; expired: boolean }> {
    // Access is checked on every read, cached or not.
    await this.authorize(principal, input.path, 'read');
    const now = this.deps.clock.now();
    const current = input.version === undefined;
    const generation = this.cache.generation(input.path);
    const hit = current ? this.cache.get(input.path) : undefined;
    let row = hit?.row;
    if (!row) {
      const { rows } = await this.db.query<ValueRow>(READ_SQL, [input.path, input.version ?? null]);
      row = rows[0];
    }
    if (!row) {
      await this.deps.audit.record({ actor: principal.actor, action: 'secret.read', target: input.path, outcome: 'error', detail: { code: 'not_found' } });
      throw await this.missing(input.path, input.version);
    }
    const plain = await this.decrypt(row);
    this.deps.reads.track({ secretId: row.id, path: row.path, version: row.version, actor: principal.actor, at: now });
    // Reads counted here since the row was read from the database (other daemons' reads show after a write).
    const readCount = hit ? ++hit.readCount : row.read_count + this.deps.reads.pending(row.id);
    if (current && !hit) this.cache.put(input.path, generation, row, readCount);
    const meta = toMeta(row);
    meta.version = row.version;
    // An older version's value is the one written then, not the current value's change.
    if (!current) meta.valueChangedAt = row.version_created_at;
    meta.lastReadAt = now;
    meta.readCount = readCount;
    // Not `{ ...toMeta(row), … }`: a spread followed by more keys takes V8's slow path, which cost
    // ~2 µs here and made every later step on the answer (validation, JSON) slower, on the hottest read.
    return Object.assign(meta, { value: plain.toString('utf8'), expired: hasExpired(row.expires_at, now) });
  }

  private async missing(path: string, version?: number): Promise<SupervisorError> {
    const { rows } = await this.db.query<{ deleted_at: Date | null; current_version: number }>('SELECT deleted_at, current_version FROM secrets WHERE path = $1', [path]);
    const row = rows[0];
    if (!row) return notFound(`no secret at ${path}; \`list_secrets\` shows the paths that exist`);
    if (row.deleted_at) return notFound(`the secret at ${path} was deleted; \`restore_secret\` brings it back`);
    return notFound(`the secret at ${path} has no version ${version} (current: ${row.current_version}); \`get_secret_history\` lists versions`);
  }

  /** `from` names where the value came from: the value field, or one entry of an import's content. */
  private checkValue(value: string, from: { field: string; label: string } = { field: 'value', label: 'value' }): Buffer {
    const refuse = (reason: string) => invalidInput(`${from.label}: ${reason}`, { field: from.field });
    if (value.length === 0) throw refuse('must not be empty; use delete_secret to remove a secret');
    if (value.includes('\0')) throw refuse('must not contain NUL bytes (secrets are text; base64-encode binary data)');
    const bytes = Buffer.from(value, 'utf8');
    if (bytes.length > this.deps.maxValueBytes) {
      throw refuse(`is ${bytes.length} bytes; secrets are limited to ${this.deps.maxValueBytes} bytes (SUPERVISOR_SECRET_MAX_BYTES)`);
    }
    return bytes;
  }

  /** An expiry already past is a mistake (a copied date, a wrong year): the secret would be due the moment it is stored. */
  private checkExpiry(expiresAt: Date | null | undefined): void {
    const now = this.deps.clock.now();
    if (expiresAt && expiresAt.getTime() <= now.getTime()) {
      throw invalidInput(`expiresAt: ${expiresAt.toISOString()} has already passed (now ${now.toISOString()}); give the time the credential stops working, or null for none`, { field: 'expiresAt' });
    }
  }

  set(principal: Principal, input: SetSecretInput): Promise<SecretMeta & { created: boolean }> {
    return this.write(principal, input);
  }

  /** `valueSince`: when the value was first stored, for a value written again (a rollback), not new now. */
  private async write(principal: Principal, input: SetSecretInput, valueSince?: Date): Promise<SecretMeta & { created: boolean }> {
    await this.authorize(principal, input.path, 'write');
    const plain = this.checkValue(input.value);
    this.checkExpiry(input.expiresAt);
    return this.changing([input.path], (tx) => this.writeIn(tx, principal, input, plain, { valueSince }));
  }

  /**
   * One write inside the caller's transaction: lock (or create) the row, check ifVersion, store a
   * new version. `locked` is the row and its live value when the caller has locked it already;
   * `valueSince` is when the value was first stored (now, unless it is an old one written again).
   */
  private async writeIn(
    tx: Queryable,
    principal: Principal,
    input: SetSecretInput,
    plain: Buffer,
    { locked, valueSince }: { locked?: Locked; valueSince?: Date } = {},
  ): Promise<SecretMeta & { created: boolean }> {
    const now = this.deps.clock.now();
    const { row: current, value } = locked ?? (await this.lockAndRead(tx, input.path, now));
    const liveVersion = current.deleted_at ? 0 : current.current_version;
    if (input.ifVersion !== undefined && input.ifVersion !== liveVersion) {
      throw conflict(`${input.path} is at version ${liveVersion}, not ${input.ifVersion}; read it again and retry with ifVersion ${liveVersion}`, { currentVersion: liveVersion });
    }
    // The same value written again is a new version, but not a change of value: rotation is due
    // from the last real change, or re-setting the old credential would hide it from list_due_secrets.
    const sameValue = value?.equals(plain) === true;
    const version = await this.storeVersion(tx, current.id, input.path, current.current_version + 1, plain, principal.actor, now);
    // A value written where a secret was deleted makes a new secret (created: true): it keeps the
    // old versions as history, but none of the deleted one's description, tags, expiry, rotation
    // interval, creation time or reads, which described a credential that is gone.
    const recreated = current.deleted_at !== null;
    // An expiry that has passed was the old credential's: a new value given no expiresAt starts
    // without one, or it would be expired the moment it is stored (set_secret refuses such a date).
    const { rows } = await tx.query<MetaRow>(
      `UPDATE secrets s SET current_version = $2, value_changed_at = CASE WHEN $11::boolean THEN value_changed_at ELSE $12 END, updated_at = $3, deleted_at = NULL,
         description = CASE WHEN $4::boolean THEN $5 WHEN $13::boolean THEN NULL ELSE description END,
         tags = COALESCE($6::text[], CASE WHEN $13::boolean THEN '{}' ELSE tags END),
         expires_at = CASE WHEN $7::boolean THEN $8::timestamptz WHEN $13::boolean OR (NOT $11::boolean AND expires_at <= $3) THEN NULL ELSE expires_at END,
         rotation_interval_days = CASE WHEN $9::boolean THEN $10::int WHEN $13::boolean THEN NULL ELSE rotation_interval_days END,
         created_at = CASE WHEN $13::boolean THEN $3 ELSE created_at END,
         last_read_at = CASE WHEN $13::boolean THEN NULL ELSE last_read_at END,
         read_count = CASE WHEN $13::boolean THEN 0 ELSE read_count END
       WHERE id = $1 RETURNING ${META_COLUMNS}`,
      [
        current.id, version, now,
        input.description !== undefined, input.description ?? null,
        input.tags ?? null,
        input.expiresAt !== undefined, input.expiresAt ?? null,
        input.rotationIntervalDays !== undefined, input.rotationIntervalDays ?? null,
        sameValue, valueSince ?? now,
        recreated,
      ],
    );
    await this.deps.audit.record({ actor: principal.actor, action: 'secret.write', target: input.path, outcome: 'ok', detail: { version } }, tx);
    return { ...toMeta(rows[0]!), created: liveVersion === 0 };
  }

  /**
   * Stores many values under `prefix` in one transaction: all or nothing. A value
   * equal to the current one is left alone, so importing the same file twice is a no-op.
   */
  async importMany(principal: Principal, prefix: string, entries: Array<{ path: string; value: string }>, overwrite: boolean): Promise<Record<'created' | 'updated' | 'unchanged' | 'skipped', string[]>> {
    // The folder's paths, and the secret the prefix itself names (see pathForKey), each as its own access.
    if (entries.length === 0 || entries.some((e) => e.path !== prefix)) await this.authorize(principal, folderOf(prefix), 'write', 'secret.import');
    if (entries.some((e) => e.path === prefix)) await this.authorize(principal, prefix, 'write', 'secret.import');
    const plains = entries.map((e) => ({ ...e, plain: this.checkValue(e.value, { field: 'content', label: `content: the value for ${e.path}` }) }));
    const result = { created: [] as string[], updated: [] as string[], unchanged: [] as string[], skipped: [] as string[] };
    const outcome = new Map<string, keyof typeof result>();
    await this.changing(plains.map((e) => e.path), async (tx) => {
      // Rows are locked before their value is compared (a concurrent import's write is seen, never
      // overwritten against --no-overwrite), and in path order, so two imports cannot deadlock.
      for (const entry of [...plains].sort((a, b) => byCodeUnits(a.path, b.path))) {
        const locked = await this.lockAndRead(tx, entry.path, this.deps.clock.now());
        if (locked.value !== undefined && !overwrite) outcome.set(entry.path, 'skipped');
        else if (locked.value?.equals(entry.plain)) outcome.set(entry.path, 'unchanged');
        else {
          const written = await this.writeIn(tx, principal, { path: entry.path, value: entry.value }, entry.plain, { locked });
          outcome.set(entry.path, written.created ? 'created' : 'updated');
        }
      }
    });
    // The answer lists paths in the file's order.
    for (const { path } of plains) result[outcome.get(path)!].push(path);
    return result;
  }

  /**
   * Decrypts the current version of every secret (deleted ones too), reading no
   * value out and recording nothing: the check after a database is copied or restored.
   */
  async verifyDecryptable(): Promise<{ checked: number; failed: string[] }> {
    const { rows } = await this.db.query<SealedRow>(
      `SELECT s.path, v.version, v.key_id, v.iv, v.ciphertext FROM secrets s
       JOIN secret_versions v ON v.secret_id = s.id AND v.version = s.current_version ORDER BY s.path`,
    );
    const failed: string[] = [];
    for (const row of rows) await this.decrypt(row).catch(() => failed.push(row.path));
    return { checked: rows.length, failed };
  }

  /** Locks (or creates) the row, then reads its live value: undefined for a new or deleted secret. */
  private async lockAndRead(tx: Queryable, path: string, now: Date): Promise<Locked> {
    const row = await this.lockForWrite(tx, path, now);
    if (row.deleted_at || row.current_version === 0) return { row };
    const { rows } = await tx.query<SealedRow>(
      `SELECT s.path, v.version, v.key_id, v.iv, v.ciphertext FROM secrets s
       JOIN secret_versions v ON v.secret_id = s.id AND v.version = s.current_version WHERE s.id = $1`,
      [row.id],
    );
    return { row, value: rows[0] && (await this.decrypt(rows[0])) };
  }

  private async decrypt(row: SealedRow): Promise<Buffer> {
    const key = await this.deps.keyring.keyById(row.key_id);
    return open(key, { iv: toBuffer(row.iv), ciphertext: toBuffer(row.ciphertext) }, aadFor(row.path, row.version, row.key_id));
  }

  /**
   * Current values under a prefix (recursive, and the secret the prefix itself names), each
   * read tracked and audited like get_secret. A project token reading above its folder and
   * its grants gets just those (a grant may be one secret); with none there, forbidden.
   * `check` sees the paths before any value is decrypted or any read recorded: a refusal it
   * throws (two paths giving one variable, a protected name) reads nothing. Above `limit` the
   * refusal says how to narrow the prefix, and to raise the limit when the caller takes up to `most`.
   */
  async readMany(principal: Principal, prefix: string, limit: number, check?: (paths: readonly string[]) => void, most = limit): Promise<ReadSecret[]> {
    const folder = folderOf(prefix);
    const visible = await this.visibility(principal, folder, () => this.authorize(principal, folder, 'read', 'secret.export'));
    const bounds = prefixBounds(folder);
    const scope = [bounds.lower, bounds.upper, folder.slice(0, -1), visible];
    const { rows: counted } = await this.db.query<{ n: number }>(READ_MANY_COUNT_SQL, scope);
    if (counted[0]!.n > limit) throw tooManySecrets(await this.spread(scope, folder), limit, most);
    const { rows } = await this.db.query<SealedRow & { id: number; expires_at: Date | null }>(READ_MANY_SQL, [...scope, limit]);
    // Nothing in a project's folder because there is no such project (a typo): said, not answered empty.
    const owner = rows.length === 0 ? projectOfFolder(folder) : undefined;
    if (owner !== undefined) await this.deps.projects.get(owner);
    check?.(rows.map((r) => r.path));
    const now = this.deps.clock.now();
    return Promise.all(
      rows.map(async (r) => {
        const value = (await this.decrypt(r)).toString('utf8');
        this.deps.reads.track({ secretId: r.id, path: r.path, version: r.version, actor: principal.actor, at: now });
        // A cached get_secret answers the read count it keeps: reads made here count there too.
        this.cache.counted(r.path);
        return { path: r.path, value, expiresAt: r.expires_at, expired: hasExpired(r.expires_at, now) };
      }),
    );
  }

  /** How the secrets readMany would take are spread over the folder's sub-folders, for advice on narrowing it. */
  private async spread(scope: unknown[], folder: string): Promise<Spread> {
    const { rows } = await this.db.query<{ folder: string | null; n: number }>(READ_MANY_SPREAD_SQL, [...scope, folder]);
    const folders = rows.flatMap((r) => (r.folder === null ? [] : [{ folder: r.folder, count: r.n }]));
    return { folder, count: rows.reduce((sum, r) => sum + r.n, 0), direct: rows.find((r) => r.folder === null)?.n ?? 0, folders };
  }

  /** Locks the row for the path, creating an empty one (version 0) when the path is new. */
  private async lockForWrite(tx: Queryable, path: string, now: Date): Promise<MetaRow> {
    await tx.query(
      `INSERT INTO secrets (path, current_version, value_changed_at, created_at, updated_at) VALUES ($1, 0, $2, $2, $2)
       ON CONFLICT (path) DO NOTHING`,
      [path, now],
    );
    const { rows } = await tx.query<MetaRow>(`SELECT ${META_COLUMNS} FROM secrets s WHERE path = $1 FOR UPDATE`, [path]);
    return rows[0]!;
  }

  private async storeVersion(tx: Queryable, secretId: number, path: string, version: number, plain: Buffer, actor: string, now: Date): Promise<number> {
    const { id: keyId, key } = await this.deps.keyring.keyForEncryption(tx);
    const sealed = seal(key, plain, aadFor(path, version, keyId));
    await tx.query(
      `INSERT INTO secret_versions (secret_id, version, key_id, iv, ciphertext, size, created_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [secretId, version, keyId, sealed.iv, sealed.ciphertext, plain.length, now, actor],
    );
    return version;
  }

  /** Soft delete: the path disappears from reads and lists; versions stay for restore_secret. */
  async delete(principal: Principal, input: { path: string; ifVersion?: number }): Promise<SecretMeta> {
    await this.authorize(principal, input.path, 'write', 'secret.delete');
    const now = this.deps.clock.now();
    const deleted = await this.changing([input.path], async (tx) => {
      const row = await this.lockExisting(tx, input.path);
      if (row.deleted_at) throw notFound(`the secret at ${input.path} is already deleted`);
      if (input.ifVersion !== undefined && input.ifVersion !== row.current_version) {
        throw conflict(`${input.path} is at version ${row.current_version}, not ${input.ifVersion}`, { currentVersion: row.current_version });
      }
      const { rows } = await tx.query<MetaRow>(`UPDATE secrets s SET deleted_at = $2, updated_at = $2 WHERE id = $1 RETURNING ${META_COLUMNS}`, [row.id, now]);
      await this.deps.audit.record({ actor: principal.actor, action: 'secret.delete', target: input.path, outcome: 'ok', detail: { version: row.current_version } }, tx);
      return toMeta(rows[0]!);
    });
    // Its buffered reads are written now, while they count for it: written after a value is set at
    // the path again, they would count for that new secret (which starts with no reads).
    await this.deps.reads.flush();
    return deleted;
  }

  async restore(principal: Principal, input: { path: string }): Promise<SecretMeta> {
    await this.authorize(principal, input.path, 'write', 'secret.restore');
    const now = this.deps.clock.now();
    return this.changing([input.path], async (tx) => {
      const row = await this.lockExisting(tx, input.path);
      if (!row.deleted_at) throw conflict(`the secret at ${input.path} is not deleted`);
      const { rows } = await tx.query<MetaRow>(`UPDATE secrets s SET deleted_at = NULL, updated_at = $2 WHERE id = $1 RETURNING ${META_COLUMNS}`, [row.id, now]);
      await this.deps.audit.record({ actor: principal.actor, action: 'secret.restore', target: input.path, outcome: 'ok', detail: { version: row.current_version } }, tx);
      return toMeta(rows[0]!);
    });
  }

  private async lockExisting(tx: Queryable, path: string): Promise<MetaRow> {
    const { rows } = await tx.query<MetaRow>(`SELECT ${META_COLUMNS} FROM secrets s WHERE path = $1 AND current_version > 0 FOR UPDATE`, [path]);
    if (!rows[0]) throw notFound(`no secret at ${path}; \`list_secrets\` shows the paths that exist`);
    return rows[0];
  }

  /**
   * Writes the value of an older version as a new version; history keeps everything. The value
   * changed when that version was written: the old credential back in use is as due for rotation
   * as it was then, not fresh.
   */
  async rollback(principal: Principal, input: { path: string; toVersion: number; ifVersion?: number }): Promise<SecretMeta> {
    const old = await this.get(principal, { path: input.path, version: input.toVersion });
    // The read of the old value is counted in the answer always, not only when its buffered flush wins the race with the write.
    await this.deps.reads.flush();
    const { created: _created, ...meta } = await this.write(principal, { path: input.path, value: old.value, ifVersion: input.ifVersion }, old.valueChangedAt);
    await this.deps.audit.record({ actor: principal.actor, action: 'secret.rollback', target: input.path, outcome: 'ok', detail: { from: input.toVersion, version: meta.version } });
    return meta;
  }

  async history(
    principal: Principal,
    input: { path: string; limit: number; cursor?: string },
  ): Promise<Page<{ version: number; keyId: number; size: number; createdAt: Date; createdBy: string; current: boolean }> & { deletedAt: Date | null }> {
    await this.authorize(principal, input.path, 'read', 'secret.history');
    const before = input.cursor !== undefined ? decodeIntCursor(input.cursor) : null;
    const { rows } = await this.db.query<{ version: number; key_id: number; size: number; created_at: Date; created_by: string; current_version: number; deleted_at: Date | null }>(
      `SELECT v.version, v.key_id, v.size, v.created_at, v.created_by, s.current_version, s.deleted_at
       FROM secrets s JOIN secret_versions v ON v.secret_id = s.id
       WHERE s.path = $1 AND ($2::int IS NULL OR v.version < $2) ORDER BY v.version DESC LIMIT $3`,
      [input.path, before, input.limit + 1],
    );
    if (rows.length === 0 && before === null) throw await this.missing(input.path);
    const page = rows.slice(0, input.limit);
    return {
      items: page.map((r) => ({ version: r.version, keyId: r.key_id, size: r.size, createdAt: r.created_at, createdBy: r.created_by, current: r.version === r.current_version })),
      // Read with the versions; a page past the last version has no row to read it from.
      deletedAt: rows.length > 0 ? rows[0]!.deleted_at : await this.deletedAt(input.path),
      nextCursor: rows.length > input.limit ? encodeCursor(String(page.at(-1)!.version)) : null,
    };
  }

  private async deletedAt(path: string): Promise<Date | null> {
    const { rows } = await this.db.query<{ deleted_at: Date | null }>('SELECT deleted_at FROM secrets WHERE path = $1', [path]);
    return rows[0]?.deleted_at ?? null;
  }

  /**
   * Metadata under a prefix, sorted by path. Non-recursive lists only direct
   * children and names the sub-folders. Project principals default to their folder.
   */
  async list(principal: Principal, input: { prefix?: string; recursive: boolean; includeDeleted: boolean; limit: number; cursor?: string }): Promise<Page<SecretMeta> & { prefix: string; folders: string[] }> {
    const prefix = input.prefix ? folderOf(input.prefix) : principal.role === 'admin' ? '' : projectFolder(principal.project);
    await this.deps.reads.flush();
    const visible = await this.visibility(principal, prefix, async (project) => {
      await this.deps.audit.record({ actor: principal.actor, action: 'secret.list', target: prefix, outcome: 'denied' });
      throw forbidden(`project ${project} may not list ${prefix}: a project token lists ${projectFolder(project)} and paths granted to it`);
    });
    const after = input.cursor !== undefined ? decodeCursor(input.cursor) : '';
    // A prefix naming a secret lists it too, as readMany reads it: it sorts before its folder's paths, so only the first page has it.
    const named = input.cursor === undefined && input.prefix && !input.prefix.endsWith('/')
      ? (await this.db.query<MetaRow>(LIST_NAMED_SQL, [input.prefix, input.includeDeleted, visible])).rows
      : [];
    const limit = input.limit - named.length;
    const bounds = prefixBounds(prefix);
    const { rows } = await this.db.query<MetaRow>(LIST_SQL, [bounds.lower, after, input.includeDeleted, input.recursive, limit + 1, visible, bounds.upper]);
    const page = [...named, ...rows.slice(0, limit)];
    const folders = input.recursive ? [] : await this.subfolders(prefix, visible);
    return {
      prefix,
      items: page.map(toMeta),
      folders,
      nextCursor: rows.length > limit ? encodeCursor(page.at(-1)!.path) : null,
    };
  }

  /**
   * The folders under `prefix` a principal may read: everything for admins; for a
   * project, its own folder and its grants (a grant of one secret is that secret's
   * folder). Empty array means "no restriction"; with nothing readable, `deny` throws.
   */
  private async visibility(principal: Principal, prefix: string, deny: (project: string) => Promise<void>): Promise<string[]> {
    if (principal.role === 'admin') return [];
    const own = projectFolder(principal.project);
    if (prefix.startsWith(own)) return [];
    const grants = await grantsFor(this.db, principal.project);
    if (grants.some((g) => prefix.startsWith(folderOf(g.prefix)))) return [];
    // Reading above the project's folders gives only what it may read.
    const reachable = [own, ...grants.map((g) => folderOf(g.prefix))].filter((f) => f.startsWith(prefix));
    if (reachable.length === 0) await deny(principal.project);
    return reachable;
  }

  private async subfolders(prefix: string, visible: string[]): Promise<string[]> {
    const { rows } = await this.db.query<{ folder: string }>(
      `SELECT DISTINCT $2 || split_part(substr(path, length($2) + 1), '/', 1) || '/' AS folder FROM secrets
       WHERE path ~>=~ $1 AND path ~<~ $3 AND position('/' IN substr(path, length($2) + 1)) > 0 AND deleted_at IS NULL AND current_version > 0
       ORDER BY folder LIMIT 500`,
      [prefixBounds(prefix).lower, prefix, prefixBounds(prefix).upper],
    );
    const folders = rows.map((r) => r.folder);
    return visible.length === 0 ? folders : folders.filter((f) => visible.some((v) => v.startsWith(f) || f.startsWith(v)));
  }

  /**
   * Secrets expired, expiring within `withinDays`, or due for rotation, visible to the principal;
   * each with its nearest deadline (dueAt), whole days left to it (negative once passed) and a
   * state an agent can act on: overdue (a deadline has passed) or due_soon.
   */
  async due(principal: Principal, input: { withinDays: number; limit: number; cursor?: string }): Promise<Page<SecretMeta & DueInfo>> {
    const now = this.deps.clock.now();
    const horizon = new Date(now.getTime() + input.withinDays * 86_400_000);
    const scope = principal.role === 'admin' ? '' : projectFolder(principal.project);
    await this.deps.reads.flush();
    const after = input.cursor !== undefined ? decodeCursor(input.cursor) : '';
    const { rows } = await this.db.query<MetaRow>(
      `SELECT ${META_COLUMNS} FROM secrets s
       WHERE s.deleted_at IS NULL AND s.current_version > 0 AND s.path ~>=~ $1 AND s.path ~<~ $5 AND s.path > $2
         AND (s.expires_at <= $3 OR s.value_changed_at + make_interval(days => s.rotation_interval_days) <= $3)
       ORDER BY s.path LIMIT $4`,
      [prefixBounds(scope).lower, after, horizon, input.limit + 1, prefixBounds(scope).upper],
    );
    const page = rows.slice(0, input.limit);
    return {
      items: page.map((r) => ({ ...toMeta(r), ...dueInfo(r, now, horizon) })),
      nextCursor: rows.length > input.limit ? encodeCursor(page.at(-1)!.path) : null,
    };
  }

  async grant(actor: string, grant: { project: string; prefix: string; access: AccessMode }): Promise<{ project: string; prefix: string; access: AccessMode; previous: AccessMode | null; note?: string }> {
    const prefix = folderOf(grant.prefix);
    const previous = await this.db.transaction(async (tx) => {
      // A grant left behind by a removal would open the folder to a later project of that name;
      // so would a grant into the folder of a project not yet made (or a typo of one).
      await this.deps.projects.hold(grant.project, tx);
      const owner = projectOfFolder(prefix);
      if (owner !== undefined && owner !== grant.project) await this.deps.projects.hold(owner, tx);
      // Inserted, it is new; else the row there (a concurrent grant's waited for) is locked, read and replaced,
      // so of two grants at once the second says what the first gave.
      const inserted = await tx.query(
        'INSERT INTO secret_grants (project, prefix, access, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (project, prefix) DO NOTHING',
        [grant.project, prefix, grant.access, this.deps.clock.now()],
      );
      let was: AccessMode | null = null;
      if (inserted.rowCount === 0) {
        const { rows } = await tx.query<{ access: AccessMode }>('SELECT access FROM secret_grants WHERE project = $1 AND prefix = $2 FOR UPDATE', [grant.project, prefix]);
        was = rows[0]!.access;
        await tx.query('UPDATE secret_grants SET access = $3 WHERE project = $1 AND prefix = $2', [grant.project, prefix, grant.access]);
      }
      await this.deps.audit.record({ actor, action: 'secret.grant', target: prefix, outcome: 'ok', detail: { project: grant.project, access: grant.access, previous: was } }, tx);
      return was;
    });
    // A grant replaces the one there was: given again without write (read is the default), write access is gone.
    const note = previous === 'write' && grant.access === 'read' ? `${grant.project} had write access to ${prefix}; it now has read access only (grant again with access write to keep writing)` : undefined;
    return { ...grant, prefix, previous, ...(note ? { note } : {}) };
  }

  async revokeGrant(actor: string, input: { project: string; prefix: string }): Promise<{ removed: boolean }> {
    const { rowCount } = await this.db.query('DELETE FROM secret_grants WHERE project = $1 AND prefix = $2', [input.project, folderOf(input.prefix)]);
    await this.deps.audit.record({ actor, action: 'secret.revoke_grant', target: folderOf(input.prefix), outcome: 'ok', detail: { project: input.project, removed: rowCount > 0 } });
    return { removed: rowCount > 0 };
  }

  async listGrants(project?: string): Promise<Array<{ project: string; prefix: string; access: AccessMode }>> {
    const { rows } = await this.db.query<{ project: string; prefix: string; access: AccessMode }>(
      'SELECT project, prefix, access FROM secret_grants WHERE ($1::text IS NULL OR project = $1) ORDER BY project, prefix',
      [project ?? null],
    );
    return rows;
  }
}
