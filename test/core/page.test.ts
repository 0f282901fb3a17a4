// List cursors: a cursor a page issued leads to the next page; anything else, made up or from
// before the check tag, is refused as invalid_input, never read as some page.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bindCursor, decodeCursor, decodeIntCursor, encodeCursor, pageArray, pageNewestFirst, unbindCursor } from '../../src/core/page.js';
import { isError } from '../helpers/errors.js';

const refused = isError('invalid_input', /^cursor: not one this server issued for this list and these fields; pass a nextCursor unchanged, to the same list with the same fields \(limit may change\), or omit cursor for the first page$/);
const names = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];

describe('list cursors', () => {
  test('a cursor a page issued gives the next page, to the end, whatever the key holds', () => {
    const first = pageArray(names, { limit: 2 }, (n) => n);
    const second = pageArray(names, { limit: 2, cursor: first.nextCursor! }, (n) => n);
    const third = pageArray(names, { limit: 2, cursor: second.nextCursor! }, (n) => n);
    assert.deepEqual([first.items, second.items, third.items, third.nextCursor], [['alpha', 'bravo'], ['charlie', 'delta'], ['echo'], null]);
    for (const key of ['', 'project/x/ä', '{"a":["1"]}', '12345']) assert.equal(decodeCursor(encodeCursor(key)), key);
    assert.equal(decodeIntCursor(encodeCursor('42')), 42);
  });

  test('a cursor no page issued is refused, not taken as the first page or any other', async () => {
    const plain = (key: string) => Buffer.from(key, 'utf8').toString('base64url');
    const issued = encodeCursor('bravo');
    // '' read as "no cursor"; base64url of a bare key (as cursors were before the tag) read as a key.
    const madeUp = ['', 'AA', 'abc', 'page2', plain('bravo'), plain('42'), `${issued}A`, issued.slice(1), `x${issued.slice(1)}`, 'a b', 'YWJj=='];
    for (const cursor of madeUp) {
      assert.throws(() => pageArray(names, { limit: 2, cursor }, (n) => n), refused, JSON.stringify(cursor));
      await assert.rejects(pageNewestFirst({ limit: 2, cursor }, async () => []), refused, JSON.stringify(cursor));
    }
    assert.throws(() => decodeIntCursor(encodeCursor('99999999999999')), refused);
  });

  test('a cursor bound to the list that issued it comes back from that list only, and is no longer', () => {
    const issued = encodeCursor('42');
    const input = { limit: 2, prefix: 'project/alpha/' };
    const bound = bindCursor('list_audit', issued, input);
    assert.equal(unbindCursor('list_audit', bound, input), issued);
    assert.equal(bound.length, issued.length);
    // Another list, the list's own unbound cursor (as every cursor was before), a made-up one.
    assert.throws(() => unbindCursor('list_cloudflare_changes', bound, input), refused);
    assert.throws(() => unbindCursor('list_audit', issued, input), refused);
    assert.throws(() => unbindCursor('list_audit', 'AA', input), refused);
  });

  test('a cursor comes back only with the fields it was issued for: another prefix would answer a page that skips items', () => {
    const issued = encodeCursor('project/alpha/k6');
    const bound = bindCursor('list_secrets', issued, { prefix: 'project/alpha/', recursive: true, limit: 3 });
    // The page size may change, and the order fields were given in does not matter.
    assert.equal(unbindCursor('list_secrets', bound, { limit: 50, recursive: true, prefix: 'project/alpha/', cursor: bound }), issued);
    assert.throws(() => unbindCursor('list_secrets', bound, { prefix: 'project/', recursive: true, limit: 3 }), refused);
    assert.throws(() => unbindCursor('list_secrets', bound, { prefix: 'project/alpha/', recursive: false, limit: 3 }), refused);
    assert.throws(() => unbindCursor('list_secrets', bound, { prefix: 'project/alpha/', limit: 3 }), refused);
  });
});
