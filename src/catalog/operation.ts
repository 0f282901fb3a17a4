import type { z } from 'zod';
import type { Principal } from '../core/principal.js';

/** The interface a call came through; recorded with every call. */
export type Via = 'mcp' | 'rest' | 'cli' | 'internal';

/** A step of long work, for whoever watches (MCP progress notifications, CLI lines on a terminal). */
export interface Progress {
  message: string;
  /** Steps done and in all, when known. */
  progress?: number;
  total?: number;
}

/** What a handler gets: the caller and its own domain's service, nothing else. */
export interface OperationContext<Svc = unknown> {
  principal: Principal;
  svc: Svc;
  via: Via;
  /** Reports a step of long work; does nothing when nobody watches. */
  progress(step: Progress): void;
}

/** MCP tool annotations; all four are set on every operation. */
export interface Annotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** How the CLI maps words to input: `supervisor <group> <verb> [args...] [--field value...]`. */
export type NumberFormat = 'usd' | 'ms' | 'fraction';

export interface CliSpec {
  command: [group: string, verb: string];
  /** Input fields taken positionally, in order. */
  args?: string[];
  /**
   * The last argument is free text (a search query, a description): the words typed after it
   * are part of it, as a person types them unquoted (`knowledge search redis sessions`).
   */
  textArg?: string;
  /** A field read from stdin when not given (keeps secrets out of shell history). */
  stdin?: string;
  /** Fields whose positional value names a file to read (`-` = stdin). */
  files?: string[];
  /** Fields naming a path on this host: relative on the command line, it is taken from the current directory (the daemon's is elsewhere). */
  hostPaths?: string[];
  /** An output field printed raw instead of the default table/JSON. */
  print?: string;
  /** Extra boolean flags naming an input field: `{ plan: 'dryRun' }` makes `--plan` set dryRun. */
  flags?: Record<string, string>;
  /**
   * When the answer says the work failed, the command exits 1 after printing it (checks and
   * batch runs for CI and cron): an output field and the values that mean failure
   * (`{ field: 'ok', values: [false] }`, `{ field: 'status', values: ['failed'] }`), or a list
   * field that is not empty (`{ field: 'failed', nonEmpty: true }`: some accounts could not be read).
   */
  failWhen?: { field: string; values: Array<string | boolean> } | { field: string; nonEmpty: true };
  /**
   * Work that outlasts one call: the operation waits at most `max` seconds (its input field
   * `seconds`), since MCP clients give up on a call after 60 s, but a person or script at the
   * command line may wait for the end. `--wait` repeats the call while the answer's `field` is one
   * of `pending`, however long; `--<seconds> n` takes any n there, repeating the call until n
   * seconds have passed. The waiting form exits 1 when `field` ended as one of `failed`, and
   * WAIT_TIMED_OUT when the time ran out first. An operation that starts the work (start_piv)
   * is called once: `repeat` names the operation called after it instead (get_piv_status, which
   * takes `seconds` too), and which of its input fields are taken from the first answer
   * (`{ id: 'id' }`); its answer is of the same shape.
   */
  wait?: { seconds: string; max: number; field: string; pending: string[]; failed: string[]; repeat?: { operation: string; input: Record<string, string> } };
  /** For list answers: the item fields a person needs, the columns of the table (`--wide` shows every field). */
  columns?: string[];
  /**
   * Item fields shown as extra columns when some row has another value than the one given
   * (`deletedAt: null` in a listing that includes deleted secrets, `host: 'local'` for ports).
   */
  columnsUnless?: Record<string, string | null>;
  /** List fields whose every flag gives one item as written, never split at commas (shell commands): `--x 'a, b' --x c`. */
  whole?: string[];
  /** Units printed after a number field's value in tables and key: value lines, e.g. `{ utilization: '%' }` (JSON stays a number). */
  units?: Record<string, string>;
  /**
   * Number fields shown in a unit a person reads (JSON stays the number): `usd` ($1,234.50),
   * `ms` (a duration: 850ms, 12.5s, 4m 05s, 2h 03m), `fraction` (0.818 as 81.8%). A table header
   * drops the field's own unit suffix the value now carries (meanMs: MEAN).
   */
  formats?: Record<string, NumberFormat>;
  /** Table headers other than the field's name, where the name alone would be unclear: `{ count: 'finished' }`. */
  headers?: Record<string, string>;
  /** For a list inside the answer (not `items`): the columns of its table, `{ vms: ['name', 'monthlyUsd'] }` (`--wide` shows every field). */
  nestedColumns?: Record<string, string[]>;
  /** In the answer to a dry run (its `applied` is false, or its `dryRun` true), these fields are printed under another label: `{ deleted: 'would delete' }`. */
  dryRunLabels?: Record<string, string>;
  /** Input fields of which the command line must give exactly one (`--project` or `--admin`): checked before calling. */
  exactlyOne?: string[];
  /**
   * A positional field whose absence means every one (`instructions check` without a project
   * checks every project): `--all` says so explicitly, as `instructions regenerate --all` does,
   * and is refused beside a value.
   */
  everyWithout?: string;
}

/** REST routes (`rest.path`) live under this prefix. */
export const API_PREFIX = '/api/v1';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * One capability, described once. MCP tools, REST routes and CLI commands are
 * generated from these fields, so the three interfaces cannot drift apart.
 */
export interface OperationDef<I extends z.ZodObject, O extends z.ZodObject, Svc> {
  /** Tool name: short snake_case (Claude Code shows mcp__<server>__<name>, 64 chars max in all). */
  name: string;
  title: string;
  /** Tells an agent when to use it (and when not). */
  description: string;
  /** `admin`: admin principals only. `any`: the handler checks the resources it touches. */
  access: 'admin' | 'any';
  annotations: Annotations;
  rest: { method: HttpMethod; path: string };
  cli: CliSpec;
  input: I;
  output: O;
  /** Input fields never written to the call record. */
  sensitive?: string[];
  handler(ctx: OperationContext<Svc>, input: z.output<I>): Promise<WithDates<z.input<O>>>;
}

/** Handlers may return Date where the schema says string: the invoker turns them into ISO 8601. */
export type WithDates<T> = T extends string
  ? string | Date
  : T extends Array<infer U>
    ? Array<WithDates<U>>
    : T extends object
      ? { [K in keyof T]: WithDates<T[K]> }
      : T;

/** An operation with its types erased, as the adapters see it. */
export interface Operation extends Omit<OperationDef<z.ZodObject, z.ZodObject, unknown>, 'handler'> {
  /** The domain it belongs to: its toolset, and whose service its handler gets. */
  domain: string;
  handler(ctx: OperationContext, input: unknown): Promise<unknown>;
}

/**
 * The operation factory of one domain: its operations get `ctx.svc` typed as the
 * domain's service, and carry the domain's id.
 */
export function operationsOf<Svc>(domain: string) {
  return <I extends z.ZodObject, O extends z.ZodObject>(def: OperationDef<I, O, Svc>): Operation => ({
    ...def,
    domain,
    // The invoker parses input with def.input and passes the service of `domain`, so the casts hold.
    handler: (ctx, input) => def.handler(ctx as OperationContext<Svc>, input as z.output<I>),
  });
}

/** Annotation presets, so each operation states its nature in one word. */
export const READ: Annotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
export const WRITE: Annotations = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false };
export const IDEMPOTENT_WRITE: Annotations = { ...WRITE, idempotentHint: true };
export const DESTRUCTIVE: Annotations = { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false };
