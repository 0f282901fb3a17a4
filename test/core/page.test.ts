// List cursors: a cursor a page issued leads to the next page; anything else, made up or from
// before the check tag, is refused as invalid_input, never read as some page.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bindCursor, decodeCursor, decodeIntCursor, encodeCursor, pageArray, pageNewestFirst, unbindCursor } from '../../src/core/page.js';
import { isError } from '../helpers/errors.js';

const refused = isError('invalid_input', /^cursor: not one this server issued; pass a nextCursor of the same list unchanged, or omit cursor for the first page$/);
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
    const bound = bindCursor('list_audit', issued);
    assert.equal(unbindCursor('list_audit', bound), issued);
    assert.equal(bound.length, issued.length);
    // Another list, the list's own unbound cursor (as every cursor was before), a made-up one.
    assert.throws(() => unbindCursor('list_cloudflare_changes', bound), refused);
    assert.throws(() => unbindCursor('list_audit', issued), refused);
    assert.throws(() => unbindCursor('list_audit', 'AA'), refused);
  });
});
