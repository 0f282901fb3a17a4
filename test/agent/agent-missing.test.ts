// start_piv with an agent command that cannot be started: refused before the loop creates its
// branch or switches the checkout, which a loop failing at its first agent run left behind.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import { adminPrincipal } from '../../src/core/principal.js';
import { skipReason, testBackends } from '../helpers/db.js';
import { assertRejects } from '../helpers/errors.js';
import { openTestServices, type TestServices } from '../helpers/services.js';
import { projectRepo } from './domain-fixture.js';
import { git } from './fixture.js';
import { FEATURE, GREETER } from './greeter.js';

for (const backend of testBackends()) {
  for (const [command, said] of [
    ['/nonexistent/supervisor-test/claude', /^the agent command \/nonexistent\/supervisor-test\/claude is not an executable file; set agentCommand/],
    ['no-such-claude-supervisor-test', /^the agent command no-such-claude-supervisor-test is not on the PATH of the daemon; set agentCommand/],
  ] as const) {
    describe(`start_piv with the agent command ${command} [${backend}]`, { skip: await skipReason(backend) }, () => {
      let s: TestServices;
      before(async () => {
        s = await openTestServices(backend, { SUPERVISOR_AGENT_COMMAND: command });
      });
      after(() => s?.close());

      test('is refused as not_configured naming the setting, and the checkout, its branches and the runs are untouched', async (t) => {
        const admin = new LocalInvoker(s, adminPrincipal('test-admin'), 'internal');
        const dir = await projectRepo(t, GREETER);
        await admin.invoke('add_project', { project: 'greeter', directory: dir });
        const branchBefore = await git(dir, 'rev-parse', '--abbrev-ref', 'HEAD');

        const err = await assertRejects(admin.invoke('start_piv', { project: 'greeter', feature: FEATURE, validationCommands: ['true'] }), 'not_configured', said);

        assert.match(err.message, new RegExp(`nothing was changed in ${dir}$`));
        assert.equal(await git(dir, 'rev-parse', '--abbrev-ref', 'HEAD'), branchBefore);
        assert.equal(await git(dir, 'branch', '--list', 'feature/*'), '');
        assert.deepEqual((await admin.invoke('list_piv_runs', { project: 'greeter' })).items, []);
      });

      test('a checkout that would be refused as well is named in the same answer', async (t) => {
        const admin = new LocalInvoker(s, adminPrincipal('test-admin'), 'internal');
        const dir = await projectRepo(t, GREETER);
        await admin.invoke('add_project', { project: 'dirty', directory: dir });
        await writeFile(join(dir, 'scratch.txt'), 'not committed\n');

        const err = await assertRejects(admin.invoke('start_piv', { project: 'dirty', feature: FEATURE, validationCommands: ['true'] }), 'not_configured', said);

        assert.match(err.message, /set agentCommand .*; the checkout needs attention too: .* has uncommitted changes \(.*scratch\.txt.*\)/);
        assert.match(String(err.details?.checkout), /has uncommitted changes/);
        assert.equal(await readFile(join(dir, 'scratch.txt'), 'utf8'), 'not committed\n');
      });
    });
  }
}
