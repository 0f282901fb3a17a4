// Which path each key of an imported .env lands at: `# supervisor-path` comments map keys back to the
// paths an export took them from, and only real comment lines may do that.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'dotenv';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import { adminPrincipal, projectPrincipal } from '../../src/core/principal.js';
import { pathsFromComments } from '../../src/secrets/env-names.js';
import { formatEnvFile, unreadLines } from '../../src/secrets/envfile.js';
import { skipReason, testBackends } from '../helpers/db.js';
import { isError } from '../helpers/errors.js';
import { addProject } from '../helpers/projects.js';
import { openTestServices, type TestServices } from '../helpers/services.js';

const admin = adminPrincipal('test-admin');

const injected = 'say "hi"\n# supervisor-path LOWER_DASH hijacked\nmore';

test('pathsFromComments reads comment lines, never lines inside a quoted value', () => {
  for (const quote of [`'`, '"', '`']) {
    const text = `# supervisor-path A a-path\nNOTE=${quote}x\n# supervisor-path B hijacked\ny${quote} # trailing\n# supervisor-path C c-path\n`;
    assert.equal(parse(text).NOTE, 'x\n# supervisor-path B hijacked\ny', quote);
    assert.deepEqual([...pathsFromComments(text)], [['A', 'a-path'], ['C', 'c-path']], quote);
  }
  // An unclosed quote is no quoted value to dotenv: it reads the line bare, and the next line is a comment.
  assert.deepEqual([...pathsFromComments(`NOTE='x\n# supervisor-path B b-path\n`)], [['B', 'b-path']]);
  assert.deepEqual([...pathsFromComments(`# supervisor-path A a\r\nB=1\r\n`)], [['A', 'a']]);
});

test("a value's text cannot plant a mapping comment: a quote dotenv does not close at leaves the value one line, a backslashed quote can close it", () => {
  // As export writes a value ending in a backslash after quotes, then one holding a planted comment.
  const planted = 'A=" ""\\"\nB=`"\n# supervisor-path C database_url\n`\nC=plain\n';
  assert.deepEqual(parse(planted), { A: ' ""\\', B: '"\n# supervisor-path C database_url\n', C: 'plain' });
  assert.deepEqual([...pathsFromComments(planted)], []);
  // dotenv closes WIN_DIR at its backslashed quote (OTHER's opening quote cannot close it), so the next line is skipped: said.
  const windows = 'WIN_DIR="C:\\Temp\\"\nDB PASSWORD=hunter2\nOTHER="ok"\n';
  assert.deepEqual(parse(windows), { WIN_DIR: 'C:\\Temp\\', OTHER: 'ok' });
  assert.deepEqual(unreadLines(windows), [2]);
});

test('no value can plant a mapping comment or a skipped line in an exported file (random values, checked against dotenv)', () => {
  // A small seeded generator: the same values on every run.
  let seed = 20261201;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pieces = ['"', "'", '`', '\\', '\\"', ' ', '\t', 'v', '#', '=', '\n', '\n# supervisor-path C evil\n', '\nC=x\n', 'A=', '$X'];
  const value = () => Array.from({ length: 1 + Math.floor(next() * 10) }, () => pieces[Math.floor(next() * pieces.length)]).join('');
  for (let n = 0; n < 20_000; n++) {
    const entries = ['A', 'B', 'C'].map((key) => ({ key, value: value() }));
    const { content, refused } = formatEnvFile(entries);
    const written = entries.filter((e) => !refused.some((r) => r.key === e.key));
    assert.deepEqual(parse(content), Object.fromEntries(written.map((e) => [e.key, e.value])), 'export writes what dotenv reads back');
    assert.deepEqual([...pathsFromComments(content)], [], JSON.stringify(content));
    assert.deepEqual(unreadLines(content), [], JSON.stringify(content));
  }
});

/** A file with lines dotenv skips (3, 5, 8, 11) among every kind it reads: numbers from 1. */
const WITH_UNREAD = [
  'GOOD=1', // 1
  '', // 2
  'MY KEY=hunter2', // 3: a space in the key
  'export EXPORTED=2', // 4
  'JUSTAKEY', // 5: no =
  'COLON: 3', // 6
  '  # an indented comment', // 7
  '= no key', // 8
  "NOTE='a value over lines", // 9
  'this line is the value', // 10
  "still it'", // 11: the quote closes
  'LAST=4', // 12
].join('\n');

test('unreadLines names the lines dotenv skips, judged by dotenv itself', () => {
  const unread = unreadLines(WITH_UNREAD);
  const lines = WITH_UNREAD.split('\n');
  // dotenv reads the same without them, and a line inside a quoted value is never one of them.
  const kept = lines.filter((_, i) => !unread.includes(i + 1)).join('\n');
  assert.deepEqual(parse(kept), parse(WITH_UNREAD));
  assert.equal(parse(WITH_UNREAD).NOTE, "a value over lines\nthis line is the value\nstill it");
  assert.deepEqual(unread, [3, 5, 8]);
  // Each one is really skipped: dotenv reads no key from it alone.
  for (const n of unread) assert.deepEqual(parse(lines[n - 1]!), {}, `line ${n}`);
  assert.deepEqual(unreadLines('A=1\r\nnot one\r\nB=2'), [2]);
});

for (const backend of testBackends()) {
  describe(`import_secrets paths [${backend}]`, { skip: await skipReason(backend) }, () => {
    let s: TestServices;
    let asAdmin: LocalInvoker;
    before(async () => {
      s = await openTestServices(backend);
      asAdmin = new LocalInvoker(s, admin, 'internal');
      for (const name of ['inj', 'inj2', 'dup', 'one', 'granter', 'grantee']) await addProject(s, admin.actor, { name });
    });
    after(() => s.close());

    test('a line inside an exported multi-line value is no mapping comment: the round trip keeps every path and value', async () => {
      await s.secrets.set(admin, { path: 'project/inj/lower-dash', value: 'dash path' });
      await s.secrets.set(admin, { path: 'project/inj/note', value: injected });
      const exported = await asAdmin.invoke('export_secrets', { prefix: 'project/inj/' });
      assert.deepEqual(exported.refused, []);
      const answer = await asAdmin.invoke('import_secrets', { prefix: 'project/inj2/', content: exported.content as string });
      assert.deepEqual([...(answer.created as string[])].sort(), ['project/inj2/lower-dash', 'project/inj2/note']);
      assert.equal((await s.secrets.get(admin, { path: 'project/inj2/lower-dash' })).value, 'dash path');
      assert.equal((await s.secrets.get(admin, { path: 'project/inj2/note' })).value, injected);
    });

    test('lines dotenv skips are imported as it reads them, and named by number in warnings, never by their text', async () => {
      await addProject(s, admin.actor, { name: 'unread' });
      const answer = await asAdmin.invoke('import_secrets', { prefix: 'project/unread/', content: WITH_UNREAD });
      assert.deepEqual([...(answer.created as string[])].sort(), ['project/unread/colon', 'project/unread/exported', 'project/unread/good', 'project/unread/last', 'project/unread/note']);
      assert.deepEqual(answer.warnings, ['lines 3, 5 and 8: not KEY=value as dotenv reads it (a space in the key, no =?), so not imported']);
      const clean = await asAdmin.invoke('import_secrets', { prefix: 'project/unread/', content: 'GOOD=1\n\n# comment\n' });
      assert.deepEqual(clean.warnings, [], 'blank and comment lines are no warning');
    });

    test('a key that would come back under another name is imported and said so; one that comes back as it is, is not', async () => {
      await addProject(s, admin.actor, { name: 'names' });
      const answer = await asAdmin.invoke('import_secrets', { prefix: 'project/names/', content: 'MiXeD=a\nDOT.NAME=b\n1START=c\nPLAIN_KEY=d\n# supervisor-path STRIPE_KEY stripe-key\nSTRIPE_KEY=e\n' });
      assert.deepEqual(answer.warnings, [
        'MiXeD is stored at project/names/mixed, which get_run_env, supervisor run and export_secrets give as MIXED',
        'DOT.NAME is stored at project/names/dot.name, which get_run_env, supervisor run and export_secrets give as DOT_NAME',
        '1START is stored at project/names/1start, which get_run_env, supervisor run and export_secrets give as _1START',
      ]);
      const run = (await asAdmin.invoke('get_run_env', { project: 'names' })) as { variables: Array<{ name: string }> };
      assert.deepEqual(run.variables.map((v) => v.name).sort(), ['DOT_NAME', 'MIXED', 'PLAIN_KEY', 'STRIPE_KEY', '_1START'], 'the names the warnings gave');
    });

    test('an import of more than 500 variables is refused before anything is written (it would hold the embedded database for as long as it runs)', async () => {
      await addProject(s, admin.actor, { name: 'bulk' });
      const lines = (n: number) => Array.from({ length: n }, (_, i) => `K${i}=v`).join('\n');
      await assert.rejects(asAdmin.invoke('import_secrets', { prefix: 'project/bulk/', content: lines(501) }), isError('invalid_input', /^content: 501 variables; one import stores at most 500 .*split the file$/));
      assert.equal((await s.secrets.list(admin, { prefix: 'project/bulk/', recursive: true, includeDeleted: true, limit: 10 })).items.length, 0);
      assert.equal(((await asAdmin.invoke('import_secrets', { prefix: 'project/bulk/', content: lines(500) })).created as string[]).length, 500);
    });

    test('keys that supervisor-path comments put at one path are refused as one secret, before anything is written', async () => {
      const collisions = [
        '# supervisor-path A same\n# supervisor-path B same\nA=one\nB=two\n',
        // A mapping onto the path a plain key lands at.
        '# supervisor-path A same\nA=one\nSAME=two\n',
        // An empty value is skipped, but at the same path it would still be reported beside the other.
        '# supervisor-path A same\n# supervisor-path B same\nA=one\nB=\n',
      ];
      for (const content of collisions) {
        for (const overwrite of [true, false]) {
          await assert.rejects(
            asAdmin.invoke('import_secrets', { prefix: 'project/dup/', content, overwrite }),
            isError('invalid_input', /^content: A and (B|SAME) are the same secret \(a # supervisor-path comment maps them both to project\/dup\/same\); keep one$/),
          );
        }
      }
      assert.deepEqual((await s.secrets.list(admin, { prefix: 'project/dup/', recursive: true, includeDeleted: true, limit: 10 })).items, []);
    });

    test('an export of one secret imports back to that secret under the same prefix, not to a path below it', async () => {
      await s.secrets.set(admin, { path: 'project/one/stripe-key', value: 'sk_1' });
      const exported = await asAdmin.invoke('export_secrets', { prefix: 'project/one/stripe-key' });
      assert.match(exported.content as string, /^STRIPE_KEY=/m);
      const again = await asAdmin.invoke('import_secrets', { prefix: 'project/one/stripe-key', content: exported.content as string });
      assert.deepEqual(again.unchanged, ['project/one/stripe-key']);
      const changed = await asAdmin.invoke('import_secrets', { prefix: 'project/one/stripe-key', content: 'STRIPE_KEY=sk_2\n' });
      assert.deepEqual(changed.updated, ['project/one/stripe-key']);
      assert.equal((await s.secrets.get(admin, { path: 'project/one/stripe-key' })).value, 'sk_2');
      // Other keys, and any key under the folder form of the prefix, still go below it.
      const below = await asAdmin.invoke('import_secrets', { prefix: 'project/one/stripe-key', content: 'OTHER=o\n' });
      assert.deepEqual(below.created, ['project/one/stripe-key/other']);
      const folder = await asAdmin.invoke('import_secrets', { prefix: 'project/one/stripe-key/', content: 'STRIPE_KEY=sk_3\n' });
      assert.deepEqual(folder.created, ['project/one/stripe-key/stripe_key']);
    });

    test('a project with write access to one secret of another project imports that secret back; a project without access is refused', async () => {
      await s.secrets.set(admin, { path: 'project/granter/api_key', value: 'a1' });
      await asAdmin.invoke('grant_secret_access', { project: 'grantee', prefix: 'project/granter/api_key', access: 'write' });
      const grantee = new LocalInvoker(s, projectPrincipal('grantee', 'token:grantee'), 'internal');
      const exported = await grantee.invoke('export_secrets', { prefix: 'project/granter/api_key' });
      const content = (exported.content as string).replace('a1', 'a2');
      const answer = await grantee.invoke('import_secrets', { prefix: 'project/granter/api_key', content });
      assert.deepEqual(answer.updated, ['project/granter/api_key']);
      assert.equal((await s.secrets.get(admin, { path: 'project/granter/api_key' })).value, 'a2');
      const stranger = new LocalInvoker(s, projectPrincipal('one', 'token:one'), 'internal');
      await assert.rejects(stranger.invoke('import_secrets', { prefix: 'project/granter/api_key', content: 'API_KEY=a3\n' }), isError('forbidden', /^project one may not write project\/granter\/api_key:/));
      assert.equal((await s.secrets.get(admin, { path: 'project/granter/api_key' })).value, 'a2');
    });
  });
}
