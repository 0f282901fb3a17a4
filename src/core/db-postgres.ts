import pg from 'pg';
import type { Db, ListenHandlers, Listening, QueryResult, Tx } from './db.js';
import { parseInt8 } from './db.js';
import { SupervisorError } from './errors.js';
import { KeyedLock } from './keyed-lock.js';
import { answered } from './pg-answer.js';
import { connectionLost, unavailableIfLost } from './pg-errors.js';
import { CONNECT_TIMEOUT_MS, pgExclusive, pgIsHeld, pgTryHold, searchPathOption, SERVER_KEEPALIVE } from './pg-locks.js';

const INT8_OID = 20;

export interface PostgresOptions {
  connectionString: string;
  /** Schema put first on the search_path of every connection (tests use one per run). */
  schema?: string;
  maxConnections?: number;
  /**
   * Longest wait for a connection (a new one, or a free one of the pool) before the statement
   * fails as unavailable; a database that stopped answering would otherwise hold every request
   * for ever. Default 15 s.
   */
  connectTimeoutMs?: number;
  /** Where the URL was given, which a failure to connect tells the person to check (default DATABASE_URL). */
  urlSource?: string;
  /**
   * Longest a statement on a pooled connection may run: the server cancels it then (its
   * statement_timeout), and a connection that has not answered shortly after (silentAfterMs) is
   * taken for silent and dropped. Either way the statement fails as unavailable. Default 30 s:
   * past any statement a request makes (they touch a few rows; the longest wait for a lock held
   * by another short transaction), well before an HTTP client gives up on the daemon. Work that
   * may run longer runs unbounded (TransactionOptions) or on a connection of its own (locks).
   */
  statementTimeoutMs?: number;
}

function typeParser(oid: number, format?: string): (value: string) => unknown {
  if (oid === INT8_OID) return parseInt8;
  return format === 'binary'
    ? pg.types.getTypeParser(oid, 'binary')
    : pg.types.getTypeParser(oid, 'text');
}

const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;

/** One statement on a lent connection. */
type Run = <T>(sql: string, params?: readonly unknown[]) => Promise<QueryResult<T>>;

export async function openPostgres(options: PostgresOptions): Promise<Db> {
  const limitMs = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    // The client probes its idle connections too: one whose server vanished leaves the pool before it is lent.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    options: searchPathOption(options.schema),
    types: { getTypeParser: typeParser as typeof pg.types.getTypeParser },
  });
  // An idle client losing its connection must not crash the daemon.
  pool.on('error', () => undefined);
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    // node-postgres takes sslmode=prefer (libpq's "TLS if the server has it") as verify-full.
    const tls = /does not support SSL/.test((err as Error).message) ? ' (node-postgres insists on TLS for any sslmode but disable: use sslmode=disable for this server)' : '';
    throw new SupervisorError('unavailable', `cannot connect to PostgreSQL: ${(err as Error).message}${tls}; check ${options.urlSource ?? 'DATABASE_URL'}`);
  }

  // Parameterized statements are prepared once per connection and reused (pg names them),
  // which skips parse and plan on every hot read.
  const names = new Map<string, string>();
  const nameOf = (sql: string) => {
    let name = names.get(sql);
    if (!name) names.set(sql, (name = `s${names.size}`));
    return name;
  };

  /**
   * What every new connection is told before its first statement: the statement limit (the server
   * stops work the client has given up on; the watchdog waits a little longer) and to probe the
   * connection (below). Statements, not startup parameters: poolers such as PgBouncer refuse a
   * connection whose startup packet carries parameters they do not know.
   */
  const sessionSetup = `SET statement_timeout = ${Math.round(limitMs)}; ${SERVER_KEEPALIVE}`;
  /** Connections told `sessionSetup`. */
  const readied = new WeakSet<pg.PoolClient>();
  /**
   * Lends a pooled connection to `use`, which runs its statements (or scripts, without params)
   * with `run`, each waited for at most about `limit` ms (0: no limit). A broken connection is
   * closed, not handed to the next caller.
   */
  const borrow = async <T>(limit: number, use: (run: Run) => Promise<T>): Promise<T> => {
    const client = await pool.connect().catch((err: unknown) => Promise.reject(unavailableIfLost(err)));
    // The pool listens for a connection's errors only while it is idle: one lost while lent
    // (its server process terminated, the watchdog dropped it) would crash the daemon.
    let broken: Error | undefined;
    const onError = (err: Error) => (broken = err);
    client.on('error', onError);
    const run: Run = async <R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> => {
      try {
        const res = await answered(client, limit, () =>
          params && params.length > 0 ? client.query({ name: nameOf(sql), text: sql, values: params as unknown[] }) : client.query(sql),
        );
        return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
      } catch (err) {
        // A terminated server process says so before it closes the socket: the statement fails
        // before the connection does, and must not go back to the pool meanwhile.
        if (connectionLost(err)) broken ??= err as Error;
        throw unavailableIfLost(err);
      }
    };
    try {
      // Probed, a transaction whose client went silent (the watchdog dropped its connection, its
      // host vanished) does not hold its row locks on the server for hours, every other daemon's
      // statement on those rows failing meanwhile. Sent here, not from the pool's connect event: a
      // statement lent meanwhile would be queued behind it, which pg deprecates with a warning.
      if (!readied.has(client)) {
        await run(sessionSetup);
        readied.add(client);
      }
      return await use(run);
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  };

  const waiting = new KeyedLock();
  return {
    kind: 'postgres',
    query: (sql, params) => borrow(limitMs, (run) => run(sql, params)),
    transaction: (fn, txOptions) =>
      borrow(txOptions?.unbounded ? 0 : limitMs, async (run) => {
        const tx: Tx = { query: run, exec: async (sql) => void (await run(sql)) };
        try {
          // The server's statement_timeout is lifted with the client's watchdog, for this transaction only.
          await run(txOptions?.unbounded ? 'BEGIN; SET LOCAL statement_timeout = 0' : 'BEGIN');
          const result = await fn(tx);
          await run('COMMIT');
          return result;
        } catch (err) {
          await run('ROLLBACK').catch(() => undefined);
          throw unavailableIfLost(err);
        }
      }),
    listen: (channel, handlers) => listenOn(options, channel, handlers),
    // Callers in this process queue here first, so waiting for a lock costs no connection.
    exclusive: (name, fn) => waiting.run(name, () => pgExclusive(options, name, fn)),
    tryHold: (name, onLost) => pgTryHold(options, name, onLost),
    isHeld: (name) => borrow(limitMs, (run) => pgIsHeld(run, options, name)),
    close: () => pool.end(),
  };
}

/** Waits between reconnection attempts of a lost LISTEN connection. */
const RELISTEN_MS = [100, 500, 1000, 2000, 5000];
/**
 * A LISTEN connection is asked to answer this often, and has this long to: one that went
 * silent without being closed (a NAT or firewall forgot it, the network went) says nothing
 * about notifications it no longer gets, so it is given up within their sum — below the
 * second in which a revoked token must be refused everywhere.
 */
const HEARTBEAT_MS = 250;
const ANSWER_MS = 500;
/** Longest a (re)connection, its LISTEN included, may take before it is abandoned and tried again. */
const CONNECT_MS = 5_000;

/** Closes a client at once, whether or not the server still answers (end() waits for it). */
const drop = (client: pg.Client) => client.connection.stream.destroy();

/** Closes a client politely, or drops it if the server does not answer in time (a daemon must stop whatever the network does). */
async function close(client: pg.Client): Promise<void> {
  const silent = setTimeout(() => drop(client), ANSWER_MS);
  await client.end().catch(() => undefined);
  clearTimeout(silent);
}

/**
 * LISTEN on a client of its own (a pooled connection would be handed to other
 * queries). When that connection is lost, or stops answering, the caller is told
 * at once, and it is re-established in the background until `stop`.
 */
async function listenOn(options: PostgresOptions, channel: string, handlers: ListenHandlers): Promise<Listening> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) throw new Error(`not a channel name: ${channel}`);
  let stopped = false;
  let client: pg.Client | undefined;
  let pid: number | undefined;
  let attempt = 0;
  const heartbeat = (of: pg.Client): void => {
    const timer = setTimeout(() => {
      if (client !== of) return;
      let answered = false;
      // A process starved of CPU past ANSWER_MS (a busy small VM) runs this timer before it
      // reads an answer already waiting on the socket. The verdict waits for the next poll
      // for I/O (setImmediate runs after it), so it is the server's silence that is judged,
      // not ours: dropping here would bypass every cache for a reconnection, for nothing.
      const silent = setTimeout(() => setImmediate(() => answered || drop(of)), ANSWER_MS);
      of.query('SELECT 1').then(
        () => ((answered = true), clearTimeout(silent), heartbeat(of)),
        () => clearTimeout(silent),
      );
    }, HEARTBEAT_MS);
    timer.unref();
  };
  const connect = async (): Promise<void> => {
    // Named after its channel in pg_stat_activity, so an operator (or a test) can tell which is which.
    const next = new pg.Client({ connectionString: options.connectionString, application_name: `supervisor-listen:${channel}`, options: searchPathOption(options.schema) });
    next.on('notification', (n) => n.channel === channel && handlers.message(n.payload ?? ''));
    next.on('error', () => undefined);
    next.on('end', () => {
      if (stopped || client !== next) return;
      client = undefined;
      handlers.state(false);
      void retry();
    });
    const slow = setTimeout(() => drop(next), CONNECT_MS);
    try {
      await next.connect();
      await next.query(`LISTEN ${channel}`);
      if (stopped) return void (await close(next));
      pid = (await next.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    } catch (err) {
      drop(next);
      throw err;
    } finally {
      clearTimeout(slow);
    }
    client = next;
    attempt = 0;
    handlers.state(true);
    heartbeat(next);
  };
  const retry = async (): Promise<void> => {
    while (!stopped && !client) {
      await new Promise((resolve) => setTimeout(resolve, RELISTEN_MS[Math.min(attempt++, RELISTEN_MS.length - 1)]).unref());
      if (stopped) return;
      await connect().catch(() => undefined);
    }
  };
  await connect();
  return {
    backendPid: () => (client ? pid : undefined),
    async stop() {
      stopped = true;
      const last = client;
      client = undefined;
      if (last) await close(last);
    },
  };
}
