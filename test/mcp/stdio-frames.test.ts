// A line too large to read is answered with the id of the request it held, wherever the client
// put the id, so the client gets its error instead of waiting for an answer that never comes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { idOfDroppedLine, readFrames, type Frame } from '../../src/mcp/stdio-frames.js';

/** The frames of `chunks` written to a stream read with a limit of `max` bytes a line. */
async function framesOf(chunks: string[], max: number): Promise<Frame[]> {
  const input = new PassThrough();
  const frames: Frame[] = [];
  const ended = new Promise<void>((resolve) => readFrames(input, (frame) => frames.push(frame), resolve, max));
  for (const chunk of chunks) input.write(chunk);
  input.end();
  await ended;
  return frames;
}

const pad = 'x'.repeat(4000);

test('the id first (as most clients write it) or last (as the MCP SDK does), split over many chunks', async () => {
  const first = `{"jsonrpc":"2.0","id":92,"method":"tools/call","params":{"arguments":{"id":1,"value":"${pad}"}}}`;
  const last = `{"method":"tools/call","params":{"arguments":{"id":"inner","value":"${pad}"}},"jsonrpc":"2.0","id":"req-7"}`;
  const chunks = [...`${first}\n${last}\n{"jsonrpc":"2.0","id":3,"method":"ping"}\n`].reduce<string[]>((all, c, i) => (i % 700 === 0 ? [...all, c] : [...all.slice(0, -1), all.at(-1)! + c]), []);
  const frames = await framesOf(chunks, 1000);
  assert.deepEqual(frames.map((f) => (f.kind === 'refused' ? f.reply.id : f.message.id)), [92, 'req-7', 3]);
  assert.deepEqual(frames.map((f) => f.kind), ['refused', 'refused', 'message']);
  const refused = frames[0] as Extract<Frame, { kind: 'refused' }>;
  assert.deepEqual(refused.reply.error, { code: -32600, message: 'Invalid Request: the message is larger than 1000 bytes, the most one may be; it was not read' });
});

test('an id inside the arguments, or in a string, is not taken for the request\'s', () => {
  const edge = (text: string) => Buffer.from(text);
  // Only nested ids in the kept start, and the end not closing on an id: no id to answer.
  assert.equal(idOfDroppedLine(edge('{"method":"tools/call","params":{"id":5,"value":"'), edge('xxxx"}}}')), null);
  assert.equal(idOfDroppedLine(edge('{"method":"x","note":"\\"id\\":6","params":{"value":"'), edge('xx"}}')), null);
  // The end closing on the top level's id: a nested object closes with "}}", not "}".
  assert.equal(idOfDroppedLine(edge('{"params":{"value":"'), edge('xx"},"id":-4}')), -4);
  assert.equal(idOfDroppedLine(edge('{"params":{"value":"'), edge('xx","id":8}}')), null);
  // A string id with an escaped quote.
  assert.equal(idOfDroppedLine(edge('{ "jsonrpc" : "2.0", "id" : "a\\"b", "params":{"v":"'), edge('xx"}}')), 'a"b');
});
