import { SupervisorError } from './errors.js';

/** Node's socket errors that mean the server could not be reached or the connection broke. */
const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * What the server answers a new connection while the database is out of reach for a time: it
 * is gone (dropped, 3D000), or full (too many connections, 53300). A reconnect says it, not a statement.
 */
const REFUSED_AT_CONNECT = new Set(['3D000', '53300']);

/**
 * Whether `err` says the database went away rather than refused a statement: the server
 * shutting down or terminating the session (57P01-57P03), a connection exception (class
 * 08), a reconnect refused, a broken socket, or pg's own words for a connection lost in the middle.
 */
export function connectionLost(err: unknown): boolean {
  if (!(err instanceof Error) || err instanceof SupervisorError) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (/^(08|57P0[123])/.test(code) || SOCKET_ERRORS.has(code) || REFUSED_AT_CONNECT.has(code))) return true;
  // 55000 is any object in the wrong state; only this one is the server refusing a new session.
  if (code === '55000' && /not currently accepting connections/.test(err.message)) return true;
  return /^Connection terminated|^timeout (expired|exceeded when trying to connect)|not queryable/.test(err.message);
}
