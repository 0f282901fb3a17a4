import { performance } from 'node:perf_hooks';
import type { z } from 'zod';
import { scopeOf, type Principal } from '../core/principal.js';
import { forbidden, SupervisorError, toSupervisorError } from '../core/errors.js';
import { bindCursor, unbindCursor } from '../core/page.js';
import type { InvokeOptions, Invoker } from './invoker.js';
import type { Operation, Via } from './operation.js';
import type { AppCore } from './wire.js';
import { checkOutput, parseInput } from './validate.js';

/** Field names redacted from call records whatever the operation says. */
const ALWAYS_SENSITIVE = new Set(['value', 'token', 'secret', 'password', 'entries']);

/**
 * Copies the input only when a field must be hidden; the recorder bounds what it keeps either way.
 * A field the operation does not have is hidden too: a misspelt `vaule` or `Value` carries the
 * secret the caller meant to send, and the call is refused without it being recognised as one.
 */
function redactFor(op: Operation | undefined, input: unknown): Record<string, unknown> {
  if (!op || input === null || typeof input !== 'object' || Array.isArray(input)) return {};
  const fields = input as Record<string, unknown>;
  const known = 'shape' in op.input ? (op.input as z.ZodObject).shape : {};
  const hidden = (key: string) => ALWAYS_SENSITIVE.has(key) || (op.sensitive?.includes(key) ?? false) || !Object.hasOwn(known, key);
  if (!Object.keys(fields).some(hidden)) return fields;
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, hidden(k) ? '[redacted]' : v]));
}

/** The input with its cursor as the list's own code issued it; a cursor another list or other fields were given is refused (see bindCursor). */
function withListCursor(list: string, input: unknown): unknown {
  if (typeof input !== 'object' || input === null || !('cursor' in input) || typeof input.cursor !== 'string') return input;
  return { ...input, cursor: unbindCursor(list, input.cursor, input) };
}

/** The output with its nextCursor bound to the list and the fields (`input`) that issued it. */
function withBoundCursor(list: string, input: unknown, output: Record<string, unknown>): Record<string, unknown> {
  return typeof output.nextCursor === 'string' ? { ...output, nextCursor: bindCursor(list, output.nextCursor, input) } : output;
}

export interface LocalInvokerOptions {
  /**
   * The caller is the operator, at the terminal that opened this process (the CLI without a
   * daemon): an outage it is answered is not logged as well, which only said it twice.
   */
  callerIsOperator?: boolean;
}

/**
 * Runs operations in this process for one principal: look up, authorize,
 * validate, call, check the output, record the call. Every adapter ends here, so list cursors
 * are bound to their operation here.
 */
export class LocalInvoker implements Invoker {
  constructor(
    private readonly app: AppCore,
    private readonly principal: Principal,
    private readonly via: Via,
    private readonly options: LocalInvokerOptions = {},
  ) {}

  async invoke(name: string, rawInput: unknown, options: InvokeOptions = {}): Promise<Record<string, unknown>> {
    const started = performance.now();
    let outcome = 'ok';
    try {
      const op = this.app.catalog.require(name);
      await this.authorize(op);
      const parsed = parseInput(op.input, rawInput, op.name);
      const input = withListCursor(op.name, parsed);
      const progress = options.onProgress ?? (() => undefined);
      const output = await op.handler({ principal: this.principal, svc: this.app.serviceOf(op.domain), via: this.via, progress }, input);
      return withBoundCursor(op.name, parsed, checkOutput(op.output, output, op.name));
    } catch (err) {
      const error = toSupervisorError(err);
      outcome = error.code;
      if (!(err instanceof SupervisorError)) this.app.log.error({ err, operation: name }, 'operation failed');
      // An outage (the database, Cloudflare, Google) or something only the operator can set up (a
      // master key, a token) is the operator's to see, not only the caller's.
      else if ((error.code === 'unavailable' || error.code === 'not_configured') && !this.options.callerIsOperator) this.app.log.warn({ operation: name, reason: error.message }, `operation failed: ${error.code}`);
      throw error;
    } finally {
      const durationMs = performance.now() - started;
      const op = this.app.catalog.get(name);
      // Only the catalog's names become series: a caller's made-up names would grow them without end.
      this.app.metrics.observe(op ? name : '(unknown)', this.via, outcome, durationMs / 1000);
      this.app.calls.record({
        at: this.app.clock.now(),
        operation: name,
        via: this.via,
        actor: this.principal.actor,
        project: scopeOf(this.principal),
        outcome,
        durationMs,
        input: redactFor(op, rawInput),
      });
    }
  }

  private async authorize(op: Operation): Promise<void> {
    if (op.access !== 'admin' || this.principal.role === 'admin') return;
    await this.app.audit.record({ actor: this.principal.actor, action: `op.${op.name}`, outcome: 'denied', detail: { project: this.principal.project } });
    // "Connection", not "token": over stdio there is none, the session is narrowed to the project it was started for.
    throw forbidden(`${op.name} needs an admin token; this connection is scoped to project ${this.principal.project}`);
  }
}
