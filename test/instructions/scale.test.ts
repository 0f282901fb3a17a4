// The seed's scale: 60 projects regenerated in one call, one line of report each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { regenerateInstructions } from '../../src/instructions/regenerate.js';
import { inside, makeTree, outside } from './fixture.js';

const PROJECTS = ['meta', ...Array.from({ length: 59 }, (_, i) => `project-${String(i + 1).padStart(2, '0')}`)];

test('60 projects in one call: a per-project report, every block updated, every own text kept', async (t) => {
  const own = Object.fromEntries(PROJECTS.map((name) => [name, `# ${name}\n\nNotes only ${name} has.\n`]));
  const tree = await makeTree(t, { projects: PROJECTS, claude: own });
  await regenerateInstructions(tree.ctx, tree.projects);
  await writeFile(tree.corePath('30-new.md'), 'A rule every project gets at once.\n');

  const report = await regenerateInstructions(tree.ctx, tree.projects);

  assert.deepEqual(report.counts, { updated: 60, unchanged: 0, refused: 0, failed: 0 });
  assert.deepEqual(
    report.results.map((r) => r.project),
    PROJECTS,
  );
  for (const name of PROJECTS) {
    const text = await tree.claude(name);
    assert.match(inside(text), /A rule every project gets at once\./, name);
    assert.match(inside(text), new RegExp(`project/${name}/database_url`), name);
    assert.equal(outside(text), `\n\n${own[name]}`, name);
  }
  const again = await regenerateInstructions(tree.ctx, tree.projects);
  assert.deepEqual(again.counts, { updated: 0, unchanged: 60, refused: 0, failed: 0 });
});
