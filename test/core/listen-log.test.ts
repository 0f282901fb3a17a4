// Losing and regaining other daemons' notifications is said once each way; the first
// "listening" at start, and a repeated state, are not changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logListenState } from '../../src/core/listen-log.js';

test('a lost listener is a warning with what it changes, its return a line of its own; the start and repeats are silent', () => {
  const lines: string[] = [];
  const log = { warn: (_o: object, msg: string) => void lines.push(`warn ${msg}`), info: (_o: object, msg: string) => void lines.push(`info ${msg}`) };
  const said = logListenState(log, 'supervisor_secrets', 'secret reads bypass the read cache');
  for (const state of [true, true, false, false, true, true]) said(state);
  assert.deepEqual(lines, [
    'warn lost the notifications from other daemons (supervisor_secrets): secret reads bypass the read cache until they are back',
    'info notifications from other daemons heard again (supervisor_secrets)',
  ]);
});
