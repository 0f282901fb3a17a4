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

export interface Db extends Queryable {
  readonly kind: DbKind;
  /** Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Notifications sent on `channel` by other processes (PostgreSQL LISTEN on a
   * connection of its own, reconnected when lost). PGlite belongs to one process:
   * there is nobody else to hear from, so it is always listening and never told anything.
   */
  listen(channel: string, handlers: ListenHandlers): Promise<Listening>;
  close(): Promise<void>;
}

/** int8 values we store (counters, ids) stay far below 2^53. */
export const parseInt8 = (value: string): number => Number(value);

export function toBuffer(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError('expected a bytea value');
}
