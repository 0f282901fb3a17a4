// Warnings ride along in the report; they never stop a regeneration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { regenerateInstructions, type RegenerateResult } from '../../src/instructions/regenerate.js';
import { lintLength, lintRepeats } from '../../src/instructions/lint.js';
import { join } from 'node:path';
import { makeTree } from './fixture.js';

const warningsOf = (result: RegenerateResult | undefined) => (result && result.status !== 'failed' ? result.warnings : []);

test('a generated file past ~200 lines is reported, and still written', async (t) => {
  const long = Array.from({ length: 190 }, (_, i) => `- rule ${i}`).join('\n');
  const tree = await makeTree(t, { claude: { alpha: `${'own line\n'.repeat(20)}` }, specific: { beta: { 'long.md': long } } });
  const report = await regenerateInstructions(tree.ctx, tree.projects);
  assert.deepEqual(report.counts, { updated: 3, unchanged: 0, refused: 0, failed: 0 });
  const beta = warningsOf(report.results.find((r) => r.project === 'beta'));
  assert.equal(beta.length, 1);
  assert.match(beta[0]!, new RegExp(`^${join(tree.dir('beta'), 'CLAUDE.md')} is 20\\d lines, over the ~200 Claude Code recommends`));
  assert.deepEqual(warningsOf(report.results.find((r) => r.project === 'alpha')), []);
});

test('a project layer repeating a core paragraph is reported with both files', async (t) => {
  const tree = await makeTree(t, {
    specific: { alpha: { 'copy.md': '## Mine\n\nRead  credentials with `get_secret`\nby exact path.\n' } },
    core: { 'a.md': 'Read credentials with `get_secret` by exact path.\n\n## Mine\n' },
  });
  const report = await regenerateInstructions(tree.ctx, tree.projects);
  assert.deepEqual(warningsOf(report.results.find((r) => r.project === 'alpha')), [
    'project/copy.md repeats a paragraph of core/a.md: "Read credentials with `get_secret` by exact path."',
  ]);
});

test('an empty layer file (emptied by hand, or by an earlier version) is reported in every project it reaches, and regeneration goes on', async (t) => {
  const tree = await makeTree(t, { core: { '60-empty.md': '\n' } });
  const report = await regenerateInstructions(tree.ctx, tree.projects);
  assert.equal(report.counts.failed, 0);
  for (const project of ['alpha', 'beta']) {
    assert.deepEqual(warningsOf(report.results.find((r) => r.project === project)), ['core/60-empty.md is empty, so it adds nothing: write its text again if it was emptied by mistake, else delete the file'], project);
  }
});

test('lint helpers: 200 lines is fine, short paragraphs may repeat, a file may repeat itself', () => {
  assert.deepEqual(lintLength('x', 'line\n'.repeat(200)), []);
  assert.equal(lintLength('x', 'line\n'.repeat(201)).length, 1);
  assert.deepEqual(lintRepeats([{ source: 'core/a.md', text: 'Ask first.' }, { source: 'project/b.md', text: 'Ask first.' }]), []);
  const long = 'A paragraph long enough to count as an instruction.';
  assert.deepEqual(lintRepeats([{ source: 'core/a.md', text: `${long}\n\n${long}` }]), []);
});
