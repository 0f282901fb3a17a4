// Access tokens for a service account through the OAuth 2.0 JWT-bearer grant (RFC 7523).
//
// Why a small signer of our own rather than google-auth-library: in the version the Compute
// client pulls in (google-auth-library 10 with gtoken 8), JWT.fromJSON() reads client_email,
// private_key and private_key_id but not token_uri, and gtoken both POSTs to and signs for
// (aud) its hard-coded https://oauth2.googleapis.com/token; without explicit scopes the JWT
// client skips the token endpoint altogether and sends a self-signed JWT. Our design says the
// key's token_uri is honoured (and the tests point it at a fake that checks where the call
// went), so the grant is done here with node:crypto: one RS256 signature and one form POST.
import type { KeyObject } from 'node:crypto';
import { sign } from 'node:crypto';
import { systemClock, type Clock } from '../core/clock.js';
import { SupervisorError } from '../core/errors.js';
import { signingKey, type ServiceAccountKey } from './key.js';

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Google refuses assertions that live longer than an hour. */
const ASSERTION_LIFETIME_S = 3600;

/** What the API clients need: a current token, and a new one after a 401. */
export interface AccessTokenProvider {
  /** client_email, for messages; never the key. */
  readonly account: string;
  token(): Promise<string>;
  /**
   * A new token after `rejected` was refused with 401. Callers that saw the same rejected
   * token share one grant; if the token was already replaced, the replacement is returned.
   */
  refresh(rejected: string): Promise<string>;
}

export interface TokenSourceOptions {
  clock?: Clock;
  scope?: string;
  /** Get a new token this long before the current one expires. Default 5 minutes. */
  refreshMarginMs?: number;
  /** Per-request timeout for the token endpoint. Default 30,000 ms. */
  timeoutMs?: number;
  /** The supervisor account the key is stored for, named in refusals (the key knows only its e-mail). */
  accountName?: string;
}

interface CachedToken {
  value: string;
  /** When to stop using it: its expiry less the refresh margin. */
  useUntil: number;
}

/** header.claims.signature of the grant's assertion, RS256 with the key's id as kid. */
export function signAssertion(key: Pick<ServiceAccountKey, 'client_email' | 'private_key_id' | 'token_uri'>, signer: KeyObject, nowMs: number, scope = CLOUD_PLATFORM_SCOPE): string {
  const iat = Math.floor(nowMs / 1000);
  const header = { alg: 'RS256', typ: 'JWT', kid: key.private_key_id };
  const claims = { iss: key.client_email, scope, aud: key.token_uri, iat, exp: iat + ASSERTION_LIFETIME_S };
  const unsigned = `${b64url(header)}.${b64url(claims)}`;
  return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), signer).toString('base64url')}`;
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export class ServiceAccountTokenSource implements AccessTokenProvider {
  readonly account: string;
  private readonly signer: KeyObject;
  private readonly tokenUri: string;
  private readonly keyId: string;
  private readonly accountName: string | undefined;
  private readonly clock: Clock;
  private readonly scope: string;
  private readonly marginMs: number;
  private readonly timeoutMs: number;
  private cached?: CachedToken;
  private inflight?: Promise<string>;

  constructor(key: ServiceAccountKey, options: TokenSourceOptions = {}) {
    // Only what signing needs is kept; the PEM text is not held by this object.
    this.account = key.client_email;
    this.signer = signingKey(key);
    this.tokenUri = key.token_uri;
    this.keyId = key.private_key_id;
    this.clock = options.clock ?? systemClock;
    this.scope = options.scope ?? CLOUD_PLATFORM_SCOPE;
    this.marginMs = options.refreshMarginMs ?? 5 * 60_000;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.accountName = options.accountName;
  }

  async token(): Promise<string> {
    const cached = this.cached;
    if (cached && this.clock.now().getTime() < cached.useUntil) return cached.value;
    return this.grant();
  }

  async refresh(rejected: string): Promise<string> {
    if (this.inflight) return this.inflight;
    if (this.cached && this.cached.value !== rejected && this.clock.now().getTime() < this.cached.useUntil) return this.cached.value;
    this.cached = undefined;
    return this.grant();
  }

  /** One grant at a time; concurrent callers wait for the same answer. */
  private grant(): Promise<string> {
    this.inflight ??= this.requestToken().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async requestToken(): Promise<string> {
    const started = this.clock.now().getTime();
    const assertion = signAssertion({ client_email: this.account, private_key_id: this.keyId, token_uri: this.tokenUri }, this.signer, started, this.scope);
    let status: number;
    let text: string;
    try {
      const res = await fetch(this.tokenUri, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }).toString(),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      throw new SupervisorError('unavailable', `could not reach the token endpoint ${this.tokenUri} for service account ${this.account}: ${networkCause(err)}`, {
        account: this.account,
      });
    }
    const body = parseObject(text);
    if (status === 200 && typeof body?.access_token === 'string' && typeof body.expires_in === 'number') {
      const lifetimeMs = body.expires_in * 1000;
      // A token shorter-lived than the margin is used for half its life rather than not at all.
      const margin = Math.min(this.marginMs, lifetimeMs / 2);
      this.cached = { value: body.access_token, useUntil: started + lifetimeMs - margin };
      return body.access_token;
    }
    throw this.refusal(status, body, assertion);
  }

  private refusal(status: number, body: Record<string, unknown> | undefined, assertion: string): SupervisorError {
    const error = typeof body?.error === 'string' ? body.error : undefined;
    const description = typeof body?.error_description === 'string' ? body.error_description.split(assertion).join('[assertion]').slice(0, 300) : undefined;
    const said = error ? `${error}${description ? ` (${description})` : ''}` : `HTTP ${status}`;
    const details = { account: this.accountName ?? this.account, serviceAccount: this.account, tokenUri: this.tokenUri, status, oauthError: error };
    if (status >= 500 || status === 429 || !error) {
      return new SupervisorError('unavailable', `the token endpoint ${this.tokenUri} failed for service account ${this.account}: ${said}; try again later`, details);
    }
    const next =
      error === 'invalid_grant'
        ? `the key may have been deleted or disabled, or this machine's clock is off; create a new JSON key for ${this.account} in the Cloud console and store it again with gcloud_add_account ${this.accountName ?? '<account>'} <key.json>`
        : `check the service account ${this.account} and its key`;
    return new SupervisorError('not_configured', `Google refused an access token for service account ${this.account}: ${said}; ${next}`, details);
  }
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * undici says "fetch failed" and keeps the useful part (ECONNREFUSED, …) in `cause`; a library
 * wrapping it (gaxios) adds a level: the first error code down the chain is the one to name.
 */
export function networkCause(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'timed out';
  for (let e: unknown = err instanceof Error ? err.cause : undefined, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as Error & { code?: unknown }).code;
    if (typeof code === 'string') return code;
    if (!(e.cause instanceof Error)) return e.message;
  }
  return err instanceof Error ? err.message : String(err);
}
