// Layer files: read in a fixed order, listed per project, and written only where they belong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listLayers, readLayer, writeLayerFile } from '../../src/instructions/layers.js';
import { makeTree, writeFiles } from './fixture.js';
import { isError } from '../helpers/errors.js';


test('a layer is its .md files in code-unit name order; dot files and other files are skipped', async (t) => {
  const tree = await makeTree(t);
  const dir = join(tree.base, 'layer');
  await writeFiles(dir, { 'b.md': 'b\r\n', 'B.md': '\uFEFFB\n', '10-x.md': '', '9-x.md': '', '.draft.md': '', 'notes.txt': '', 'bad name.md': '' });
  const read = await readLayer('project', dir);
  assert.deepEqual(
    read.files.map((f) => [f.source, f.text]),
    [
      ['project/10-x.md', ''],
      ['project/9-x.md', ''],
      ['project/B.md', 'B\n'],
      ['project/b.md', 'b\n'],
    ],
  );
  assert.deepEqual(read.problems, [`${join(dir, 'bad name.md')}: a layer file name is letters, digits, ".", "_" and "-", ending in .md (e.g. 10-ports.md)`]);
  assert.deepEqual(await readLayer('meta', join(tree.base, 'absent')), { files: [], problems: [] });
});

test('listLayers: shared layers without a project; core, meta (for meta only) and the project layer with one', async (t) => {
  const tree = await makeTree(t, { specific: { alpha: { 'own.md': 'one\ntwo\n' } } });
  const names = (files: Array<{ layer: string; name: string }>) => files.map((f) => `${f.layer}/${f.name}`);
  assert.deepEqual(names((await listLayers(tree.root)).files), ['core/10-ports.md', 'core/20-secrets.md', 'meta/00-meta.md']);
  const alpha = await listLayers(tree.root, tree.projects[1]!);
  assert.deepEqual(names(alpha.files), ['core/10-ports.md', 'core/20-secrets.md', 'project/own.md']);
  assert.deepEqual(alpha.files.at(-1), { layer: 'project', name: 'own.md', path: join(tree.dir('alpha'), '.claude-specific', 'own.md'), lines: 2, bytes: 8 });
  assert.deepEqual(names((await listLayers(tree.root, tree.projects[0]!)).files), ['core/10-ports.md', 'core/20-secrets.md', 'meta/00-meta.md']);
});

test('a layer file that is not UTF-8 is a problem, shared or in the project, not text with U+FFFD in it', async (t) => {
  const tree = await makeTree(t);
  const bad = Buffer.from('## bad \xff\xfe here\n', 'latin1');
  const core = join(tree.root, '.supervisor-core', '80-bad.md');
  const own = join(tree.dir('alpha'), '.claude-specific', '80-bad.md');
  await mkdir(join(tree.dir('alpha'), '.claude-specific'), { recursive: true });
  for (const path of [core, own]) await writeFile(path, bad);
  const alpha = await listLayers(tree.root, tree.projects[1]!);
  assert.ok(!alpha.files.some((f) => f.name === '80-bad.md'), 'neither file is used');
  assert.deepEqual(alpha.problems, [`${core} is not UTF-8 text; convert it to UTF-8`, `${own} is not UTF-8 text; convert it to UTF-8`]);
});

test('writeLayerFile creates, replaces (keeping the mode) and leaves an identical file alone', async (t) => {
  const tree = await makeTree(t);
  const alpha = tree.projects[1]!;
  const path = join(tree.dir('alpha'), '.claude-specific', 'own.md');
  assert.deepEqual(await writeLayerFile({ root: tree.root, layer: 'project', name: 'own.md', text: 'v1\n', project: alpha }), { path, status: 'created' });
  await chmod(path, 0o600);
  assert.deepEqual(await writeLayerFile({ root: tree.root, layer: 'project', name: 'own.md', text: 'v2\n', project: alpha }), { path, status: 'updated' });
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.deepEqual(await writeLayerFile({ root: tree.root, layer: 'project', name: 'own.md', text: 'v2\n', project: alpha }), { path, status: 'unchanged' });
  const core = await writeLayerFile({ root: tree.root, layer: 'core', name: '30-new.md', text: 'For {{project.name}}.\n' });
  assert.deepEqual(core, { path: tree.corePath('30-new.md'), status: 'created' });
  assert.equal(await readFile(tree.corePath('30-new.md'), 'utf8'), 'For {{project.name}}.\n');
});

test('writeLayerFile refuses names that leave the folder or are not .md, unknown placeholders and huge texts', async (t) => {
  const tree = await makeTree(t);
  for (const name of ['../escape.md', 'a/b.md', 'notes.txt', '.hidden.md', '', 'x.md/']) {
    await assert.rejects(writeLayerFile({ root: tree.root, layer: 'core', name, text: 'x' }), isError('invalid_input', /is not a layer file name/), name);
  }
  await assert.rejects(
    writeLayerFile({ root: tree.root, layer: 'core', name: 'x.md', text: 'a\n{{ports.rnage}}' }),
    isError('invalid_input', /^x\.md uses unknown placeholders: \{\{ports\.rnage\}\} on line 2\. Known:/),
  );
  await assert.rejects(writeLayerFile({ root: tree.root, layer: 'core', name: 'x.md', text: 'x'.repeat(70_000) }), (err: unknown) => {
    assert.ok(isError('too_large', /over 64 KiB/)(err));
    assert.deepEqual((err as { details: unknown }).details, { field: 'text' });
    return true;
  });
  await assert.rejects(writeLayerFile({ root: tree.root, layer: 'project', name: 'x.md', text: 'x' }), isError('invalid_input', /needs a project/));
});

test('writeLayerFile does not follow a project layer linked out of the project', async (t) => {
  const tree = await makeTree(t);
  await mkdir(join(tree.base, 'elsewhere'));
  await symlink(join(tree.base, 'elsewhere'), join(tree.dir('alpha'), '.claude-specific'));
  await assert.rejects(
    writeLayerFile({ root: tree.root, layer: 'project', name: 'x.md', text: 'x', project: tree.projects[1]! }),
    isError('forbidden', /\.claude-specific\/x\.md leads to .*elsewhere\/x\.md, outside the project directory/),
  );
  assert.deepEqual(await readdir(join(tree.base, 'elsewhere')), []);
});
