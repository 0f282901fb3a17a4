/**
 * The command line's wait for work that outlasts one call (CliSpec.wait), with a stand-in for
 * the daemon that answers each call from a script: which operation is called, with what, and
 * when the wait ends. The pause between early answers is recorded, not waited out.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitExitCode, waitForEnd, WAIT_TIMED_OUT } from '../../src/cli/wait.js';

const ID = '0b7c6a52-4c1e-4f58-9d0e-5a3f2b1c9e77';
const LOOP = { seconds: 'waitSeconds', max: 50, field: 'status', pending: ['queued', 'running'], failed: ['failed', 'cancelled', 'interrupted'] };
const AFTER_START = { ...LOOP, repeat: { operation: 'get_piv_status', input: { id: 'id' } } };

/** Answers the statuses in turn (the last repeats), recording each call. */
function daemon(statuses: string[]) {
  const calls: Array<{ operation: string; input: Record<string, unknown> }> = [];
  const invoke = async (operation: string, input: Record<string, unknown>) => {
    calls.push({ operation, input });
    return { id: ID, status: statuses[Math.min(calls.length, statuses.length) - 1]! };
  };
  return { calls, invoke };
}
const noPause = async () => undefined;

describe('waitForEnd', () => {
  test('work the first call starts is started once; the repeat operation is called after it, with the id it answered, until the end', async () => {
    const d = daemon(['queued', 'running', 'failed']);
    const ended = await waitForEnd('start_piv', AFTER_START, { project: 'p', feature: 'f' }, Infinity, d.invoke, noPause);
    assert.deepEqual(d.calls, [
      { operation: 'start_piv', input: { project: 'p', feature: 'f', waitSeconds: 50 } },
      { operation: 'get_piv_status', input: { id: ID, waitSeconds: 50 } },
      { operation: 'get_piv_status', input: { id: ID, waitSeconds: 50 } },
    ]);
    assert.equal(ended.pending, false);
    assert.equal(waitExitCode(AFTER_START, ended), 1, 'failed, as piv status --wait exits');
  });

  test('a loop that ends within the first call is not asked about again', async () => {
    const d = daemon(['succeeded']);
    const ended = await waitForEnd('resume_piv', AFTER_START, { id: ID }, Infinity, d.invoke, noPause);
    assert.deepEqual(d.calls.map((c) => c.operation), ['resume_piv']);
    assert.equal(waitExitCode(AFTER_START, ended), 0);
  });

  test('without repeat the same call is repeated', async () => {
    const d = daemon(['running', 'interrupted']);
    const ended = await waitForEnd('get_piv_status', LOOP, { id: ID, progressEntries: 3 }, Infinity, d.invoke, noPause);
    assert.deepEqual(d.calls, [
      { operation: 'get_piv_status', input: { id: ID, progressEntries: 3, waitSeconds: 50 } },
      { operation: 'get_piv_status', input: { id: ID, progressEntries: 3, waitSeconds: 50 } },
    ]);
    assert.equal(waitExitCode(LOOP, ended), 1, 'interrupted did not end done');
  });

  test('an early "still running" is not repeated at once: the round is paused, never a busy loop', async () => {
    const d = daemon(['running', 'running', 'succeeded']);
    const pauses: number[] = [];
    await waitForEnd('start_piv', AFTER_START, {}, Infinity, d.invoke, async (ms) => void pauses.push(ms));
    assert.equal(pauses.length, 2);
    assert.ok(pauses.every((ms) => ms > 0 && ms <= 1000), `paused ${pauses.join(', ')} ms`);
  });

  test('the time running out while pending ends the wait with the last answer, WAIT_TIMED_OUT', async () => {
    const d = daemon(['running']);
    const ended = await waitForEnd('start_piv', AFTER_START, {}, 0, d.invoke, noPause);
    assert.deepEqual(d.calls.map((c) => [c.operation, c.input.waitSeconds]), [['start_piv', 0]]);
    assert.equal(ended.output.status, 'running');
    assert.equal(waitExitCode(AFTER_START, ended), WAIT_TIMED_OUT);
  });
});
