// The markers of the generated block are the supervisor's: a layer that holds one on a line of
// its own would end the block early in every CLAUDE.md built from it, and the rest of the layer
// would land in (and stay in) the project's own text. Markers quoted in a project's own text are
// told apart from a block whose hash was removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeLayerFile } from '../../src/instructions/layers.js';
import { regenerateInstructions, type RegenerateResult } from '../../src/instructions/regenerate.js';
import { isError } from '../helpers/errors.js';
import { makeTree } from './fixture.js';

const QUOTING = 'Docs: the block ends with\n<!-- supervisor-instructions:end -->\nand that is all.\n';

test('a layer with a marker line is refused when written, naming the line; in backticks it is fine', async (t) => {
  const tree = await makeTree(t);
  await assert.rejects(
    writeLayerFile({ root: tree.root, layer: 'core', name: '50-markers.md', text: QUOTING }),
    isError('invalid_input', /^50-markers\.md has a line of its own that is a marker of the generated block .* on line 2: .*wrap the marker in backticks/),
  );
  await writeLayerFile({ root: tree.root, layer: 'core', name: '50-markers.md', text: 'Docs: the block ends with `<!-- supervisor-instructions:end -->`.\n' });
  const report = await regenerateInstructions(tree.ctx, tree.projects);
  assert.ok(report.results.every((r) => r.status === 'updated'), JSON.stringify(report.results));
  assert.match(await tree.claude('alpha'), /ends with `<!-- supervisor-instructions:end -->`\./);
  // Regenerated again: still one block, nothing to do.
  assert.ok((await regenerateInstructions(tree.ctx, tree.projects)).results.every((r) => r.status === 'unchanged'));
});

test('a marker line put into a layer file by hand fails its projects, naming the file and line; their CLAUDE.md is untouched', async (t) => {
  const tree = await makeTree(t, { claude: { alpha: '# Alpha\n\nOur own notes.\n' }, specific: { alpha: { 'notes.md': QUOTING } } });
  const report = await regenerateInstructions(tree.ctx, tree.projects);
  const alpha = report.results.find((r) => r.project === 'alpha') as RegenerateResult;
  assert.equal(alpha.status, 'failed');
  assert.match(alpha.status === 'failed' ? alpha.reason : '', /notes\.md has a line of its own that is a marker of the generated block .* on line 2/);
  assert.equal(await tree.claude('alpha'), '# Alpha\n\nOur own notes.\n');
  assert.ok(report.results.filter((r) => r.project !== 'alpha').every((r) => r.status === 'updated'));
});

test('markers quoted in the project\'s own text (no hash of ours) are said to be that, not a hand edit', async (t) => {
  const quoted = '# A\n\n```\n<!-- supervisor-instructions:begin sha256=abc sources=x -->\n...\n<!-- supervisor-instructions:end -->\n```\n';
  const tree = await makeTree(t, { claude: { alpha: quoted } });
  const report = await regenerateInstructions(tree.ctx, tree.projects);
  const alpha = report.results.find((r) => r.project === 'alpha') as RegenerateResult;
  assert.equal(alpha.status, 'refused');
  assert.match(
    alpha.status === 'refused' ? alpha.reason : '',
    /CLAUDE\.md has block markers \(markers on lines 4 and 6\) without the sha256= the supervisor writes .* If they are an example, put other text on their lines/,
  );
  assert.equal(await readFile(join(tree.dir('alpha'), 'CLAUDE.md'), 'utf8'), quoted);
});
