// Tags on set_secret: the word null is not taken for a tag (elsewhere it clears a field), and a
// tag is given once; an empty list clears them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import { adminPrincipal } from '../../src/core/principal.js';
import { skipReason, testBackends } from '../helpers/db.js';
import { isError } from '../helpers/errors.js';
import { addProject } from '../helpers/projects.js';
import { openTestServices, type TestServices } from '../helpers/services.js';

const admin = adminPrincipal('test-admin');

for (const backend of testBackends()) {
  describe(`secret tags [${backend}]`, { skip: await skipReason(backend) }, () => {
    let s: TestServices;
    let asAdmin: LocalInvoker;
    before(async () => {
      s = await openTestServices(backend);
      asAdmin = new LocalInvoker(s, admin, 'internal');
      await addProject(s, admin.actor, { name: 'tg' });
    });
    after(() => s.close());

    test('null is refused as a tag and a repeated tag is refused, naming the field; [] clears the tags', async () => {
      const path = 'project/tg/a';
      assert.deepEqual((await asAdmin.invoke('set_secret', { path, value: 'v', tags: ['db', 'prod'] })).tags, ['db', 'prod']);
      await assert.rejects(asAdmin.invoke('set_secret', { path, value: 'v', tags: ['null'] }), isError('invalid_input', /tags\.0: null is not a tag; an empty list \(\[\], --tags ''\) clears the tags/));
      await assert.rejects(asAdmin.invoke('set_secret', { path, value: 'v', tags: ['a', 'a'] }), isError('invalid_input', /tags: each tag once/));
      assert.deepEqual((await asAdmin.invoke('get_secret', { path })).tags, ['db', 'prod'], 'a refused call changes nothing');
      assert.deepEqual((await asAdmin.invoke('set_secret', { path, value: 'v', tags: [] })).tags, []);
    });
  });
}
