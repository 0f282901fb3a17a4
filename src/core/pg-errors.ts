import { SupervisorError } from './errors.js';

/** Node's socket errors that mean the server could not be reached or the connection broke. */
const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Whether `err` says the database went away rather than refused a statement: the server
 * shutting down or terminating the session (57P01-57P03), a connection exception (class
 * 08), a broken socket, or pg's own words for a connection lost in the middle.
 */
export function connectionLost(err: unknown): boolean {
  if (!(err instanceof Error) || err instanceof SupervisorError) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (/^(08|57P0[123])/.test(code) || SOCKET_ERRORS.has(code))) return true;
  return /^Connection terminated|^timeout (expired|exceeded when trying to connect)|not queryable/.test(err.message);
}
