// Waiting at the command line for work that outlasts one call (CliSpec.wait): an operation waits
// at most its own limit per call, because MCP clients give up on a call after 60 s, while a person
// or a script at the command line wants the end. The call is repeated, each asking for at most that
// limit, until the answer is no longer pending or the person's limit has passed; work started by
// the call (piv start) is not started again: the operation that reports on it is repeated instead.
// No signal handler is installed: Ctrl-C ends the command at once, between calls or during one.
import { setTimeout as sleep } from 'node:timers/promises';
import type { CliSpec } from '../catalog/operation.js';
import type { CommandSpec } from './commands.js';

/** Exit code of a waiting command whose limit passed before the work ended: timeout(1)'s, which scripts already know. */
export const WAIT_TIMED_OUT = 124;

/**
 * A call answered "still pending" long before its time (a daemon that ignores the wait, or a loop
 * requeued by a stopping daemon) is not repeated sooner than this: a wait never turns into a busy loop.
 */
const MIN_ROUND_MS = 1000;

type Wait = NonNullable<CliSpec['wait']>;
type Invoke = (operation: string, input: Record<string, unknown>) => Promise<Record<string, unknown>>;

/**
 * How long the command line asked to wait, in seconds: Infinity for `--wait`, the `--<seconds>`
 * value when above 0, else undefined (one call, as any command). Takes the field out of `input`.
 */
export function waitLimit(cmd: CommandSpec, input: Record<string, unknown>, untilEnd: boolean): number | undefined {
  const wait = cmd.cli.wait;
  if (!wait) return undefined;
  if (untilEnd) return Infinity;
  const seconds = input[wait.seconds];
  if (typeof seconds !== 'number' || seconds <= 0) return undefined;
  delete input[wait.seconds];
  return seconds;
}

/**
 * Calls `operation` until the answer's field is no longer pending, or `limitSeconds` have passed;
 * `pending` says which. With `wait.repeat` the operation is called once (it starts the work), and
 * the repeat operation after it, with its fields from the first answer. `pause` is how a round
 * that came back early waits out the rest of MIN_ROUND_MS (tests give one that does not wait).
 */
export async function waitForEnd(
  operation: string,
  wait: Wait,
  input: Record<string, unknown>,
  limitSeconds: number,
  invoke: Invoke,
  pause: (ms: number) => Promise<unknown> = (ms) => sleep(ms),
): Promise<{ output: Record<string, unknown>; pending: boolean }> {
  const deadline = Date.now() + limitSeconds * 1000;
  let call = { operation, input };
  for (let first = true; ; first = false) {
    const round = Date.now();
    const left = Math.ceil((deadline - round) / 1000);
    const output = await invoke(call.operation, { ...call.input, [wait.seconds]: Math.max(0, Math.min(wait.max, left)) });
    const pending = wait.pending.includes(String(output[wait.field]));
    if (!pending || Date.now() >= deadline) return { output, pending };
    if (first && wait.repeat) call = { operation: wait.repeat.operation, input: fieldsOf(wait.repeat.input, output) };
    const early = MIN_ROUND_MS - (Date.now() - round);
    if (early > 0) await pause(early);
  }
}

/** The repeat operation's input: each of its fields given the first answer's field it names. */
function fieldsOf(from: Record<string, string>, answer: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(from).map(([field, source]) => [field, answer[source]]));
}

/** The waiting form's exit code: 0 when the work ended well, 1 when it ended as a failure, WAIT_TIMED_OUT while still pending. */
export function waitExitCode(wait: Wait, ended: { output: Record<string, unknown>; pending: boolean }): number {
  if (ended.pending) return WAIT_TIMED_OUT;
  return wait.failed.includes(String(ended.output[wait.field])) ? 1 : 0;
}
