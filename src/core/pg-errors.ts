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

/** The server cancelled a statement that ran past its statement_timeout. */
const timedOut = (err: unknown): boolean => err instanceof Error && (err as { code?: unknown }).code === '57014' && /statement timeout/.test(err.message);

/**
 * A lost database is the daemon unavailable for now (503, try again), not an internal error
 * (500); so is a statement the server gave up on (overloaded, or waiting for a lock too long),
 * and a new connection refused because the role's or the server's limit is reached.
 */
export function unavailableIfLost(err: unknown): unknown {
  if (timedOut(err)) return new SupervisorError('unavailable', `PostgreSQL cancelled a statement that ran too long (${(err as Error).message}); the database may be overloaded, try again`);
  if (!connectionLost(err)) return err;
  if ((err as { code?: unknown }).code === '53300') {
    return new SupervisorError(
      'unavailable',
      `PostgreSQL refused a new connection (${(err as Error).message}): its limit is reached; a daemon opens up to databasePoolSize connections, three more for notifications and one per lock it holds, so raise the limit (ALTER ROLE … CONNECTION LIMIT) or lower databasePoolSize; try again`,
    );
  }
  return new SupervisorError('unavailable', `lost the connection to PostgreSQL (${(err as Error).message}); the daemon reconnects by itself, try again`);
}
