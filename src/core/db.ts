/**
 * The one storage interface every domain uses. Two backends implement it with
 * the same SQL: embedded PGlite (default, in the data dir) and a `pg` pool
 * (DATABASE_URL). Values come back normalised the same way from both:
 * int8 as number, bytea as Buffer, timestamptz as Date, jsonb as objects.
 */
export type Row = Record<string, unknown>;

export interface QueryResult<T = Row> {
  rows: T[];
  rowCount: number;
}

export interface Queryable {
  query<T = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
}

export type DbKind = 'pglite' | 'postgres';

/** A connection inside a transaction; `exec` runs a script of several statements (migrations). */
export interface Tx extends Queryable {
  exec(sql: string): Promise<void>;
}

export interface ListenHandlers {
  /** A NOTIFY's payload. */
  message(payload: string): void;
  /** false when the listening connection is lost (notifications may be missed), true once listening again. */
  state(listening: boolean): void;
}

export interface Listening {
  /** The server process of the listening connection, when there is one (health checks, tests). */
  backendPid(): number | undefined;
  stop(): Promise<void>;
}

/** A lock held by this process until released, or until the connection that holds it dies. */
export interface Held {
  held(): boolean;
  /** The server process of the holding connection, when there is one (health checks, tests). */
  backendPid(): number | undefined;
  release(): Promise<void>;
}

/** What the holder of an `exclusive` lock is given. */
export interface Holding {
  /**
   * Runs a statement on the lock's own session, so it takes effect only while the lock is
   * still held: once the lock is lost (its connection died, and another process may hold it
   * now), it rejects as `unavailable`, whether or not this process has noticed yet.
   */
  query(sql: string, params?: readonly unknown[]): Promise<void>;
}

export interface TransactionOptions {
  /**
   * Its statements may run (or wait for a lock) as long as they take, exempt from the
   * statement time limit of PostgreSQL connections: migrations, which wait for another
   * daemon's migration and may build an index over a big table. Only for work no request
   * waits on: a connection that goes silent meanwhile holds it up for as long as TCP does.
   */
  unbounded?: boolean;
}

export interface Db extends Queryable {
  readonly kind: DbKind;
  /** Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Tx) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Notifications sent on `channel` by other processes (PostgreSQL LISTEN on a
   * connection of its own, reconnected when lost). PGlite belongs to one process:
   * there is nobody else to hear from, so it is always listening and never told anything.
   */
  listen(channel: string, handlers: ListenHandlers): Promise<Listening>;
  /**
   * Runs `fn` while holding the lock `name` across every process on this database,
   * waiting for other holders (read-diff-write against an outside system with no
   * precondition, such as a tunnel's configuration). The lock can be lost underneath (its
   * connection died): what must happen only while it is held goes through `holding.query`.
   */
  exclusive<T>(name: string, fn: (holding: Holding) => Promise<T>): Promise<T>;
  /**
   * Becomes the one holder of `name` across every process on this database, or
   * undefined when someone else is (a scheduler that must run once). Released by
   * `release`, or when its connection dies — then `onLost` runs.
   */
  tryHold(name: string, onLost: () => void): Promise<Held | undefined>;
  /** Whether some process, this one included, holds `name` by `tryHold` now. */
  isHeld(name: string): Promise<boolean>;
  close(): Promise<void>;
}

/** int8 values we store (counters, ids) stay far below 2^53. */
export const parseInt8 = (value: string): number => Number(value);

export function toBuffer(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError('expected a bytea value');
}
