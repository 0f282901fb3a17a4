// check and diff read and compare; they never write. A changed port or secret makes exactly
// the affected projects stale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { checkInstructions, diffInstructions } from '../../src/instructions/check.js';
import { regenerateInstructions } from '../../src/instructions/regenerate.js';
import { makeTree } from './fixture.js';

const states = (report: Awaited<ReturnType<typeof checkInstructions>>) => Object.fromEntries(report.results.map((r) => [r.project, r.state]));

test('everything current after a regeneration; before it, every block is missing', async (t) => {
  const tree = await makeTree(t);
  const before = await checkInstructions(tree.ctx, tree.projects);
  assert.equal(before.ok, false);
  assert.deepEqual(states(before), { meta: 'missing', alpha: 'missing', beta: 'missing' });
  // Missing is the block: a file there without one is said apart from no file at all.
  await writeFile(join(tree.dir('alpha'), 'CLAUDE.md'), '# Alpha, by hand\n');
  const files = Object.fromEntries((await checkInstructions(tree.ctx, tree.projects)).results.map((r) => [r.project, r.files[0]?.reason]));
  assert.equal(files.alpha, "the file has no supervisor block yet (regenerating adds one on top, keeping the file's text)");
  assert.equal(files.beta, 'no such file yet');
  await regenerateInstructions(tree.ctx, tree.projects);
  const after = await checkInstructions(tree.ctx, tree.projects);
  assert.equal(after.ok, true);
  assert.deepEqual(states(after), { meta: 'current', alpha: 'current', beta: 'current' });
  assert.deepEqual(after.results[1]!.files, [{ path: join(tree.dir('alpha'), 'CLAUDE.md'), state: 'current' }]);
});

test('a port or secret change makes only the affected project stale; a hand edit is reported as such', async (t) => {
  const tree = await makeTree(t);
  await regenerateInstructions(tree.ctx, tree.projects);
  const alpha = tree.facts.get('alpha')!;
  tree.facts.set('alpha', { ...alpha, portRange: { start: 5000, end: 5099 } });
  tree.facts.set('beta', { ...tree.facts.get('beta')!, secretPaths: ['project/beta/database_url', 'project/beta/new_key'] });
  const metaFile = join(tree.dir('meta'), 'CLAUDE.md');
  await writeFile(metaFile, (await readFile(metaFile, 'utf8')).replace('## Secrets', '## Secrets (edited)'));

  const report = await checkInstructions(tree.ctx, tree.projects);

  assert.equal(report.ok, false);
  assert.deepEqual(states(report), { meta: 'hand-edited', alpha: 'stale', beta: 'stale' });
  const regenerated = await regenerateInstructions(tree.ctx, tree.projects);
  assert.deepEqual(regenerated.counts, { updated: 2, unchanged: 0, refused: 1, failed: 0 });
  assert.match(await readFile(join(tree.dir('alpha'), 'CLAUDE.md'), 'utf8'), /Range: 5000-5099/);
});

test('a stale block says the first line it would lose and gain, or that it loses none', async (t) => {
  const tree = await makeTree(t, { projects: ['alpha'] });
  await regenerateInstructions(tree.ctx, tree.projects);
  await writeFile(tree.corePath('30-new.md'), 'A new core rule.\n');
  const reason = (await checkInstructions(tree.ctx, tree.projects)).results[0]!.files[0]!.reason!;
  assert.match(reason, /: the layers or facts changed since it was written \(2 lines; no line lost, first line gained 'A new core rule\.'\); /);
});

test('a project that cannot be checked is failed, with the reason, and the others are checked', async (t) => {
  const tree = await makeTree(t);
  const report = await checkInstructions(tree.ctx, [...tree.projects, { name: 'ghost', directory: join(tree.base, 'ghost'), isMeta: false }]);
  assert.deepEqual(report.results.at(-1), { project: 'ghost', state: 'failed', files: [], reason: `project directory ${join(tree.base, 'ghost')} does not exist`, warnings: [] });
  assert.equal(report.results.length, 4);
});

test('diff previews exactly what regeneration writes (patch -p1 applies it) and writes nothing', async (t) => {
  const tree = await makeTree(t, { claude: { alpha: '# Alpha\n\nOwn.\n' } });
  await regenerateInstructions(tree.ctx, tree.projects);
  await writeFile(tree.corePath('10-ports.md'), '## Ports\n\nAsk get_port; ports change.\n');
  const file = join(tree.dir('alpha'), 'CLAUDE.md');
  const before = await readFile(file, 'utf8');

  const { results } = await diffInstructions(tree.ctx, tree.projects);

  const alpha = results.find((r) => r.project === 'alpha')!;
  assert.match(alpha.diff, /^--- a\/CLAUDE\.md\n\+\+\+ b\/CLAUDE\.md\n@@ /);
  assert.match(alpha.diff, /\n-Never hard-code a port: ask `get_port` for project alpha\.\n-\n-Range: 4000-4099\n\+Ask get_port; ports change\.\n/);
  assert.equal(await readFile(file, 'utf8'), before);
  // Applied to a copy, the diff gives what regenerate writes.
  const copy = join(tree.base, 'copy');
  await cp(tree.dir('alpha'), copy, { recursive: true });
  const patched = await applyPatch(copy, alpha.diff);
  await regenerateInstructions(tree.ctx, tree.projects);
  assert.equal(patched, await readFile(file, 'utf8'));
});

test('diff of a hand-edited block says regeneration would refuse, and shows what overwrite would do', async (t) => {
  const tree = await makeTree(t);
  await regenerateInstructions(tree.ctx, tree.projects);
  const file = join(tree.dir('beta'), 'CLAUDE.md');
  await writeFile(file, (await readFile(file, 'utf8')).replace('## Secrets', '## Secrets!'));
  const { results } = await diffInstructions(tree.ctx, tree.projects);
  const beta = results.find((r) => r.project === 'beta')!;
  assert.match(beta.refused ?? '', /beta\/CLAUDE\.md was edited by hand inside the managed block/);
  assert.match(beta.diff, /\n-## Secrets!\n\+## Secrets\n/);
  assert.deepEqual(results.find((r) => r.project === 'alpha'), { project: 'alpha', diff: '' });
});

async function applyPatch(dir: string, diff: string): Promise<string> {
  const patchFile = join(dir, '..', 'change.diff');
  await writeFile(patchFile, diff);
  await promisify(execFile)('patch', ['-p1', '--quiet', '-d', dir, '-i', patchFile]);
  return readFile(join(dir, 'CLAUDE.md'), 'utf8');
}
