import type { ErrorCode } from './errors.js';

/**
 * What clients of outside HTTP APIs (Cloudflare, Google) share: how an HTTP refusal
 * maps to our error codes, and how long to wait before trying again.
 */
const REFUSALS: Record<number, ErrorCode> = {
  400: 'invalid_input',
  // The service refusing the credential we stored is our configuration for a person to fix; as
  // `unauthorized` (401) it would tell the caller that its own token was refused.
  401: 'not_configured',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  // A precondition (an etag, a fingerprint) that no longer holds: someone changed it first.
  412: 'conflict',
};

/** Our error code for an HTTP status an API answered; anything else is the service being unavailable. */
export function codeForHttpStatus(status: number | undefined): ErrorCode {
  return REFUSALS[status ?? 0] ?? 'unavailable';
}

const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30_000;

/** Wait before retry `n` (1-based): exponential with equal jitter — half fixed, half random — so callers that failed together spread out. */
export function backoffMs(retry: number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (retry - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}
