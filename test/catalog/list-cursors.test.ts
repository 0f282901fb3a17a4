// A list's nextCursor leads only through that list and the fields it was asked with: given to another
// list whose keys have the same shape (names, int ids), or with another filter, it is refused like a
// made-up cursor, not read as some page of the other list or question.
// Through the catalog invoker, where MCP, REST and the CLI all end.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import { adminPrincipal } from '../../src/core/principal.js';
import { isError } from '../helpers/errors.js';
import { openTestServices, type TestServices } from '../helpers/services.js';

const refused = isError('invalid_input', /^cursor: not one this server issued for this list and these fields; pass a nextCursor unchanged, to the same list with the same fields \(limit may change\), or omit cursor for the first page$/);

/** Two lists paged by name (projects, settings) and two by int id (audit rows, secret versions), with the input each needs. */
const LISTS: Record<string, Record<string, unknown>> = {
  list_projects: {},
  list_settings: {},
  list_audit: { action: 'secret.write' },
  get_secret_history: { path: 'project/alpha/token' },
};

describe('list cursors through the catalog', () => {
  let s: TestServices;
  let admin: LocalInvoker;
  const call = async (name: string, input: Record<string, unknown>) => (await admin.invoke(name, input)) as { items: unknown[]; nextCursor: string | null };

  before(async () => {
    s = await openTestServices('pglite');
    admin = new LocalInvoker(s, adminPrincipal('test-admin'), 'internal');
    for (const project of ['alpha', 'bravo', 'charlie']) await admin.invoke('add_project', { project });
    for (const value of ['one', 'two', 'three']) await admin.invoke('set_secret', { path: 'project/alpha/token', value });
  });
  after(() => s.close());

  test('each list pages through all its items, one page after another, with its own cursors', async () => {
    for (const [name, input] of Object.entries(LISTS)) {
      const whole = await call(name, { ...input, limit: 200 });
      assert.equal(whole.nextCursor, null, name);
      const paged: unknown[] = [];
      let cursor: string | undefined;
      do {
        const page = await call(name, { ...input, limit: 1, ...(cursor !== undefined ? { cursor } : {}) });
        paged.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      assert.ok(paged.length > 1, `${name} has more than one page`);
      assert.deepEqual(paged, whole.items, name);
    }
  });

  test('a cursor one list issued is refused by every other, even one whose keys have the same shape', async () => {
    const cursors = new Map<string, string>();
    for (const [name, input] of Object.entries(LISTS)) cursors.set(name, (await call(name, { ...input, limit: 1 })).nextCursor!);
    for (const [issuer, cursor] of cursors) {
      for (const [name, input] of Object.entries(LISTS)) {
        if (name !== issuer) await assert.rejects(call(name, { ...input, limit: 1, cursor }), refused, `${issuer}'s cursor given to ${name}`);
      }
    }
  });

  test('the same list refuses its cursor under other fields: the page would skip what sorts before the key', async () => {
    for (const key of ['k1', 'k2', 'k3']) await admin.invoke('set_secret', { path: `project/charlie/${key}`, value: 'v' });
    const { nextCursor } = await call('list_secrets', { prefix: 'project/charlie/', limit: 1 });
    await assert.rejects(call('list_secrets', { prefix: 'project/', limit: 1, cursor: nextCursor! }), refused);
    await assert.rejects(call('list_audit', { limit: 1, cursor: (await call('list_audit', { action: 'secret.write', limit: 1 })).nextCursor! }), refused);
    // The same fields, in another order, with another page size and a default given: the next page.
    const next = await call('list_secrets', { limit: 5, recursive: true, prefix: 'project/charlie/', cursor: nextCursor! });
    assert.deepEqual(next.items.map((i) => (i as { path: string }).path), ['project/charlie/k2', 'project/charlie/k3']);
  });
});
