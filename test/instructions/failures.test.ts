// One project's problem is that project's line in the report, in words a person can act on;
// every other project is still regenerated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, chown, lstat, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { listLayers } from '../../src/instructions/layers.js';
import { regenerateInstructions, type RegenerateReport, type RegenerateResult } from '../../src/instructions/regenerate.js';
import { makeTree, type Tree } from './fixture.js';

const CHILD = fileURLToPath(new URL('./regenerate-child.ts', import.meta.url));
const NOBODY = 65534;

const reasonOf = (report: RegenerateReport, name: string) => {
  const result = report.results.find((r) => r.project === name) as RegenerateResult;
  return result.status === 'failed' || result.status === 'refused' ? `${result.status}: ${result.reason}` : result.status;
};

/** Permission bits do not stop root: as root, regenerate in a child process running as nobody. */
async function regenerateUnprivileged(tree: Tree): Promise<RegenerateReport> {
  if (process.getuid?.() !== 0) return regenerateInstructions(tree.ctx, tree.projects);
  await chownTree(tree.base, NOBODY);
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify({ root: tree.root, projects: tree.projects })], {
    uid: NOBODY,
    gid: NOBODY,
    env: { ...process.env, HOME: tree.base },
  });
  return JSON.parse(stdout) as RegenerateReport;
}

async function chownTree(path: string, id: number): Promise<void> {
  await chown(path, id, id);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) await chownTree(full, id);
    else if (!entry.isSymbolicLink()) await chown(full, id, id);
  }
}

test('missing directory, unreadable layer, placeholder typo, symlink out, no write permission: one clear error each, the others done', async (t) => {
  const tree = await makeTree(t, {
    projects: ['meta', 'good', 'gone', 'unreadable', 'typo', 'linked', 'readonly'],
    specific: {
      unreadable: { 'secret-sauce.md': 'Only for us.\n' },
      typo: { 'notes.md': 'Our port range is {{ports.rnage}}.\nAnd {{project.nme}}.\n' },
    },
    claude: { readonly: '# Read only\n' },
  });
  // The parent of the test's temp folders must be reachable by nobody.
  await chmod(tree.base, 0o755);
  await rm(tree.dir('gone'), { recursive: true });
  await chmod(join(tree.dir('unreadable'), '.claude-specific', 'secret-sauce.md'), 0o000);
  await mkdir(join(tree.base, 'elsewhere'));
  await writeFile(join(tree.base, 'elsewhere', 'CLAUDE.md'), 'not yours\n');
  await symlink(join(tree.base, 'elsewhere', 'CLAUDE.md'), join(tree.dir('linked'), 'CLAUDE.md'));
  await chmod(tree.dir('readonly'), 0o555);

  const report = await regenerateUnprivileged(tree);

  assert.equal(reasonOf(report, 'meta'), 'updated');
  assert.equal(reasonOf(report, 'good'), 'updated');
  assert.equal(reasonOf(report, 'gone'), `failed: project directory ${tree.dir('gone')} does not exist`);
  assert.equal(
    reasonOf(report, 'unreadable'),
    `failed: layer files could not be used: cannot read ${join(tree.dir('unreadable'), '.claude-specific', 'secret-sauce.md')}: permission denied (EACCES)`,
  );
  assert.match(reasonOf(report, 'typo'), /^failed: unknown placeholders: \{\{ports\.rnage\}\} in project\/notes\.md line 1, \{\{project\.nme\}\} in project\/notes\.md line 2\. Known: \{\{project\.name\}\}/);
  assert.match(reasonOf(report, 'linked'), new RegExp(`^failed: ${escape(join(tree.dir('linked'), 'CLAUDE.md'))} leads to ${escape(join(tree.base, 'elsewhere', 'CLAUDE.md'))}, outside the project directory`));
  assert.equal(reasonOf(report, 'readonly'), `failed: cannot write ${join(tree.dir('readonly'), 'CLAUDE.md')}: permission denied (EACCES)`);
  assert.deepEqual(report.counts, { updated: 2, unchanged: 0, refused: 0, failed: 5 });
  assert.equal(await readFile(join(tree.base, 'elsewhere', 'CLAUDE.md'), 'utf8'), 'not yours\n');
  assert.equal(await readFile(join(tree.dir('readonly'), 'CLAUDE.md'), 'utf8'), '# Read only\n');
});

test('a broken core file fails every project with the same reason; a layer entry that is a folder is named', async (t) => {
  const tree = await makeTree(t);
  await mkdir(tree.corePath('30-folder.md'));
  const report = await regenerateInstructions(tree.ctx, tree.projects);
  assert.deepEqual(report.counts, { updated: 0, unchanged: 0, refused: 0, failed: 3 });
  for (const project of tree.projects) {
    assert.equal(reasonOf(report, project.name), `failed: layer files could not be used: cannot read ${tree.corePath('30-folder.md')}: it is a directory (EISDIR)`);
  }
});

test('no core layer at all says how to create it', async (t) => {
  const tree = await makeTree(t);
  await rm(join(tree.root, '.supervisor-core'), { recursive: true });
  const report = await regenerateInstructions(tree.ctx, tree.projects.slice(0, 1));
  assert.match(reasonOf(report, 'meta'), /the core layer .*\.supervisor-core does not exist; run `supervisor instructions init` \(init_instructions over MCP\)/);
});

test('a symlink inside the project is written through and stays a link; a dangling one is named', async (t) => {
  const tree = await makeTree(t);
  await mkdir(join(tree.dir('alpha'), 'docs'));
  await writeFile(join(tree.dir('alpha'), 'docs', 'agents.md'), '# Alpha docs\n');
  await symlink(join('docs', 'agents.md'), join(tree.dir('alpha'), 'CLAUDE.md'));
  await symlink(join(tree.base, 'nowhere.md'), join(tree.dir('beta'), 'CLAUDE.md'));

  const report = await regenerateInstructions(tree.ctx, tree.projects);

  assert.equal(reasonOf(report, 'alpha'), 'updated');
  assert.ok((await lstat(join(tree.dir('alpha'), 'CLAUDE.md'))).isSymbolicLink());
  assert.match(await readFile(join(tree.dir('alpha'), 'docs', 'agents.md'), 'utf8'), /supervisor-instructions:begin[\s\S]*# Alpha docs\n$/);
  assert.match(reasonOf(report, 'beta'), /^failed: .*beta\/CLAUDE\.md is a symlink to .*nowhere\.md, which does not exist/);
});

test('a .claude-specific folder linked out of the project is not adopted into', async (t) => {
  const tree = await makeTree(t);
  await regenerateInstructions(tree.ctx, tree.projects);
  await mkdir(join(tree.base, 'shared-layer'));
  await symlink(join(tree.base, 'shared-layer'), join(tree.dir('alpha'), '.claude-specific'));
  const file = join(tree.dir('alpha'), 'CLAUDE.md');
  await writeFile(file, (await readFile(file, 'utf8')).replace('## Secrets', 'An edit.\n\n## Secrets'));

  const report = await regenerateInstructions(tree.ctx, tree.projects, { onHandEdit: 'adopt' });

  assert.match(reasonOf(report, 'alpha'), /^failed: layer files could not be used: .*\.claude-specific leads to .*shared-layer.*, outside the project directory/);
  assert.deepEqual(await readdir(join(tree.base, 'shared-layer')), []);
});

test("a project layer file linked out of the project (to the supervisor's master key) is not read: a problem names it, and its text goes nowhere", async (t) => {
  const tree = await makeTree(t, { specific: { alpha: { 'own.md': 'Our own rule.\n' } } });
  await writeFile(join(tree.base, 'master.key'), 'KEY-MATERIAL-NOT-FOR-AGENTS\n');
  await symlink(join(tree.base, 'master.key'), join(tree.dir('alpha'), '.claude-specific', 'zz-key.md'));
  // A link that stays inside the project is read as before.
  await mkdir(join(tree.dir('alpha'), 'docs'));
  await writeFile(join(tree.dir('alpha'), 'docs', 'notes.md'), 'Linked notes.\n');
  await symlink(join('..', 'docs', 'notes.md'), join(tree.dir('alpha'), '.claude-specific', 'notes.md'));

  const listed = await listLayers(tree.root, tree.projects[1]!);
  assert.deepEqual(listed.files.filter((f) => f.layer === 'project').map((f) => f.name), ['notes.md', 'own.md']);
  assert.equal(listed.problems.length, 1);
  assert.match(listed.problems[0]!, /zz-key\.md leads to .*master\.key, outside the project directory/);

  const report = await regenerateInstructions(tree.ctx, tree.projects);
  assert.match(reasonOf(report, 'alpha'), /^failed: layer files could not be used: .*zz-key\.md leads to .*master\.key/);
  assert.doesNotMatch(JSON.stringify(report), /KEY-MATERIAL/);
  assert.doesNotMatch(await readFile(join(tree.dir('alpha'), 'CLAUDE.md'), 'utf8').catch(() => ''), /KEY-MATERIAL/);
  // A folder linked out of the project: neither its files nor their names are read.
  await rm(join(tree.dir('beta'), '.claude-specific'), { recursive: true, force: true });
  await symlink(tree.base, join(tree.dir('beta'), '.claude-specific'));
  const beta = await listLayers(tree.root, tree.projects[2]!);
  assert.deepEqual([beta.files.filter((f) => f.layer === 'project'), beta.problems.length], [[], 1]);
  assert.doesNotMatch(beta.problems[0]!, /master\.key/);
});

test('two projects sharing one directory both fail instead of overwriting each other', async (t) => {
  const tree = await makeTree(t);
  const twin = { ...tree.projects[1]!, name: 'alpha-twin' };
  tree.facts.set('alpha-twin', tree.facts.get('alpha')!);
  const report = await regenerateInstructions(tree.ctx, [...tree.projects, twin]);
  assert.match(reasonOf(report, 'alpha'), /its directory .* is also the directory of alpha-twin/);
  assert.match(reasonOf(report, 'alpha-twin'), /is also the directory of alpha/);
  assert.equal(reasonOf(report, 'beta'), 'updated');
});

test('a directory reached through a symlink is the same directory: both projects fail, and the reason names the link', async (t) => {
  const tree = await makeTree(t);
  const linked = join(tree.base, 'alpha-link');
  await symlink(tree.dir('alpha'), linked);
  const twin = { ...tree.projects[1]!, name: 'alpha-twin', directory: linked };
  tree.facts.set('alpha-twin', tree.facts.get('alpha')!);
  const report = await regenerateInstructions(tree.ctx, [...tree.projects, twin]);
  assert.match(reasonOf(report, 'alpha'), new RegExp(`is also the directory of alpha-twin \\(the same folder, reached through a link: ${escape(linked)}\\)`));
  assert.match(reasonOf(report, 'alpha-twin'), /is also the directory of alpha /);
  assert.equal(reasonOf(report, 'beta'), 'updated');
  assert.equal(await readFile(join(tree.dir('alpha'), 'CLAUDE.md'), 'utf8').catch(() => 'none'), 'none', 'neither wrote the shared CLAUDE.md');
});

test('a call naming one project still sees the other projects sharing its directory: it fails, and their file is not written', async (t) => {
  const tree = await makeTree(t);
  const linked = join(tree.base, 'alpha-link');
  await symlink(tree.dir('alpha'), linked);
  const twin = { ...tree.projects[1]!, name: 'alpha-twin' };
  const viaLink = { ...tree.projects[1]!, name: 'alpha-link', directory: linked };
  for (const name of ['alpha-twin', 'alpha-link']) tree.facts.set(name, tree.facts.get('alpha')!);
  const among = [...tree.projects, twin, viaLink];
  const report = await regenerateInstructions(tree.ctx, [viaLink], { among });
  assert.equal(report.results.length, 1);
  // The folder reached through the link is named once, though two projects sit there.
  assert.equal(reasonOf(report, 'alpha-link'), `failed: its directory ${linked} is also the directory of alpha, alpha-twin (the same folder, reached through a link: ${tree.dir('alpha')}); give each project its own`);
  assert.equal(await readFile(join(tree.dir('alpha'), 'CLAUDE.md'), 'utf8').catch(() => 'none'), 'none', 'alpha-link did not write the shared CLAUDE.md');
});

test('a failing facts lookup fails only that project', async (t) => {
  const tree = await makeTree(t);
  const facts = tree.ctx.facts;
  const report = await regenerateInstructions(
    { ...tree.ctx, facts: async (p) => (p.name === 'beta' ? Promise.reject(new Error('database unavailable')) : facts(p)) },
    tree.projects,
  );
  assert.equal(reasonOf(report, 'beta'), 'failed: database unavailable');
  assert.equal(reasonOf(report, 'alpha'), 'updated');
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test('a CLAUDE.md that is not UTF-8 is left alone: its bytes could not be kept', async (t) => {
  const tree = await makeTree(t);
  const latin1 = Buffer.from('# Caf\xe9\n', 'latin1');
  await writeFile(join(tree.dir('alpha'), 'CLAUDE.md'), latin1);
  const report = await regenerateInstructions(tree.ctx, tree.projects);
  assert.match(reasonOf(report, 'alpha'), /alpha\/CLAUDE\.md is not UTF-8 text; convert it to UTF-8/);
  assert.ok((await readFile(join(tree.dir('alpha'), 'CLAUDE.md'))).equals(latin1));
});
