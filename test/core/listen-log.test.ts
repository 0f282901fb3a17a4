// Losing and regaining other daemons' notifications is said once each way; the first
// "listening" at start, and a repeated state, are not changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logListenState } from '../../src/core/listen-log.js';
import { createLogger } from '../../src/core/log.js';

test('a lost listener is a warning with what it changes, its return a line of its own; the start and repeats are silent', () => {
  const lines: string[] = [];
  const said = logListenState(createLogger('info', { write: (line: string) => void lines.push(line) }), 'supervisor_secrets', 'secret reads bypass the read cache');
  for (const state of [true, true, false, false, true, true]) said(state);
  assert.deepEqual(
    lines.map((l) => JSON.parse(l) as { level: number; msg: string }).map((l) => [l.level, l.msg]),
    [
      [40, 'lost the notifications from other daemons (supervisor_secrets): secret reads bypass the read cache until they are back'],
      [30, 'notifications from other daemons heard again (supervisor_secrets)'],
    ],
  );
});
