import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import { adminPrincipal, projectPrincipal } from '../../src/core/principal.js';
import { skipReason, testBackends } from '../helpers/db.js';
import { openTestServices, type TestServices } from '../helpers/services.js';
import { isError } from '../helpers/errors.js';


const admin = adminPrincipal('test-admin');

for (const backend of testBackends()) {
  describe(`projects [${backend}]`, { skip: await skipReason(backend) }, () => {
    let s: TestServices;
    let op: LocalInvoker;
    let dir: string;
    before(async () => {
      s = await openTestServices(backend);
      op = new LocalInvoker(s, admin, 'internal');
      dir = await mkdtemp(join(tmpdir(), 'supervisor-project-dir-'));
    });
    after(() => s.close());

    test('meta and shared exist from the first start, with their ranges', async () => {
      const listed = await op.invoke('list_projects', {});
      assert.deepEqual((listed.items as Array<{ name: string }>).map((p) => p.name), ['meta', 'shared']);
      assert.equal((await s.ports.getRange('shared')).range.start, 9000);
    });

    test('add: description, directory, a port block; again answers the same project', async () => {
      const added = await op.invoke('add_project', { project: 'consilio', description: 'case tracker', directory: dir });
      assert.deepEqual([added.name, added.description, added.directory, added.created, added.notes], ['consilio', 'case tracker', dir, true, ['port range 3100-3199']]);
      const again = await op.invoke('add_project', { project: 'consilio' });
      assert.deepEqual([again.created, again.directory], [false, dir]);
      await assert.rejects(op.invoke('add_project', { project: 'consilio', directory: '/elsewhere' }), isError('conflict', /already exists with another directory; `update_project` changes it/));
    });

    test('a directory must be absolute and normalised; one that does not exist yet is noted, not refused', async () => {
      for (const directory of ['relative/path', '/a/../b', '/trailing/']) {
        await assert.rejects(op.invoke('add_project', { project: 'bad-dir', directory }), isError('invalid_input', /directory: must be an absolute, normalised path/));
      }
      const added = await op.invoke('add_project', { project: 'later', directory: '/srv/not-yet-here' });
      assert.deepEqual(added.notes, ['directory /srv/not-yet-here does not exist on this host yet', 'port range 3200-3299']);
    });

    test('a new name cannot end with -: it is a label of the project\'s hostnames', async () => {
      await assert.rejects(op.invoke('add_project', { project: 'trailing-' }), isError('invalid_input', /project: a project name cannot end with -/));
    });

    test('update changes description and directory; null clears; an unknown project is not_found', async () => {
      const updated = await op.invoke('update_project', { project: 'later', description: 'now', directory: null });
      assert.deepEqual([updated.description, updated.directory], ['now', null]);
      await assert.rejects(op.invoke('update_project', { project: 'later' }), isError('invalid_input', /give description or directory/));
      await assert.rejects(op.invoke('update_project', { project: 'nobody', description: 'x' }), isError('not_found', /no project nobody/));
    });

    test('get lists what each domain holds; remove is refused with that list, and force releases it all in one go', async () => {
      await s.ports.allocate(admin, { project: 'consilio', service: 'api' });
      await s.secrets.set(admin, { path: 'project/consilio/database_url', value: 'postgres://c' });
      await s.secrets.grant('test-admin', { project: 'consilio', prefix: 'service/smtp/', access: 'read' });
      // Another project's grant into consilio's folder goes with consilio too.
      await s.secrets.grant('test-admin', { project: 'later', prefix: 'project/consilio/db', access: 'read' });
      const token = await s.auth.tokens.create({ name: 'agent', project: 'consilio' });
      const got = await op.invoke('get_project', { project: 'consilio' });
      // Every domain that holds project data is listed; those holding nothing here say 0.
      const holdings = got.holdings as Array<{ domain: string; count: number }>;
      assert.deepEqual(holdings.filter((h) => h.count === 0).map((h) => h.domain), ['tasks', 'knowledge', 'agent', 'gcloud']);
      assert.deepEqual(holdings.filter((h) => h.count > 0), [
        { domain: 'auth', count: 1, sample: [`token agent (${token.id})`] },
        { domain: 'ports', count: 1, sample: ['api:3100'] },
        { domain: 'secrets', count: 3, sample: ['grant project/consilio/db/ to later (read)', 'grant service/smtp/ (read)', 'project/consilio/database_url'] },
      ]);
      await assert.rejects(op.invoke('remove_project', { project: 'consilio' }), isError('conflict', /consilio still owns tokens: 1 .*ports: 1 \(api:3100\); secrets and grants: 3 .*--force/));
      assert.equal((await s.ports.getRange('consilio')).range.start, 3100, 'nothing released by the refusal');

      const removed = await op.invoke('remove_project', { project: 'consilio', force: true });
      assert.deepEqual((removed.released as Array<{ domain: string; count: number }>).map((r) => [r.domain, r.count]), [['auth', 1], ['ports', 1], ['secrets', 3]]);
      await assert.rejects(op.invoke('get_project', { project: 'consilio' }), isError('not_found'));
      assert.equal(await s.auth.tokens.verify(token.token), undefined, 'its token no longer works');
      await assert.rejects(s.secrets.get(admin, { path: 'project/consilio/database_url' }), isError('not_found', /was deleted; `restore_secret` brings it back/));
      assert.deepEqual(await s.secrets.listGrants('consilio'), []);
      assert.deepEqual(await s.secrets.listGrants('later'), [], 'a project of the same name added later is not open to later');
      // Its block is free again, and the project can come back; its deleted secrets do not come with it unasked.
      await assert.rejects(
        op.invoke('add_project', { project: 'consilio' }),
        isError('conflict', /^project\/consilio\/ holds 1 deleted secret \(project\/consilio\/database_url\), left by an earlier project consilio .*: its token could restore them\. Add it with deletedSecrets: keep \(the same project coming back\) or deletedSecrets: discard \(deleted for good\)$/),
      );
      await assert.rejects(op.invoke('get_project', { project: 'consilio' }), isError('not_found'), 'the refused add left nothing');
      const back = await op.invoke('add_project', { project: 'consilio', deletedSecrets: 'discard' });
      assert.deepEqual(back.notes, ['port range 3100-3199', 'discarded 1 deleted secret under project/consilio/ for good']);
      const newcomer = projectPrincipal('consilio', 'token:consilio-2');
      await assert.rejects(s.secrets.restore(newcomer, { path: 'project/consilio/database_url' }), isError('not_found'));
      // A project coming back keeps them when asked: then they are its own to restore.
      await s.secrets.set(admin, { path: 'project/later/api_key', value: 'k' });
      await op.invoke('remove_project', { project: 'later', force: true });
      const kept = await op.invoke('add_project', { project: 'later', deletedSecrets: 'keep' });
      assert.match((kept.notes as string[]).at(-1)!, /^kept 1 deleted secret under project\/later\//);
      assert.equal((await s.secrets.restore(projectPrincipal('later', 'token:later'), { path: 'project/later/api_key' })).path, 'project/later/api_key');
      // Live secrets already in a new project's folder are named: its token will read them.
      await s.secrets.set(admin, { path: 'project/provisioned/database_url', value: 'postgres://p' });
      assert.deepEqual(((await op.invoke('add_project', { project: 'provisioned' })).notes as string[]).at(-1), 'project/provisioned/ already holds 1 secret (project/provisioned/database_url), which this project\'s token can read');
      // Without deleted secrets under its folder the choice is not needed, and given, changes nothing.
      assert.deepEqual((await op.invoke('add_project', { project: 'fresh', deletedSecrets: 'discard' })).notes, ['port range 3400-3499']);
    });

    test('meta and shared cannot be removed; a project token cannot add or remove projects, and reads the details of its own only', async () => {
      await assert.rejects(op.invoke('remove_project', { project: 'meta', force: true }), isError('invalid_input', /built in/));
      const agent = new LocalInvoker(s, projectPrincipal('consilio', 'token:consilio'), 'internal');
      await assert.rejects(agent.invoke('add_project', { project: 'mine' }), isError('forbidden', /needs an admin token/));
      await assert.rejects(agent.invoke('remove_project', { project: 'later' }), isError('forbidden'));
      assert.equal((await agent.invoke('get_project', { project: 'consilio' })).name, 'consilio');
      // Another project's holdings name its secret paths and tokens.
      await op.invoke('add_project', { project: 'neighbour' });
      await assert.rejects(agent.invoke('get_project', { project: 'neighbour' }), isError('forbidden', /cannot use the details of project neighbour/));
    });

    test('adding and removing are audited', async () => {
      const rows = await s.audit.list({ action: 'project.', limit: 50 });
      for (const action of ['project.add', 'project.update', 'project.remove']) assert.ok(rows.some((r) => r.action === action), action);
    });
  });
}
