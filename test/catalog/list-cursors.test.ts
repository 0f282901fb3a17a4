// A list's nextCursor leads only through that list: given to another list whose keys have the same
// shape (names, int ids) it is refused like a made-up cursor, not read as some page of the other list.
// Through the catalog invoker, where MCP, REST and the CLI all end.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import { adminPrincipal } from '../../src/core/principal.js';
import { isError } from '../helpers/errors.js';
import { openTestServices, type TestServices } from '../helpers/services.js';

const refused = isError('invalid_input', /^cursor: not one this server issued; pass a nextCursor of the same list unchanged, or omit cursor for the first page$/);

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

  test('the same list takes its cursor back under another filter: the page starts after the key', async () => {
    const { nextCursor } = await call('list_audit', { action: 'secret.write', limit: 1 });
    const every = (await call('list_audit', { limit: 200 })).items;
    const after = (await call('list_audit', { limit: 200, cursor: nextCursor! })).items;
    assert.ok(after.length > 0 && after.length < every.length);
    assert.deepEqual(after, every.slice(-after.length));
  });
});
