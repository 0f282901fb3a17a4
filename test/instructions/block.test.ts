// The managed block on its own: found, replaced or inserted without changing one byte of the
// text around it, and hand edits told apart from line-end conversions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockBody, contentHash, findBlock, isHandEdited, placeBlock, renderBlock } from '../../src/instructions/block.js';

const SOURCES = ['core/10-ports.md', 'project/notes.md'];
const BODY = blockBody('alpha', 'Use get_port.');

function place(text: string, body = BODY): string {
  const found = findBlock(text);
  assert.notEqual(found.kind, 'malformed');
  return placeBlock(text, found as Exclude<typeof found, { kind: 'malformed' }>, SOURCES, body);
}

test('a file without markers gets the block on top, then a blank line, then its text', () => {
  assert.equal(place('# Own\n'), `${renderBlock(SOURCES, BODY, '\n')}\n\n# Own\n`);
  assert.equal(place(''), `${renderBlock(SOURCES, BODY, '\n')}\n`);
  assert.equal(place('no newline'), `${renderBlock(SOURCES, BODY, '\n')}\n\nno newline`);
});

test('a CRLF file gets a CRLF block; a byte-order mark stays first', () => {
  const text = place('\uFEFF# Own\r\nline\r\n');
  assert.ok(text.startsWith('\uFEFF<!-- supervisor-instructions:begin'));
  assert.ok(text.endsWith('-->\r\n\r\n# Own\r\nline\r\n'));
  assert.equal(text.replace(/\r\n/g, '').includes('\n'), false);
  // Placed again (the next regenerate, or a check comparing what it would write): the mark stays, nothing changes.
  assert.equal(place(text), text);
  const newer = place(text, blockBody('alpha', 'Use get_port, always.'));
  assert.ok(newer.startsWith('\uFEFF<!-- supervisor-instructions:begin'), JSON.stringify(newer.slice(0, 10)));
});

test('replacing a block keeps the text before and after it byte for byte', () => {
  const before = 'intro\r\nwith CRLF\r\n';
  const after = '\n\ntail without a final newline';
  const old = renderBlock(SOURCES, blockBody('alpha', 'old text'), '\n');
  const next = place(`${before}${old}${after}`);
  assert.equal(next, `${before}${renderBlock(SOURCES, BODY, '\n')}${after}`);
  // A block at the very end, with no newline after the end marker, stays that way.
  assert.equal(place(`x\n${old}`), `x\n${renderBlock(SOURCES, BODY, '\n')}`);
});

test('the body hash ignores line ends, so a CRLF checkout is not a hand edit', () => {
  const crlf = `${renderBlock(SOURCES, BODY, '\r\n')}\r\n`;
  const found = findBlock(crlf);
  assert.equal(found.kind, 'block');
  if (found.kind !== 'block') return;
  assert.equal(found.eol, '\r\n');
  assert.equal(found.body, BODY);
  assert.equal(found.recordedHash, contentHash(BODY));
  assert.equal(isHandEdited(found), false);
});

test('an edited body or a removed hash is a hand edit', () => {
  const text = renderBlock(SOURCES, BODY, '\n');
  const edited = findBlock(text.replace('Use get_port.', 'Use get_port. Or not.'));
  assert.ok(edited.kind === 'block' && isHandEdited(edited));
  const unhashed = findBlock(text.replace(/sha256=[0-9a-f]+ /, ''));
  assert.ok(unhashed.kind === 'block' && unhashed.recordedHash === undefined && isHandEdited(unhashed));
});

test('markers that are missing, doubled or out of order are malformed', () => {
  const block = renderBlock(SOURCES, BODY, '\n');
  const [begin, ...rest] = block.split('\n');
  const end = rest.pop()!;
  for (const text of [`${block}\n${block}\n`, `${begin}\nno end\n`, `${end}\n${begin}\n`, `text\n${end}\n`]) {
    const found = findBlock(text);
    assert.equal(found.kind, 'malformed', text);
    assert.match(found.kind === 'malformed' ? found.reason : '', /exactly one of each, on a line of its own, in order, is needed/);
  }
});

test('markers mentioned inside a line are not markers', () => {
  assert.deepEqual(findBlock('We use `<!-- supervisor-instructions:begin -->` blocks.\n'), { kind: 'none' });
});
