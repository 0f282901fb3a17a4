// The v4 envelope every answer uses, the error type handlers throw, and pagination.
import { randomBytes } from 'node:crypto';
import type { ErrorItem, ResultInfo } from '../../../src/cloudflare/wire.js';
import type { Answer } from '../http-common.js';

export type { Answer, ErrorItem, ResultInfo };

/** A refusal in Cloudflare's words; the server turns it into an error envelope. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: ErrorItem[],
    readonly headers: Record<string, string> = {},
  ) {
    super(errors.map((e) => `${e.code}: ${e.message}`).join('; '));
  }
}

export function fail(status: number, code: number, message: string, chain?: ErrorItem[]): ApiError {
  return new ApiError(status, [chain ? { code, message, error_chain: chain } : { code, message }]);
}

/**
 * Unknown paths and identifiers the router cannot resolve. Recorded answers are 404 with
 * this single error and the full /client/v4 path in the message, checked before auth.
 */
export function routeError(fullPath: string): ApiError {
  return fail(404, 7003, `Could not route to ${fullPath}, perhaps your object identifier is invalid?`);
}

// Key order follows recorded answers: result, success, errors, messages, result_info.
export function ok(result: unknown, resultInfo?: ResultInfo, messages: unknown[] = []): Answer {
  const body: Record<string, unknown> = { result, success: true, errors: [], messages };
  if (resultInfo) body.result_info = resultInfo;
  return { status: 200, body };
}

export function errorAnswer(err: ApiError): Answer {
  return {
    status: err.status,
    body: { result: null, success: false, errors: err.errors, messages: [] },
    headers: err.headers,
  };
}

export interface PageLimits {
  defaultPerPage: number;
  minPerPage: number;
  maxPerPage: number;
}

/** Page/per_page from the query, clamped to the endpoint's documented range. */
export function paginate<T>(items: T[], query: Record<string, string>, limits: PageLimits): { page: T[]; info: ResultInfo } {
  const page = Math.max(1, toInt(query.page) ?? 1);
  const perPage = Math.min(limits.maxPerPage, Math.max(limits.minPerPage, toInt(query.per_page) ?? limits.defaultPerPage));
  const slice = items.slice((page - 1) * perPage, page * perPage);
  return {
    page: slice,
    info: {
      page,
      per_page: perPage,
      count: slice.length,
      total_count: items.length,
      // An empty listing still reports one page, as recorded list answers do.
      total_pages: Math.max(1, Math.ceil(items.length / perPage)),
    },
  };
}

function toInt(value: string | undefined): number | undefined {
  if (value === undefined || !/^-?\d+$/.test(value)) return undefined;
  return Number(value);
}

/** Cloudflare identifiers are 32 lower-case hex characters. */
export function newId(): string {
  return randomBytes(16).toString('hex');
}

/** Cloudflare timestamps carry microseconds: 2024-01-02T03:04:05.123456Z. */
export function timestamp(date: Date = new Date()): string {
  return date.toISOString().replace(/Z$/, '000Z');
}
