import pg from 'pg';
import type { Held, Holding } from './db.js';
import { SupervisorError } from './errors.js';
import { connectionLost, unavailableIfLost } from './pg-errors.js';

/**
 * Locks shared by every process on one PostgreSQL database: session advisory locks,
 * each on a connection of its own (never a pooled one that queries need, and never
 * PGlite's single connection), so a lock lives exactly as long as its connection —
 * a daemon that dies or loses the database releases everything it held.
 */
export interface PgLockOptions {
  connectionString: string;
  /** Schema of this installation: lock names are qualified by it, so test schemas never contend. */
  schema?: string;
  /** Default CONNECT_TIMEOUT_MS. */
  connectTimeoutMs?: number;
}

const KEY = `hashtextextended($1, 0)`;

/**
 * How the server probes a connection that has gone quiet (a lock connection, a pooled one in a
 * transaction): after 10 s idle, every 5 s, given up after 3 unanswered. A client whose host
 * vanished (power cut, network gone) sends no FIN, and with the system's defaults PostgreSQL
 * would keep its session and locks for about two hours; this way they are released within ~25 s.
 * Set per session, by statements rather than startup options (poolers such as PgBouncer refuse
 * those); these GUCs are any user's to set.
 */
export const SERVER_KEEPALIVE = 'SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3';

/** The connection option that makes an installation's schema the one its statements see. */
export const searchPathOption = (schema: string | undefined): string | undefined => (schema ? `-c search_path=${schema},public` : undefined);

/** How long a new connection may take before it fails as unavailable (the pool's, and each lock's). */
export const CONNECT_TIMEOUT_MS = 15_000;

/**
 * A connection of its own for one lock (exported for its test). Its connect is bounded like the
 * pool's: a database that accepts and never answers (a stalled pooler, a half-open path) would
 * otherwise hold the lock's caller, every caller queued behind it, and the daemon's stop.
 */
export async function lockConnection(options: PgLockOptions): Promise<pg.Client> {
  // The client probes too, so a holder learns it lost the lock as soon as the server can have released it.
  const client = new pg.Client({
    connectionString: options.connectionString,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    connectionTimeoutMillis: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    application_name: 'supervisor-lock',
    // The installation's tables, as the pool sees them: a holder writes on this session (Holding).
    options: searchPathOption(options.schema),
  });
  client.on('error', () => undefined);
  // A connect that failed has closed its socket; end() on such a client would wait for ever.
  await client.connect().catch((err: unknown) => Promise.reject(unavailableIfLost(err)));
  try {
    await client.query(SERVER_KEEPALIVE);
  } catch (err) {
    await client.end().catch(() => undefined);
    throw unavailableIfLost(err);
  }
  return client;
}

const qualified = (options: PgLockOptions, name: string) => `${options.schema ?? 'public'}:${name}`;

/**
 * Runs `fn` while holding `name` across processes, waiting for it when another holds it.
 * `fn`'s statements on the lock's session run only while the session (so the lock) lives.
 */
export async function pgExclusive<T>(options: PgLockOptions, name: string, fn: (holding: Holding) => Promise<T>): Promise<T> {
  const client = await lockConnection(options);
  let alive = true;
  client.on('end', () => (alive = false));
  client.on('error', () => (alive = false));
  const holding: Holding = {
    async query(sql, params) {
      try {
        await client.query(sql, params as unknown[] | undefined);
      } catch (err) {
        if (alive && !connectionLost(err)) throw err;
        throw new SupervisorError('unavailable', `lost the database lock on ${name} (its connection to the database dropped); nothing more was written — run it again`);
      }
    },
  };
  try {
    await client.query(`SELECT pg_advisory_lock(${KEY})`, [qualified(options, name)]);
    return await fn(holding);
  } finally {
    // Closing the session releases the lock; an explicit unlock first keeps the server log quiet.
    if (alive) await client.query(`SELECT pg_advisory_unlock(${KEY})`, [qualified(options, name)]).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

/**
 * Whether a session holds `name`: a transaction lock on it is refused. Taken by the one statement
 * on a pooled connection, it is released as that statement commits, so the holder never sees it.
 */
export async function pgIsHeld(run: (sql: string, params: readonly unknown[]) => Promise<{ rows: Array<{ held?: unknown }> }>, options: PgLockOptions, name: string): Promise<boolean> {
  const { rows } = await run(`SELECT NOT pg_try_advisory_xact_lock(${KEY}) AS held`, [qualified(options, name)]);
  return rows[0]?.held === true;
}

/** Becomes the one holder of `name` if nobody holds it; `onLost` runs if its connection dies while held. */
export async function pgTryHold(options: PgLockOptions, name: string, onLost: () => void): Promise<Held | undefined> {
  const client = await lockConnection(options);
  const { rows } = await client.query<{ ok: boolean; pid: number }>(`SELECT pg_try_advisory_lock(${KEY}) AS ok, pg_backend_pid() AS pid`, [qualified(options, name)]);
  if (!rows[0]?.ok) {
    await client.end().catch(() => undefined);
    return undefined;
  }
  let held = true;
  const lost = () => {
    if (!held) return;
    held = false;
    onLost();
  };
  client.on('end', lost);
  client.on('error', lost);
  const pid = rows[0].pid;
  return {
    held: () => held,
    backendPid: () => (held ? pid : undefined),
    async release() {
      if (!held) return;
      held = false;
      await client.end().catch(() => undefined);
    },
  };
}
