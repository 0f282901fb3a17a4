import assert from 'node:assert/strict';
import { SupervisorError, type ErrorCode } from '../../src/core/errors.js';

/**
 * An assert.rejects / assert.throws predicate: a SupervisorError with this code and,
 * when given, a message matching `pattern`. A mismatch fails with what was thrown.
 */
export function isError(code: ErrorCode, pattern?: RegExp) {
  return (err: unknown): true => {
    assert.ok(err instanceof SupervisorError, `expected a SupervisorError (${code}), got ${String(err)}`);
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    if (pattern) assert.match(err.message, pattern);
    return true;
  };
}

/** Awaits a call that must fail with `code` (and a message matching `pattern`); returns the error for more checks. */
export async function assertRejects(call: Promise<unknown>, code: ErrorCode, pattern?: RegExp): Promise<SupervisorError> {
  let answer: unknown;
  try {
    answer = await call;
  } catch (err) {
    isError(code, pattern)(err);
    return err as SupervisorError;
  }
  assert.fail(`expected ${code}, got an answer: ${JSON.stringify(answer)?.slice(0, 300)}`);
}
