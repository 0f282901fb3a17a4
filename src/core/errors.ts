/**
 * The one error type every domain throws. `code` is stable (clients switch on it);
 * `message` tells a person what happened and what to do next; `details` never
 * carries secret values.
 */
export const ERROR_CODES = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  /** A REST path called with a method it does not take: `details.allow` lists those it does. */
  method_not_allowed: 405,
  conflict: 409,
  too_large: 413,
  locked: 423,
  rate_limited: 429,
  unavailable: 503,
  /** A capability whose settings or credentials are missing: the message says what to set, and whether a restart is needed. */
  not_configured: 503,
  integrity: 500,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class SupervisorError extends Error {
  override readonly name = 'SupervisorError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code];
  }

  toJSON(): { error: { code: ErrorCode; message: string; details: Record<string, unknown> } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

/**
 * Refused input. When the error names fields, `details.fields` lists them as `{ field, message }`,
 * as input validation does: a handler's one `field`, or its `fields` given as names, are added in
 * that shape too, so a client reads one shape whichever check refused.
 */
export const invalidInput = (message: string, details?: Record<string, unknown>) =>
  new SupervisorError('invalid_input', message, details && withFieldList(message, details));

function withFieldList(message: string, details: Record<string, unknown>): Record<string, unknown> {
  const { field, fields } = details;
  if (Array.isArray(fields) && fields.every((f) => typeof f === 'string')) return { ...details, fields: fields.map((name: string) => ({ field: name, message })) };
  if (typeof field === 'string' && fields === undefined) return { ...details, fields: [{ field, message }] };
  return details;
}
export const notFound = (message: string, details?: Record<string, unknown>) =>
  new SupervisorError('not_found', message, details);
export const conflict = (message: string, details?: Record<string, unknown>) =>
  new SupervisorError('conflict', message, details);
export const forbidden = (message: string, details?: Record<string, unknown>) =>
  new SupervisorError('forbidden', message, details);

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}

/**
 * Turns anything thrown into a SupervisorError without leaking internals:
 * unknown errors become `internal` with a generic message (the original goes to the log).
 */
export function toSupervisorError(err: unknown): SupervisorError {
  if (err instanceof SupervisorError) return err;
  return new SupervisorError('internal', 'internal error; the daemon log has the details');
}
