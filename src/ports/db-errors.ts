/** The parts of a PostgreSQL error we act on; `pg` and PGlite both put them on the error object. */
export interface PgErrorInfo {
  code: string;
  constraint: string | undefined;
}

export const EXCLUSION_VIOLATION = '23P01';
export const UNIQUE_VIOLATION = '23505';
export const CHECK_VIOLATION = '23514';
export const FOREIGN_KEY_VIOLATION = '23503';

export function pgError(err: unknown): PgErrorInfo | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const { code, constraint } = err as { code?: unknown; constraint?: unknown };
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return undefined;
  return { code, constraint: typeof constraint === 'string' ? constraint : undefined };
}

/** True when `err` is the database refusing a write because of `constraint`. */
export function violates(err: unknown, code: string, constraint?: string): boolean {
  const info = pgError(err);
  return info !== undefined && info.code === code && (constraint === undefined || info.constraint === constraint);
}
