// Google's own Compute Engine client (@googleapis/compute), loaded on first use.
//
// The package is ~72 MB with alpha, beta and v1 surfaces; importing it at module top level
// would load it into every process that merely imports the gcloud domain (CLI, MCP stdio),
// so it is imported inside the function that needs it. The `import type` below is erased at
// compile time and costs nothing at run time.
import type { compute_v1 } from '@googleapis/compute';
import { networkCause } from './auth.js';
import { envelopeFailure, GoogleHttpError } from './google-call.js';

export type ComputeApi = compute_v1.Compute;
export type { compute_v1 };

export const DEFAULT_COMPUTE_ROOT = 'https://compute.googleapis.com/';

let loading: Promise<typeof import('@googleapis/compute')> | undefined;

/** A v1 client whose requests go to `rootUrl` (Google's, or a fake's in tests). */
export async function loadComputeApi(rootUrl: string): Promise<ComputeApi> {
  loading ??= import('@googleapis/compute');
  const { compute } = await loading;
  return compute({ version: 'v1', rootUrl });
}

/**
 * Per-request options: our bearer token instead of the library's own auth (which would
 * ignore the key's token_uri, see auth.ts), no library retries (callGoogle owns retries and
 * the 401 refresh), and the platform fetch rather than gaxios's node-fetch.
 */
export function requestOptions(token: string, timeoutMs: number) {
  return {
    headers: { Authorization: `Bearer ${token}` },
    retry: false,
    timeout: timeoutMs,
    fetchImplementation: fetch,
  };
}

/** Awaits a library call and turns its GaxiosError into a GoogleHttpError (without the request config, which holds the token). */
export async function dataOf<T>(call: Promise<{ data: T }>): Promise<T> {
  try {
    return (await call).data;
  } catch (err) {
    throw toHttpError(err);
  }
}

interface GaxiosLike {
  status?: unknown;
  code?: unknown;
  name?: unknown;
  response?: { status?: unknown; data?: unknown; headers?: { get?(name: string): string | null } };
}

function toHttpError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const e = err as Error & GaxiosLike;
  const status = typeof e.response?.status === 'number' ? e.response.status : typeof e.status === 'number' ? e.status : undefined;
  if (status !== undefined) {
    const body = typeof e.response?.data === 'string' ? parseJson(e.response.data) : e.response?.data;
    return new GoogleHttpError(envelopeFailure(status, body, e.response?.headers?.get?.('retry-after')));
  }
  // No HTTP answer: a network failure or timeout, which gaxios reports with a string code, or
  // (on the platform fetch) as "fetch failed" with the code further down its causes.
  if (typeof e.code === 'string') return new GoogleHttpError({ message: `network error: ${e.code}` });
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.cause instanceof Error) {
    return new GoogleHttpError({ message: `network error: ${networkCause(err)}` });
  }
  return err;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
