// One Google API call with the rules every caller needs: a bearer token from the account's
// token provider, one refresh and retry on 401 (a token can expire or be revoked between our
// cache check and Google's), backoff on 429/5xx/network failures, and refusals mapped onto
// SupervisorError codes with the account named and the token never quoted.
import { setTimeout as delay } from 'node:timers/promises';
import { SupervisorError } from '../core/errors.js';
import { backoffMs, codeForHttpStatus } from '../core/http-retry.js';
import type { Logger } from '../core/log.js';
import type { AccessTokenProvider } from './auth.js';

/** What one failed attempt looked like on the wire. */
export interface GoogleFailure {
  /** HTTP status; undefined when no answer came (network failure, timeout). */
  status?: number;
  /** Classic reason (notFound, alreadyExists, …) or canonical status (NOT_FOUND, …). */
  reason?: string;
  message: string;
  retryAfterMs?: number;
}

/** Thrown by an attempt for an HTTP refusal or a network failure; the loop decides what follows. */
export class GoogleHttpError extends Error {
  constructor(readonly failure: GoogleFailure) {
    super(failure.message);
  }
}

export interface CallPolicy {
  /** Retries after the first attempt for 429, 5xx and network failures. Default 4. */
  maxRetries?: number;
  /** Injectable so tests record waits instead of sitting through them. */
  sleep?: (ms: number) => Promise<void>;
  log?: Pick<Logger, 'warn'>;
}

/** Google answers a rate limit as 403 with these reasons too, and asks for backoff as on a 429. */
const RATE_LIMIT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded']);
/** The API is not enabled in the project (new projects have Compute Engine off): no role helps. */
const API_DISABLED_REASONS = new Set(['accessNotConfigured', 'SERVICE_DISABLED']);
/** A quota used up: no retry helps, and it is not a missing permission. */
const QUOTA_REASONS = new Set(['quotaExceeded', 'QUOTA_EXCEEDED', 'RESOURCE_EXHAUSTED']);

const retryable = (f: GoogleFailure) => f.status === undefined || f.status === 429 || f.status >= 500 || (f.status === 403 && RATE_LIMIT_REASONS.has(f.reason ?? ''));

/** What to do about a quota used up, for a refusal's message (an API answer or a failed operation). */
export const QUOTA_HINT = "the project's quota for it is used up: free some (stop, shrink or delete VMs) or ask for more on the Cloud console's Quotas page";

/**
 * Runs `attempt` with a token until it answers, refusals aside. `what` names the call in
 * messages ("compute instances.get projects/p/zones/z/instances/vm-1").
 */
export async function callGoogle<T>(what: string, tokens: AccessTokenProvider, attempt: (token: string) => Promise<T>, policy: CallPolicy = {}): Promise<T> {
  const maxRetries = policy.maxRetries ?? 4;
  const sleep = policy.sleep ?? ((ms: number) => delay(ms).then(() => undefined));
  const used: string[] = [];
  let refreshed: string | undefined;
  for (let retries = 0; ; ) {
    // Right after a refresh, the refreshed token itself: asking again could mint yet another.
    const token = refreshed && !used.includes(refreshed) ? refreshed : await tokens.token();
    used.push(token);
    try {
      return await attempt(token);
    } catch (err) {
      if (!(err instanceof GoogleHttpError)) throw err;
      const failure = { ...err.failure, message: redact(err.failure.message, used), reason: err.failure.reason && redact(err.failure.reason, used) };
      if (failure.status === 401 && refreshed === undefined) {
        policy.log?.warn({ call: what, account: tokens.account }, 'google api answered 401; refreshing the access token once');
        refreshed = await tokens.refresh(token);
        continue;
      }
      if (retryable(failure) && retries < maxRetries) {
        retries += 1;
        const waitMs = failure.retryAfterMs ?? backoffMs(retries);
        policy.log?.warn({ call: what, status: failure.status ?? 'network', retry: retries, waitMs }, `google api call failed (${failure.message}); retrying`);
        await sleep(waitMs);
        continue;
      }
      throw refusal(what, failure, tokens.account, retries);
    }
  }
}

function refusal(what: string, f: GoogleFailure, account: string, retries: number): SupervisorError {
  const said = `${f.status === undefined ? 'no answer' : `HTTP ${f.status}`}${f.reason ? ` ${f.reason}` : ''}: ${f.message}`;
  const details = { status: f.status, reason: f.reason, account, retries };
  if (retryable(f)) {
    return new SupervisorError('unavailable', `${what} failed after ${retries + 1} attempts (${said}); try again later`, details);
  }
  // Compute answers 400 for a VM in the middle of another change; the request was fine, the moment was not.
  const busy = f.reason === 'resourceNotReady';
  const code = busy ? 'conflict' : codeForHttpStatus(f.status);
  const hint = busy
    ? '; another change of it is under way (a stop, start or resize, maybe by the auto-scaler): try again once it has settled (gcloud_get_vm shows its status)'
    : f.status === 401
      ? `; Google did not accept a fresh token for service account ${account} either, so check that the account and its key are enabled`
      : QUOTA_REASONS.has(f.reason ?? '')
        ? `; ${QUOTA_HINT}`
        : API_DISABLED_REASONS.has(f.reason ?? '')
        ? "; the API is not enabled in that project: enable it (Google's message above links to the page), wait a few minutes, and try again"
        : f.status === 403
        ? `; service account ${account} lacks that permission: grant it a role that has it on the project`
        : '';
  return new SupervisorError(code, `${what} was refused (${said})${hint}`, details);
}

/** Nothing Google or the network layer says may echo a bearer token back to a caller. */
function redact(text: string, tokens: string[]): string {
  return tokens.reduce((t, token) => (token.length >= 8 ? t.split(token).join('[redacted]') : t), text);
}

/**
 * Reads Google's error envelope from a body: {error: {code, message, errors: [{reason}], status,
 * details: [{@type: …ErrorInfo, reason}]}}. The reason is the classic one (Compute), else the
 * ErrorInfo's (APIs without errors[], as Monitoring), else the canonical status.
 */
export function envelopeFailure(status: number, body: unknown, retryAfter?: string | null): GoogleFailure {
  const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  const e = typeof error === 'object' && error !== null ? (error as { message?: unknown; status?: unknown; errors?: unknown; details?: unknown }) : undefined;
  const first = Array.isArray(e?.errors) ? (e.errors[0] as { reason?: unknown } | undefined) : undefined;
  const info = Array.isArray(e?.details) ? (e.details as unknown[]).find(isErrorInfo) : undefined;
  const reason = typeof first?.reason === 'string' ? first.reason : info ? info.reason : typeof e?.status === 'string' ? e.status : undefined;
  const message = typeof e?.message === 'string' ? e.message.slice(0, 500) : `HTTP ${status} without an error envelope`;
  const seconds = retryAfter ? Number(retryAfter) : NaN;
  return { status, reason, message, retryAfterMs: Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined };
}

const isErrorInfo = (d: unknown): d is { reason: string } =>
  typeof d === 'object' && d !== null && (d as { '@type'?: unknown })['@type'] === 'type.googleapis.com/google.rpc.ErrorInfo' && typeof (d as { reason?: unknown }).reason === 'string';

/**
 * The next page token, or undefined at the end. Google may send an empty page that still has
 * a token (aggregated lists do), so only a token seen before stops the walk, as an error.
 */
export function nextPage(what: string, seen: Set<string>, token: string | null | undefined): string | undefined {
  if (!token) return undefined;
  if (seen.has(token)) throw new SupervisorError('unavailable', `${what} returned a page token it had returned before; stopping rather than looping`, { pages: seen.size });
  seen.add(token);
  return token;
}
