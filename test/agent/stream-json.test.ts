// Claude Code's stream-json lines as they come out of `claude -p --output-format stream-json
// --verbose`: the result line decides a run; everything else is shown, never trusted.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseStreamLine, StreamJsonReader } from '../../src/agent/stream-json.js';

const INIT = JSON.stringify({
  type: 'system',
  subtype: 'init',
  cwd: '/repo',
  session_id: 's-1',
  tools: ['Read', 'Write'],
  mcp_servers: [],
  model: 'claude-sonnet-4-5',
  permissionMode: 'acceptEdits',
  apiKeySource: 'none',
});
const TEXT = JSON.stringify({
  type: 'assistant',
  message: { role: 'assistant', content: [{ type: 'text', text: 'I will add greet()\nto greet.js' }] },
  parent_tool_use_id: null,
  session_id: 's-1',
});
const TOOL_USE = JSON.stringify({
  type: 'assistant',
  message: { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Edit', input: { file_path: '/repo/greet.js', old_string: 'a' } }] },
  session_id: 's-1',
});
const TOOL_RESULT = JSON.stringify({
  type: 'user',
  message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ok' }] },
  session_id: 's-1',
});
const SUCCESS = JSON.stringify({
  type: 'result',
  subtype: 'success',
  is_error: false,
  duration_ms: 2006,
  duration_api_ms: 1800,
  num_turns: 4,
  result: 'Added greet().',
  session_id: 's-1',
  total_cost_usd: 0.0421,
  usage: { input_tokens: 10, output_tokens: 78 },
  modelUsage: {},
  permission_denials: [],
  uuid: 'u-9',
});

describe('parseStreamLine', () => {
  test('reads the result line: outcome, turns, cost, text and session', () => {
    assert.deepEqual(parseStreamLine(SUCCESS)?.result, {
      subtype: 'success',
      isError: false,
      numTurns: 4,
      costUsd: 0.0421,
      text: 'Added greet().',
      sessionId: 's-1',
      durationMs: 2006,
    });
  });

  test('a result that says success but is_error: true is an error', () => {
    const line = parseStreamLine(JSON.stringify({ type: 'result', subtype: 'success', is_error: true, result: 'API Error: 529 overloaded' }));
    assert.equal(line?.result?.isError, true);
    assert.equal(line?.result?.text, 'API Error: 529 overloaded');
  });

  test('an error subtype is an error even when is_error is false, and its errors become the text', () => {
    const line = parseStreamLine(
      JSON.stringify({ type: 'result', subtype: 'error_max_turns', is_error: false, num_turns: 10, total_cost_usd: 0.5, errors: ['max turns reached'] }),
    );
    assert.equal(line?.result?.isError, true);
    assert.equal(line?.result?.subtype, 'error_max_turns');
    assert.equal(line?.result?.text, 'max turns reached');
    assert.equal(line?.result?.numTurns, 10);
  });

  test('summarises each kind of line for a status view', () => {
    assert.equal(parseStreamLine(INIT)?.summary, 'system init (claude-sonnet-4-5)');
    assert.equal(parseStreamLine(TEXT)?.summary, 'assistant: I will add greet() to greet.js');
    assert.equal(parseStreamLine(TOOL_USE)?.summary, 'assistant: Edit /repo/greet.js');
    assert.equal(parseStreamLine(TOOL_RESULT)?.summary, 'user: tool done');
    assert.equal(parseStreamLine(SUCCESS)?.summary, 'result success: Added greet().');
  });

  test('tolerates unknown line types, unexpected shapes and lines that are not JSON', () => {
    assert.deepEqual(parseStreamLine('{"type":"stream_event","event":{"type":"content_block_delta"}}'), { type: 'stream_event', summary: 'stream_event' });
    assert.deepEqual(parseStreamLine('{"type":"assistant","message":"odd"}'), { type: 'assistant', summary: 'assistant' });
    assert.deepEqual(parseStreamLine('Warning: no stdin data received'), { type: 'text', summary: 'Warning: no stdin data received' });
    assert.deepEqual(parseStreamLine('[1,2]'), { type: 'text', summary: '[1,2]' });
    assert.equal(parseStreamLine('   '), undefined);
  });
});

describe('StreamJsonReader', () => {
  test('joins lines split across chunks and keeps the result line', () => {
    const reader = new StreamJsonReader();
    const all = `${INIT}\n${TEXT}\n${SUCCESS}\n`;
    const seen = [reader.push(all.slice(0, 50)), reader.push(all.slice(50, 400)), reader.push(all.slice(400)), reader.end()].flat();
    assert.deepEqual(
      seen.map((l) => l.type),
      ['system', 'assistant', 'result'],
    );
    assert.equal(reader.result?.text, 'Added greet().');
  });

  test('reads a last line that has no newline', () => {
    const reader = new StreamJsonReader();
    reader.push(SUCCESS);
    assert.equal(reader.result, undefined);
    assert.equal(reader.end()[0]?.result?.numTurns, 4);
  });

  test('keeps only the last lines for status', () => {
    const reader = new StreamJsonReader(2);
    reader.push(`${INIT}\n${TEXT}\n${TOOL_USE}\n`);
    assert.deepEqual(reader.tail(), ['assistant: I will add greet() to greet.js', 'assistant: Edit /repo/greet.js']);
  });
});
