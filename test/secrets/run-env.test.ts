import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import { adminPrincipal, projectPrincipal } from '../../src/core/principal.js';
import { isProtected } from '../../src/secrets/run-env.js';
import { skipReason, testBackends } from '../helpers/db.js';
import { addProject } from '../helpers/projects.js';
import { openTestServices, type TestServices } from '../helpers/services.js';
import { isError } from '../helpers/errors.js';


const admin = adminPrincipal('test-admin');

test('protected variables: process-control names and prefixes, nothing else', () => {
  for (const name of ['PATH', 'HOME', 'SHELL', 'IFS', 'LD_PRELOAD', 'LD_LIBRARY_PATH', 'DYLD_INSERT_LIBRARIES', 'NODE_OPTIONS', 'PYTHONPATH', 'PYTHONSTARTUP', 'BASH_ENV', 'GIT_SSH_COMMAND', 'NPM_CONFIG_PREFIX', 'SUPERVISOR_TOKEN']) {
    assert.equal(isProtected(name), true, name);
  }
  for (const name of ['DATABASE_URL', 'API_TOKEN', 'PORT', 'MYPATH', 'NODE', 'PATHS']) assert.equal(isProtected(name), false, name);
});

for (const backend of testBackends()) {
  describe(`get_run_env [${backend}]`, { skip: await skipReason(backend) }, () => {
    let s: TestServices;
    let asAdmin: LocalInvoker;
    before(async () => {
      s = await openTestServices(backend);
      asAdmin = new LocalInvoker(s, admin, 'internal');
      await addProject(s, admin.actor, { name: 'shop' });
      await s.secrets.set(admin, { path: 'project/shop/database_url', value: 'postgres://shop' });
      await s.secrets.set(admin, { path: 'project/shop/api_token', value: 't-123' });
      await addProject(s, admin.actor, { name: 'evil' });
      await s.secrets.set(admin, { path: 'project/evil/path', value: '/tmp/evil-bin' });
      await s.secrets.set(admin, { path: 'project/evil/ld_preload', value: '/tmp/evil.so' });
    });
    after(() => s.close());

    /** The secret.read audit rows of paths under `folder`, written out first (reads are buffered). */
    const readsUnder = async (folder: string) => {
      await s.secrets.flush();
      return (await s.audit.list({ action: 'secret.read', limit: 200 })).filter((r) => r.target?.startsWith(folder));
    };

    test("the project's secrets as variables, plus PORT and <SERVICE>_PORT with a service", async () => {
      const answer = await asAdmin.invoke('get_run_env', { project: 'shop', service: 'web' });
      const web = await s.ports.allocate(admin, { project: 'shop', service: 'web' });
      assert.deepEqual(answer.variables, [
        { name: 'API_TOKEN', value: 't-123', source: 'secret', path: 'project/shop/api_token' },
        { name: 'DATABASE_URL', value: 'postgres://shop', source: 'secret', path: 'project/shop/database_url' },
        { name: 'WEB_PORT', value: String(web.port), source: 'port', path: null },
        { name: 'PORT', value: String(web.port), source: 'port', path: null },
      ]);
    });

    test("meta's command gets the meta/ secrets by default (its own folder), not project/meta/", async () => {
      await s.secrets.set(admin, { path: 'meta/mail/smtp_password', value: 'smtp-1' });
      await s.secrets.set(admin, { path: 'project/meta/greeting', value: 'hello' });
      const answer = (await asAdmin.invoke('get_run_env', { project: 'meta' })) as { variables: Array<{ name: string; path: string | null }> };
      assert.deepEqual(answer.variables.map((v) => [v.name, v.path]), [['SMTP_PASSWORD', 'meta/mail/smtp_password']]);
    });

    test('an export that finds nothing says so in its content, where a typo in the prefix would otherwise look like an empty folder', async () => {
      const answer = await asAdmin.invoke('export_secrets', { prefix: 'project/shop/databse_url' });
      assert.equal(answer.count, 0);
      assert.equal(answer.content, '# exported from project/shop/databse_url\n# no secret under project/shop/databse_url that this token may read: nothing exported\n');
      assert.doesNotMatch((await asAdmin.invoke('export_secrets', { prefix: 'project/shop/' })).content as string, /nothing exported/);
      // A project misspelt: no such project, not an empty export a script writes over a good .env.
      await assert.rejects(asAdmin.invoke('export_secrets', { prefix: 'project/shp/' }), isError('not_found', /^no project shp/));
    });

    test('a project that does not exist is not_found, not an empty environment', async () => {
      await assert.rejects(asAdmin.invoke('get_run_env', { project: 'shpo' }), isError('not_found', /shpo/));
    });

    test('each secret read is audited like get_secret', async () => {
      const rows = await s.audit.list({ action: 'secret.read', limit: 50 });
      assert.ok(rows.some((r) => r.target === 'project/shop/database_url'));
      assert.ok(rows.some((r) => r.target === 'project/shop/api_token'));
    });

    test('a secret that would set PATH or LD_PRELOAD is refused, naming the variables and the secrets; allow lets them through', async () => {
      await assert.rejects(asAdmin.invoke('get_run_env', { project: 'evil' }), isError('forbidden', /secrets may not set LD_PRELOAD \(from project\/evil\/ld_preload\), PATH \(from project\/evil\/path\)/));
      await assert.rejects(asAdmin.invoke('get_run_env', { project: 'evil', allow: ['PATH'] }), isError('forbidden', /LD_PRELOAD/));
      // A refusal reads nothing: no value was given out, so none is audited or counted as read.
      assert.deepEqual(await readsUnder('project/evil/'), []);
      assert.equal((await s.secrets.list(admin, { prefix: 'project/evil/', recursive: true, includeDeleted: false, limit: 10 })).items.every((i) => i.readCount === 0), true);
      const allowed = await asAdmin.invoke('get_run_env', { project: 'evil', allow: ['PATH', 'LD_PRELOAD'] });
      assert.deepEqual((allowed.variables as Array<{ name: string }>).map((v) => v.name), ['LD_PRELOAD', 'PATH']);
    });

    test('with a service, a secret that would set PORT or a <SERVICE>_PORT is a conflict naming it, not overridden in silence; reading nothing', async () => {
      await addProject(s, admin.actor, { name: 'clash' });
      await s.ports.allocate(admin, { project: 'clash', service: 'api' });
      await s.secrets.set(admin, { path: 'project/clash/port', value: '9999' });
      await s.secrets.set(admin, { path: 'project/clash/api_port', value: '7777' });
      // Without a service nothing sets them: the secrets are the variables.
      const plain = await asAdmin.invoke('get_run_env', { project: 'clash' });
      assert.deepEqual((plain.variables as Array<{ name: string; value: string }>).map((v) => `${v.name}=${v.value}`), ['API_PORT=7777', 'PORT=9999']);
      const reads = (await readsUnder('project/clash/')).length;
      await assert.rejects(
        asAdmin.invoke('get_run_env', { project: 'clash', service: 'web' }),
        isError('conflict', /^project\/clash\/api_port \(API_PORT\), project\/clash\/port \(PORT\): with service web these variables hold the project's ports; rename or delete the secret/),
      );
      assert.equal((await readsUnder('project/clash/')).length, reads);
      // Nor was web's port reserved by the refused call.
      assert.deepEqual((await s.ports.projectAllocations('clash')).map((a) => a.service), ['api']);
    });

    test('two secrets giving one variable: get_run_env and export_secrets refuse before reading either', async () => {
      await addProject(s, admin.actor, { name: 'twins' });
      await s.secrets.set(admin, { path: 'project/twins/a/token', value: 'one' });
      await s.secrets.set(admin, { path: 'project/twins/b/token', value: 'two' });
      const both = /^project\/twins\/a\/token and project\/twins\/b\/token both become the variable TOKEN/;
      await assert.rejects(asAdmin.invoke('get_run_env', { project: 'twins' }), isError('conflict', both));
      await assert.rejects(asAdmin.invoke('export_secrets', { prefix: 'project/twins/' }), isError('conflict', both));
      assert.deepEqual(await readsUnder('project/twins/'), []);
    });

    test("a project token gets its own environment, not another project's", async () => {
      const shop = new LocalInvoker(s, projectPrincipal('shop', 'token:shop'), 'internal');
      assert.equal(((await shop.invoke('get_run_env', { project: 'shop' })).variables as unknown[]).length, 2);
      await assert.rejects(shop.invoke('get_run_env', { project: 'evil' }), isError('forbidden', /project shop may not read project\/evil\//));
      await assert.rejects(shop.invoke('get_run_env', { project: 'shop', prefix: 'meta/' }), isError('forbidden'));
    });

    test('a grant of one secret: get_run_env and export_secrets give exactly it, whether the prefix names the secret or a folder above it', async () => {
      await addProject(s, admin.actor, { name: 'granter' });
      await addProject(s, admin.actor, { name: 'grantee' });
      await s.secrets.set(admin, { path: 'project/granter/api_key', value: 'granted' });
      await s.secrets.set(admin, { path: 'project/granter/db_password', value: 'not granted' });
      await s.secrets.set(admin, { path: 'project/grantee/own_token', value: 'own' });
      await asAdmin.invoke('grant_secret_access', { project: 'grantee', prefix: 'project/granter/api_key', access: 'read' });
      const grantee = new LocalInvoker(s, projectPrincipal('grantee', 'token:grantee'), 'internal');
      const variables = async (prefix: string) => ((await grantee.invoke('get_run_env', { project: 'grantee', prefix })).variables as Array<{ name: string; value: string; path: string }>).map((v) => `${v.name}=${v.value} (${v.path})`);
      const exported = async (prefix: string) => ((await grantee.invoke('export_secrets', { prefix })).variables as Array<{ name: string; value: string }>).map((v) => `${v.name}=${v.value}`);
      for (const prefix of ['project/granter/api_key', 'project/granter/', 'project/granter']) {
        assert.deepEqual(await variables(prefix), ['API_KEY=granted (project/granter/api_key)'], prefix);
        assert.deepEqual(await exported(prefix), ['API_KEY=granted'], prefix);
      }
      // Above both folders: the project's own secrets and the granted one, nothing else.
      assert.deepEqual(await exported('project/'), ['OWN_TOKEN=own', 'API_KEY=granted']);
      assert.doesNotMatch((await grantee.invoke('export_secrets', { prefix: 'project/' })).content as string, /not granted/);
      await assert.rejects(grantee.invoke('export_secrets', { prefix: 'project/granter/db_password' }), isError('forbidden', /project grantee may not read project\/granter\/db_password\//));
      await assert.rejects(grantee.invoke('get_run_env', { project: 'grantee', prefix: 'project/shop/' }), isError('forbidden'));
      // An admin's export of a prefix naming a secret gives that secret too.
      assert.deepEqual(((await asAdmin.invoke('export_secrets', { prefix: 'project/granter/api_key' })).variables as Array<{ name: string }>).map((v) => v.name), ['API_KEY']);
    });

    test('secrets whose expiresAt has passed are still given, and named in expired (get_run_env, export_secrets)', async () => {
      await addProject(s, admin.actor, { name: 'lapsed' });
      const expiresAt = new Date(s.clock.now().getTime() + 1000);
      await s.secrets.set(admin, { path: 'project/lapsed/short_token', value: 'tmp-cred', expiresAt });
      await s.secrets.set(admin, { path: 'project/lapsed/long_token', value: 'ok', expiresAt: new Date(s.clock.now().getTime() + 86_400_000) });
      const fresh = await asAdmin.invoke('get_run_env', { project: 'lapsed' });
      assert.deepEqual([(fresh.variables as unknown[]).length, fresh.expired], [2, []]);
      s.clock.advance(2000);
      try {
        const env = await asAdmin.invoke('get_run_env', { project: 'lapsed' });
        assert.deepEqual((env.variables as Array<{ name: string }>).map((v) => v.name), ['LONG_TOKEN', 'SHORT_TOKEN']);
        assert.deepEqual(env.expired, [{ name: 'SHORT_TOKEN', path: 'project/lapsed/short_token', expiresAt: expiresAt.toISOString() }]);
        const exported = await asAdmin.invoke('export_secrets', { prefix: 'project/lapsed/' });
        assert.deepEqual(exported.expired, env.expired);
        assert.match(exported.content as string, new RegExp(`^# SHORT_TOKEN expired at ${expiresAt.toISOString()}: the credential may no longer work$`, 'm'));
      } finally {
        s.clock.advance(-2000);
      }
    });

    test('import_secrets stores a key that would set a protected variable, and says the run environment will refuse it', async () => {
      await addProject(s, admin.actor, { name: 'imported' });
      const answer = await asAdmin.invoke('import_secrets', { prefix: 'project/imported/', content: 'FOO=bar\nPATH=/evil\nNODE_OPTIONS=--inspect\n' });
      assert.deepEqual(answer.created, ['project/imported/foo', 'project/imported/path', 'project/imported/node_options']);
      assert.deepEqual((answer.warnings as string[]).map((w) => w.split(' becomes ')[0]), ['project/imported/path', 'project/imported/node_options']);
      assert.match((answer.warnings as string[])[0]!, /becomes PATH, which get_run_env and supervisor run refuse to set unless allowed \(allow PATH\)/);
      await assert.rejects(asAdmin.invoke('get_run_env', { project: 'imported' }), isError('forbidden', /secrets may not set NODE_OPTIONS .*, PATH /));
      assert.deepEqual((await asAdmin.invoke('import_secrets', { prefix: 'project/imported/', content: 'FOO=bar\n' })).warnings, []);
    });

    test('more secrets than the limit: the refusal says how to get them, raising the limit where it can go higher, or which folder to narrow to', async () => {
      await addProject(s, admin.actor, { name: 'crowded' });
      const put = (prefix: string, n: number) => s.secrets.importMany(admin, prefix, Array.from({ length: n }, (_, i) => ({ path: `${prefix}${prefix.split('/').at(-2)}_${i}`, value: 'v' })), true);
      await put('project/crowded/', 480);
      await put('project/crowded/web/', 30);
      await put('project/crowded/jobs/', 10);
      // 520 in all: beyond what one export or environment takes.
      const tooMany = /^520 secrets under project\/crowded\/, more than (200|500); narrow the prefix \(prefix\) to one of its folders: project\/crowded\/web\/ \(30\), project\/crowded\/jobs\/ \(10\)$/;
      await assert.rejects(asAdmin.invoke('get_run_env', { project: 'crowded' }), isError('invalid_input', tooMany));
      await assert.rejects(asAdmin.invoke('export_secrets', { prefix: 'project/crowded/' }), isError('invalid_input', tooMany));
      // Within what export takes: its limit can be raised.
      await s.secrets.delete(admin, { path: 'project/crowded/crowded_0' });
      await assert.rejects(asAdmin.invoke('export_secrets', { prefix: 'project/crowded/', limit: 100 }), isError('invalid_input', /^519 secrets under project\/crowded\/, more than 100; narrow the prefix/));
      for (let i = 1; i < 30; i++) await s.secrets.delete(admin, { path: `project/crowded/crowded_${i}` });
      await assert.rejects(asAdmin.invoke('export_secrets', { prefix: 'project/crowded/' }), isError('invalid_input', /^490 secrets under project\/crowded\/, more than 200; raise the limit up to 500 \(limit\), or narrow the prefix \(prefix\) to one of its folders: /));
      assert.equal((await asAdmin.invoke('export_secrets', { prefix: 'project/crowded/', limit: 500 })).count, 490);
      // A folder to narrow to that holds more than the default limit: raising the limit is said with it.
      await put('project/crowded/bulk/', 300);
      await assert.rejects(
        asAdmin.invoke('export_secrets', { prefix: 'project/crowded/' }),
        isError('invalid_input', /^790 secrets under project\/crowded\/, more than 200; narrow the prefix \(prefix\) to one of its folders: project\/crowded\/bulk\/ \(300\), project\/crowded\/web\/ \(30\), project\/crowded\/jobs\/ \(10\), raising the limit \(limit\) for one of more than 200$/),
      );
      assert.equal((await asAdmin.invoke('export_secrets', { prefix: 'project/crowded/bulk/', limit: 300 })).count, 300);
      // Directly in the folder, more than any prefix can take: said, since narrowing cannot help.
      await put('project/crowded/big/', 501);
      await assert.rejects(asAdmin.invoke('export_secrets', { prefix: 'project/crowded/big/', limit: 500 }), isError('invalid_input', /^501 secrets under project\/crowded\/big\/, more than 500; the 501 directly in project\/crowded\/big\/ are more than 500 whatever the prefix: move some into sub-folders/));
    });

    test('a bad variable name in allow is invalid input naming the field', async () => {
      await assert.rejects(asAdmin.invoke('get_run_env', { project: 'shop', allow: ['path'] }), isError('invalid_input', /allow\.0: a variable name such as PATH/));
    });
  });
}
