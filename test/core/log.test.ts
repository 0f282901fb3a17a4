import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/core/log.js';

test('secret fields are redacted wherever they appear in a log line', async () => {
  const lines: string[] = [];
  const log = createLogger('info', new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) }));
  log.info({ value: 'CANARY-1', input: { path: 'p', value: 'CANARY-2' }, req: { headers: { authorization: 'Bearer CANARY-3' } }, deep: { x: { token: 'CANARY-4' } } }, 'call');
  await new Promise((r) => setImmediate(r));
  const text = lines.join('');
  assert.match(text, /\[redacted\]/);
  for (const canary of ['CANARY-1', 'CANARY-2', 'CANARY-3', 'CANARY-4']) assert.ok(!text.includes(canary), canary);
});
