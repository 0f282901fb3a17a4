import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { logListenState } from '../core/listen-log.js';
import type { Logger } from '../core/log.js';
import type { Clock } from '../core/clock.js';
import type { AuditLog } from '../core/audit.js';
import { toBuffer, type Db, type Listening, type Queryable } from '../core/db.js';
import { conflict, invalidInput, notFound } from '../core/errors.js';
import { META } from '../core/names.js';
import type { AfterCommit } from '../core/project-data.js';
import type { ProjectLookup } from '../projects/index.js';
import { schemaLockKey } from '../core/schema-lock.js';
import { adminPrincipal, projectPrincipal, type Principal } from '../core/principal.js';

/** Tokens look like `svt_<id>_<secret>`: the id finds the row, the secret is compared by hash. */
const TOKEN_PATTERN = /^svt_([a-f0-9]{12})_([A-Za-z0-9_-]{43})$/;

/**
 * Verified tokens are remembered briefly so a busy client does not cost a query per
 * request. Revocations on any daemon sharing the database reach the others as
 * notifications, and the cache is used only while they are heard, so a revoked
 * token is refused everywhere as soon as the notification arrives.
 */
const CACHE_MS = 10_000;
/** Notification channel for revocations: token ids separated by commas, or `*` for "forget every token". */
export const TOKENS_CHANNEL = 'supervisor_tokens';
const FORGET_ALL = '*';
/** last_used_at is written at most this often per token. */
const TOUCH_MS = 60_000;
/** Taken while a first start looks for an admin token and makes one. */
const FIRST_ADMIN_LOCK = schemaLockKey('first-admin-token');

export interface TokenInfo {
  id: string;
  name: string;
  project: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

interface TokenRow {
  id: string;
  name: string;
  project: string | null;
  secret_hash: Buffer;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const hash = (secret: string) => createHash('sha256').update(secret).digest();

const toInfo = (r: TokenRow): TokenInfo => ({
  id: r.id,
  name: r.name,
  project: r.project,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

export class TokenService {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();
  /** When last_used_at was last written, per token id: at most once per TOUCH_MS, whatever the cache does. */
  private readonly touched = new Map<string, number>();
  /** Verifications under way, so concurrent requests with one token share a query (and never each write last_used_at). */
  private readonly inFlight = new Map<string, Promise<Principal | undefined>>();
  private listening: Listening | undefined;
  /** Whether revocations by other daemons are heard; until then (and while they are not) nothing is cached. */
  private trusted = false;
  /**
   * Bumped by every forget: a lookup that began before a revocation was heard must not
   * put the token back into the cache when it ends after it.
   */
  private generation = 0;
  /** Revocation notifications received (our own included). */
  private heard = 0;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    private readonly log?: Pick<Logger, 'warn' | 'info'>,
  ) {}

  /** Listens for revocations made by other daemons (PGlite: nobody else, always listening). */
  async start(): Promise<void> {
    const said = this.log ? logListenState(this.log, TOKENS_CHANNEL, 'every token is looked up in the database at each request') : () => undefined;
    this.listening = await this.db.listen(TOKENS_CHANNEL, {
      message: (ids) => {
        this.heard++;
        if (ids === FORGET_ALL) this.forgetAll();
        else for (const id of ids.split(',')) this.forget(id);
      },
      state: (listening) => {
        said(listening);
        this.trusted = listening;
        this.forgetAll();
      },
    });
  }

  /** How the verification cache stands (health checks, tests). */
  cacheStatus(): { enabled: boolean; entries: number; listenerPid: number | undefined; revocationsHeard: number } {
    return { enabled: this.trusted, entries: this.cache.size, listenerPid: this.listening?.backendPid(), revocationsHeard: this.heard };
  }

  async stop(): Promise<void> {
    await this.listening?.stop();
    this.trusted = false;
    this.forgetAll();
  }

  /**
   * Creates a token, audited (who made which token for what scope; never the secret). The
   * returned `token` string is the only time the secret exists outside the caller.
   */
  async create(input: { name: string; project: string | null }, actor = 'system', projects?: Pick<ProjectLookup, 'hold'>): Promise<TokenInfo & { token: string }> {
    if (input.project === META) throw invalidInput(`project "${META}" is the admin scope; create an admin token instead (admin)`);
    const project = input.project;
    return this.db.transaction(async (tx) => {
      // In the inserting transaction: a project removed meanwhile must not leave a live token that
      // a later project of its name would inherit.
      if (project !== null) await projects?.hold(project, tx);
      return this.insert(tx, input, actor);
    });
  }

  /**
   * The first admin token, when no admin token is in use: what a daemon's first start prints.
   * Checked and made under a lock in one transaction, so daemons starting together on an empty
   * database make one, not one each.
   */
  async createFirstAdmin(actor: string): Promise<(TokenInfo & { token: string }) | undefined> {
    return this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(${FIRST_ADMIN_LOCK})`);
      // Any admin token ever made, revoked too: admin tokens revoked after a leak must not come
      // back as a new one printed at the next start (`token create --admin` makes another).
      const { rows } = await tx.query('SELECT 1 FROM tokens WHERE project IS NULL LIMIT 1');
      return rows.length > 0 ? undefined : this.insert(tx, { name: 'initial-admin', project: null }, actor);
    });
  }

  private async insert(tx: Queryable, input: { name: string; project: string | null }, actor: string): Promise<TokenInfo & { token: string }> {
    const id = randomBytes(6).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const { rows } = await tx.query<TokenRow>(
      `INSERT INTO tokens (id, name, project, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [id, input.name, input.project, hash(secret), this.clock.now()],
    );
    await this.audit.record({ actor, action: 'token.create', target: id, outcome: 'ok', detail: { name: input.name, scope: input.project ?? 'admin' } }, tx);
    return { ...toInfo(rows[0]!), token: `svt_${id}_${secret}` };
  }

  /** The principal a presented token stands for, or undefined when it is unknown, malformed or revoked. */
  async verify(presented: string): Promise<Principal | undefined> {
    const match = TOKEN_PATTERN.exec(presented);
    if (!match) return undefined;
    const [, id, secret] = match as unknown as [string, string, string];
    const now = this.clock.now().getTime();
    const cached = this.trusted ? this.cache.get(presented) : undefined;
    if (cached && cached.until > now) return cached.principal;
    const running = this.inFlight.get(presented);
    if (running) return running;
    const verified: Promise<Principal | undefined> = this.lookUp(presented, id, secret, now).finally(() => {
      if (this.inFlight.get(presented) === verified) this.inFlight.delete(presented);
    });
    this.inFlight.set(presented, verified);
    return verified;
  }

  private async lookUp(presented: string, id: string, secret: string, now: number): Promise<Principal | undefined> {
    const generation = this.generation;
    const { rows } = await this.db.query<TokenRow>('SELECT * FROM tokens WHERE id = $1 AND revoked_at IS NULL', [id]);
    const row = rows[0];
    if (!row || !timingSafeEqual(toBuffer(row.secret_hash), hash(secret))) return undefined;
    const actor = `token:${row.name}(${row.id})`;
    const principal = row.project === null ? adminPrincipal(actor) : projectPrincipal(row.project, actor);
    const touched = this.touched.get(id);
    if (touched === undefined || now - touched >= TOUCH_MS) {
      this.touched.set(id, now);
      await this.db.query('UPDATE tokens SET last_used_at = $2 WHERE id = $1', [id, new Date(now)]);
    }
    if (this.trusted && this.generation === generation) this.cache.set(presented, { principal, until: now + CACHE_MS });
    return principal;
  }

  list(filter: { project?: string; includeRevoked?: boolean }): Promise<TokenInfo[]> {
    return this.listIn(this.db, filter);
  }

  async listIn(q: Queryable, filter: { project?: string; includeRevoked?: boolean }): Promise<TokenInfo[]> {
    const { rows } = await q.query<TokenRow>(
      `SELECT * FROM tokens WHERE ($1::text IS NULL OR project = $1) AND ($2 OR revoked_at IS NULL) ORDER BY created_at, id`,
      [filter.project ?? null, filter.includeRevoked ?? false],
    );
    return rows.map(toInfo);
  }

  async revoke(id: string, actor = 'system'): Promise<TokenInfo> {
    // The notification goes out with the commit, so no daemon hears of a revocation that did not happen.
    const { rows } = await this.db.transaction(async (tx) => {
      await this.keepAnAdmin(tx, id);
      const result = await tx.query<TokenRow & { was_revoked: boolean }>(
        `UPDATE tokens t SET revoked_at = COALESCE(t.revoked_at, $2) FROM (SELECT id, revoked_at IS NOT NULL AS was_revoked FROM tokens WHERE id = $1) before
         WHERE t.id = before.id RETURNING t.*, before.was_revoked`,
        [id, this.clock.now()],
      );
      const row = result.rows[0];
      if (row) await tx.query('SELECT pg_notify($1, $2)', [TOKENS_CHANNEL, id]);
      // Revoking a revoked token again changes nothing, and is not a second revocation.
      if (row && !row.was_revoked) await this.audit.record({ actor, action: 'token.revoke', target: id, outcome: 'ok', detail: { name: row.name, scope: row.project ?? 'admin' } }, tx);
      return result;
    });
    if (!rows[0]) throw notFound(`no token with id ${id}; \`list_tokens\` shows them`);
    this.forget(id);
    return toInfo(rows[0]);
  }

  /**
   * Refuses to revoke the last admin token in use: every admin client (the dashboard, scripts,
   * this caller) would be locked out at once. Under the first-admin lock, so two revocations of
   * the last two cannot both pass.
   */
  private async keepAnAdmin(tx: Queryable, id: string): Promise<void> {
    const { rows: target } = await tx.query<{ admin: boolean }>('SELECT project IS NULL AND revoked_at IS NULL AS admin FROM tokens WHERE id = $1', [id]);
    if (!target[0]?.admin) return;
    await tx.query(`SELECT pg_advisory_xact_lock(${FIRST_ADMIN_LOCK})`);
    const { rows } = await tx.query('SELECT 1 FROM tokens WHERE project IS NULL AND revoked_at IS NULL AND id <> $1 LIMIT 1', [id]);
    if (rows.length === 0) {
      throw conflict(`token ${id} is the last admin token in use; revoked, no admin could call the daemon. Make another first (\`supervisor token create <name> --admin\`), then revoke this one`);
    }
  }

  /**
   * Revokes every token of a project (it is being removed), inside the caller's transaction. They
   * are forgotten before the commit and again after it (`afterCommit`): a verification in between
   * reads them as they were, valid, and would remember them so.
   */
  async revokeProject(tx: Queryable, project: string, actor: string, afterCommit: AfterCommit): Promise<number> {
    const { rows } = await tx.query<{ id: string }>('UPDATE tokens SET revoked_at = $2 WHERE project = $1 AND revoked_at IS NULL RETURNING id', [project, this.clock.now()]);
    const forgetThem = () => {
      for (const { id } of rows) this.forget(id);
    };
    forgetThem();
    afterCommit(forgetThem);
    if (rows.length > 0) await tx.query('SELECT pg_notify($1, $2)', [TOKENS_CHANNEL, rows.length > 50 ? FORGET_ALL : rows.map((r) => r.id).join(',')]);
    if (rows.length > 0) await this.audit.record({ actor, action: 'token.revoke_project', target: project, outcome: 'ok', detail: { revoked: rows.map((r) => r.id) } }, tx);
    return rows.length;
  }

  /** Drops what is remembered of a token, and lookups of it under way are not shared with later requests. */
  private forget(id: string): void {
    this.generation++;
    for (const key of this.cache.keys()) if (key.startsWith(`svt_${id}_`)) this.cache.delete(key);
    for (const key of this.inFlight.keys()) if (key.startsWith(`svt_${id}_`)) this.inFlight.delete(key);
    this.touched.delete(id);
  }

  private forgetAll(): void {
    this.generation++;
    this.cache.clear();
    this.inFlight.clear();
  }

  async count(): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM tokens');
    return rows[0]!.n;
  }
}
