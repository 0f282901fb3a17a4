// Typed client for the Cloudflare API v4 over global fetch.
//
// One place owns the envelope, retries, the per-token request budget and the mapping of
// Cloudflare's refusals onto SupervisorError codes, so the DNS and tunnel domains only see
// typed results or a SupervisorError whose message a person can act on. The token is read
// from a callback on every attempt (it lives in the secret store and may be rotated) and is
// never copied into an error, a log line or `details`.
import { setTimeout as delay } from 'node:timers/promises';
import { SupervisorError } from '../core/errors.js';
import { backoffMs, codeForHttpStatus } from '../core/http-retry.js';
import type { Clock } from '../core/clock.js';
import { RateBudget } from './rate-budget.js';
import type { DnsBatch, DnsRecord as WireDnsRecord, DnsRecordInput, Envelope, ErrorItem, ResultInfo, TunnelConfig, TunnelConfigResult, Zone as WireZone } from './wire.js';

export type { DnsBatch, DnsRecordInput, IngressRule, TunnelConfig, TunnelConfigResult } from './wire.js';

export interface CloudflareClientOptions {
  baseUrl: string;
  /** Resolves the API token; called per attempt so a rotated secret takes effect at once. */
  token: () => Promise<string>;
  /** Retries after the first attempt for 429, 5xx and network failures. Default 4. */
  maxRetries?: number;
  /** Injectable so tests can record waits instead of sitting through them. */
  sleep?: (ms: number) => Promise<void>;
  /** Client-side budget; default is Cloudflare's per-token limit, 1,200 per 5 minutes. */
  budget?: { requests: number; windowMs: number };
  /** Per-attempt timeout. Default 30,000 ms. */
  timeoutMs?: number;
  /** Time source for the budget window; tests pair it with `sleep`. */
  clock?: Clock;
  /** Where the token comes from and how to replace it, for messages about a wrong token. */
  tokenSource?: string;
}

export type QueryValue = string | number | boolean | undefined | readonly string[];
export type Query = Record<string, QueryValue>;

export interface CloudflareResponse<T> {
  result: T;
  resultInfo?: ResultInfo;
}

// The fields of the wire shapes (wire.ts) the supervisor reads.
export type Zone = Pick<WireZone, 'id' | 'name' | 'status' | 'account'>;
export type DnsRecord = Pick<WireDnsRecord, 'id' | 'type' | 'name' | 'content' | 'proxied' | 'ttl' | 'comment' | 'tags' | 'created_on' | 'modified_on'>;

/** Documented list filters plus the dotted variants (`name.endswith`, `comment.contains`, …). */
export type DnsRecordFilters = {
  type?: string;
  name?: string;
  content?: string;
  proxied?: boolean;
  match?: 'all' | 'any';
} & Query;

export interface DnsBatchResult {
  deletes: DnsRecord[];
  patches: DnsRecord[];
  puts: DnsRecord[];
  posts: DnsRecord[];
}

// Cloudflare answers duplicate-record refusals with HTTP 400; callers need to tell "already
// exists" apart from "malformed", so these codes become `conflict` whatever the status.
const CONFLICT_CODES = new Set([81053, 81054, 81057, 81058]);

// Cloudflare's answers to a token it does not accept (wrong, expired, disabled, malformed header,
// none at all) and to a token that lacks a permission (10000, or 9109 "Unauthorized to access
// requested resource"). Neither gets better by retrying.
const BAD_TOKEN_CODES = new Set([1000, 6003, 6111, 9106]);
const PERMISSION_CODES = new Set([10000]);
export const VERIFY_HINT = 'run `supervisor cloudflare verify` (verify_cloudflare) to see what the token can do';

/** What went wrong on one attempt that may be retried. */
interface Retryable {
  cause: string;
  /** From Retry-After; overrides the computed backoff. */
  waitMs?: number;
}

export class CloudflareClient {
  private readonly baseUrl: string;
  private readonly maxRetries: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly timeoutMs: number;
  private readonly budget: RateBudget;

  /** How long one attempt may take before it is given up (what a request still on the wire can take to land). */
  get attemptTimeoutMs(): number {
    return this.timeoutMs;
  }

  constructor(private readonly options: CloudflareClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.maxRetries = options.maxRetries ?? 4;
    this.sleep = options.sleep ?? ((ms) => delay(ms).then(() => undefined));
    this.timeoutMs = options.timeoutMs ?? 30_000;
    const budget = options.budget ?? { requests: 1200, windowMs: 300_000 };
    this.budget = new RateBudget({ ...budget, sleep: this.sleep, clock: options.clock });
  }

  /**
   * One API call with retries. Network failures are retried for every method, POST included:
   * a create whose answer was lost comes back as 81057/81058 (`conflict`) on the retry, which
   * callers reconcile by listing, rather than leaving the outcome unknown.
   */
  async request<T>(method: string, path: string, opts: { query?: Query; body?: unknown } = {}): Promise<CloudflareResponse<T>> {
    const url = this.url(path, opts.query);
    const attempts = this.maxRetries + 1;
    let last: Retryable = { cause: 'no attempt made' };
    for (let attempt = 1; attempt <= attempts; attempt++) {
      await this.budget.take();
      const token = this.checkedToken(await this.options.token());
      const outcome = await this.attempt<T>(method, path, url, token, opts.body);
      if (!('cause' in outcome)) return outcome;
      last = { ...outcome, cause: redact(outcome.cause, token) };
      if (attempt < attempts) await this.sleep(last.waitMs ?? backoffMs(attempt));
    }
    throw new SupervisorError('unavailable', `Cloudflare API ${method} ${path} failed after ${attempts} attempts: ${last.cause}`, {
      attempts,
      lastCause: last.cause,
    });
  }

  /** Every item of a paged list, fetched page by page as the caller iterates. */
  async *paginate<T>(path: string, query: Query = {}, perPage = 100): AsyncGenerator<T, void, undefined> {
    for (let page = 1; ; page++) {
      const { result, resultInfo } = await this.request<T[]>('GET', path, { query: { ...query, page, per_page: perPage } });
      yield* result;
      // An empty page also ends the walk so a miscounted total_pages cannot loop forever.
      if (!resultInfo || page >= resultInfo.total_pages || result.length === 0) return;
    }
  }

  async listAll<T>(path: string, query: Query = {}, perPage = 100): Promise<T[]> {
    const items: T[] = [];
    for await (const item of this.paginate<T>(path, query, perPage)) items.push(item);
    return items;
  }

  /**
   * A user's token is verified at /user/tokens/verify; an account API token only at its
   * account's /accounts/{id}/tokens/verify (the user's endpoint answers it 401).
   */
  async verifyToken(accountId?: string): Promise<{ id: string; status: string }> {
    const path = accountId === undefined ? '/user/tokens/verify' : `/accounts/${encodeURIComponent(accountId)}/tokens/verify`;
    const { result } = await this.request<{ id: string; status: string }>('GET', path);
    return { id: result.id, status: result.status };
  }

  /** Zones pages are capped at 50 by the API. */
  listZones(name?: string): Promise<Zone[]> {
    return this.listAll<Zone>('/zones', { name }, 50);
  }

  /** The API takes pages of up to 5,000,000 records; a large page reads a whole zone in one call. */
  listDnsRecords(zoneId: string, filters: DnsRecordFilters = {}, perPage = 100): Promise<DnsRecord[]> {
    return this.listAll<DnsRecord>(dnsPath(zoneId), filters, perPage);
  }

  async createDnsRecord(zoneId: string, record: DnsRecordInput): Promise<DnsRecord> {
    return (await this.request<DnsRecord>('POST', dnsPath(zoneId), { body: record })).result;
  }

  /** PUT: fields left out are reset (comment, tags), so pass the whole record. */
  async updateDnsRecord(zoneId: string, id: string, record: DnsRecordInput): Promise<DnsRecord> {
    return (await this.request<DnsRecord>('PUT', dnsPath(zoneId, id), { body: record })).result;
  }

  async deleteDnsRecord(zoneId: string, id: string): Promise<{ id: string }> {
    return (await this.request<{ id: string }>('DELETE', dnsPath(zoneId, id))).result;
  }

  /** All-or-nothing; the API runs deletes, patches, puts, posts in that order. */
  async batchDnsRecords(zoneId: string, batch: DnsBatch): Promise<DnsBatchResult> {
    const body: DnsBatch = {};
    for (const kind of ['deletes', 'patches', 'puts', 'posts'] as const) {
      if (batch[kind]?.length) Object.assign(body, { [kind]: batch[kind] });
    }
    const { result } = await this.request<Partial<DnsBatchResult>>('POST', `${dnsPath(zoneId)}/batch`, { body });
    return { deletes: result.deletes ?? [], patches: result.patches ?? [], puts: result.puts ?? [], posts: result.posts ?? [] };
  }

  async getTunnelConfig(accountId: string, tunnelId: string): Promise<TunnelConfigResult> {
    return (await this.request<TunnelConfigResult>('GET', tunnelPath(accountId, tunnelId))).result;
  }

  /** Replaces the whole document; there is no precondition, so callers serialise writes. */
  async putTunnelConfig(accountId: string, tunnelId: string, config: TunnelConfig): Promise<TunnelConfigResult> {
    return (await this.request<TunnelConfigResult>('PUT', tunnelPath(accountId, tunnelId), { body: { config } })).result;
  }

  /**
   * Surrounding whitespace (a newline from `echo`) is dropped; anything else that cannot go in
   * an HTTP header would make every attempt fail before it is sent, so it is refused at once.
   */
  private checkedToken(raw: string): string {
    const token = raw.trim();
    if (!/^[\x21-\x7e]+$/.test(token)) {
      const what = token === '' ? 'is empty' : 'holds whitespace, a line break or characters outside printable ASCII';
      throw new SupervisorError('not_configured', `the Cloudflare API token ${what}, so it cannot be sent; store the token again: ${this.options.tokenSource ?? 'the configured token'}`, { auth: 'malformed_token' });
    }
    return token;
  }

  private url(path: string, query: Query = {}): string {
    const url = new URL(this.baseUrl + (path.startsWith('/') ? path : `/${path}`));
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value as readonly string[]) url.searchParams.append(key, v);
      else url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  /** One HTTP exchange: a result, a Retryable, or a thrown SupervisorError for a refusal. */
  private async attempt<T>(method: string, path: string, url: string, token: string, body: unknown): Promise<CloudflareResponse<T> | Retryable> {
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let status: number;
    let retryAfter: string | null;
    let text: string;
    try {
      const res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      // Reading the body is inside the try: a connection cut mid-body is a network failure too.
      text = await res.text();
    } catch (err) {
      // undici reports network failures as "fetch failed"; any other TypeError is a request
      // that can never be sent (a header it refuses), which no retry will fix.
      if (err instanceof TypeError && err.message !== 'fetch failed') {
        throw new SupervisorError('internal', redact(`Cloudflare API ${method} ${path} could not be sent: ${err.message}`, token));
      }
      return { cause: describeNetworkError(err, this.timeoutMs) };
    }

    const envelope = parseEnvelope<T>(text);
    const cfErrors = envelope?.errors.map(errorItem) ?? [];
    if (status === 429 || status >= 500) {
      // 502/503 come from Cloudflare's edge as HTML, so there may be no envelope to quote.
      return { cause: `HTTP ${status}${cfErrors.length ? ` (${formatErrors(cfErrors)})` : ''}`, waitMs: status === 429 ? parseRetryAfter(retryAfter) : undefined };
    }
    if (status >= 200 && status < 300 && envelope?.success) {
      return envelope.result_info ? { result: envelope.result, resultInfo: envelope.result_info } : { result: envelope.result };
    }
    if (status >= 200 && status < 300 && !envelope) {
      throw new SupervisorError('unavailable', `Cloudflare API ${method} ${path} answered HTTP ${status} without a JSON envelope`, { status });
    }
    const said = cfErrors.length ? formatErrors(cfErrors) : `HTTP ${status}`;
    const details = { cloudflareErrors: cfErrors.map((e) => ({ code: e.code, message: redact(e.message, token) })), status };
    const auth = authFailure(status, cfErrors);
    if (auth === 'bad_token') {
      throw new SupervisorError('not_configured', redact(`Cloudflare refused the API token on ${method} ${path} (${said}): it is wrong, expired or disabled; store the right one: ${this.options.tokenSource ?? 'the configured token'}; ${VERIFY_HINT}`, token), { ...details, auth });
    }
    if (auth === 'missing_permission') {
      throw new SupervisorError('forbidden', redact(`the Cloudflare API token lacks a permission for ${method} ${path} (${said}): it needs Zone Read and DNS Edit on the zones, and Cloudflare Tunnel Edit on the account for remote tunnels; ${VERIFY_HINT}`, token), { ...details, auth });
    }
    const code = cfErrors.some((e) => CONFLICT_CODES.has(e.code)) ? 'conflict' : codeForHttpStatus(status);
    throw new SupervisorError(code, redact(`Cloudflare rejected ${method} ${path}: ${said}`, token), details);
  }
}

const dnsPath = (zoneId: string, id?: string) =>
  `/zones/${encodeURIComponent(zoneId)}/dns_records${id === undefined ? '' : `/${encodeURIComponent(id)}`}`;

const tunnelPath = (accountId: string, tunnelId: string) =>
  `/accounts/${encodeURIComponent(accountId)}/cfd_tunnel/${encodeURIComponent(tunnelId)}/configurations`;

/** Whether a refusal is about the token itself, or about what the token may do. */
function authFailure(status: number, errors: Array<{ code: number; message: string }>): 'bad_token' | 'missing_permission' | undefined {
  if (errors.some((e) => BAD_TOKEN_CODES.has(e.code)) || status === 401) return 'bad_token';
  // 9109 is both "Invalid access token" and "Unauthorized to access requested resource".
  if (errors.some((e) => e.code === 9109)) return errors.some((e) => e.code === 9109 && /invalid/i.test(e.message)) ? 'bad_token' : 'missing_permission';
  if (errors.some((e) => PERMISSION_CODES.has(e.code))) return 'missing_permission';
  return undefined;
}

/** Retry-After is seconds from Cloudflare; an HTTP date is accepted too. */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function parseEnvelope<T>(text: string): Envelope<T> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { success?: unknown }).success !== 'boolean') return undefined;
  const raw = parsed as Partial<Envelope<T>> & { success: boolean };
  const errors = Array.isArray(raw.errors)
    ? raw.errors.filter((e): e is ErrorItem => typeof e === 'object' && e !== null && typeof e.code === 'number' && typeof e.message === 'string')
    : [];
  return { success: raw.success, errors, messages: Array.isArray(raw.messages) ? raw.messages : [], result: raw.result as T, result_info: raw.result_info ?? undefined };
}

/** Code, message and the chain of causes; nothing else an error item may carry (documentation_url, source). */
const errorItem = ({ code, message, error_chain }: ErrorItem): ErrorItem => (error_chain?.length ? { code, message, error_chain: error_chain.map(errorItem) } : { code, message });

/** `6003 Invalid request headers (6111 Invalid format for Authorization header)`: the chain holds the cause a person can act on. */
const formatErrors = (errors: ErrorItem[]): string =>
  errors.map((e) => `${e.code} ${e.message}${e.error_chain?.length ? ` (${formatErrors(e.error_chain)})` : ''}`).join('; ');

function describeNetworkError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `timed out after ${timeoutMs} ms`;
  // undici reports "fetch failed" and keeps the useful part (ECONNRESET, "other side closed") in `cause`.
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: unknown }).code;
    return `network error: ${typeof code === 'string' ? `${code} ` : ''}${cause.message}`.trim();
  }
  return `network error: ${err instanceof Error ? err.message : String(err)}`;
}

/** Belt and braces: nothing Cloudflare or the network layer says may echo the token back to us. */
function redact(text: string, token: string): string {
  return token.length >= 4 ? text.split(token).join('[redacted]') : text;
}
