// For projects that also use other agents: the instructions go into AGENTS.md once, and
// CLAUDE.md's block only imports it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkInstructions } from '../../src/instructions/check.js';
import { regenerateInstructions } from '../../src/instructions/regenerate.js';
import { count, inside, makeTree, outside } from './fixture.js';

test('AGENTS.md holds the text; CLAUDE.md imports it instead of repeating it', async (t) => {
  const tree = await makeTree(t, { agentsMd: ['alpha'], claude: { alpha: '# Alpha for Claude\n' } });
  await writeFile(join(tree.dir('alpha'), 'AGENTS.md'), '# Alpha for every agent\n');

  const report = await regenerateInstructions(tree.ctx, tree.projects);

  const alpha = report.results.find((r) => r.project === 'alpha')!;
  assert.deepEqual(alpha.status === 'updated' ? alpha.files : [], [join(tree.dir('alpha'), 'AGENTS.md'), join(tree.dir('alpha'), 'CLAUDE.md')]);
  const agents = await readFile(join(tree.dir('alpha'), 'AGENTS.md'), 'utf8');
  const claude = await tree.claude('alpha');
  assert.match(inside(agents), /Never hard-code a port/);
  assert.equal(outside(agents), '\n\n# Alpha for every agent\n');
  // The import is on a line of its own, outside any code span, so Claude Code expands it.
  assert.match(inside(claude), /\n\n@AGENTS\.md\n\n$/);
  assert.equal(count(claude, 'hard-code'), 0);
  assert.equal(outside(claude), '\n\n# Alpha for Claude\n');
  // Projects without the option get no AGENTS.md.
  await assert.rejects(stat(join(tree.dir('beta'), 'AGENTS.md')), { code: 'ENOENT' });
  assert.equal((await checkInstructions(tree.ctx, tree.projects)).ok, true);
});

test('a core change rewrites AGENTS.md and leaves the importing CLAUDE.md alone', async (t) => {
  const tree = await makeTree(t, { agentsMd: ['alpha'] });
  await regenerateInstructions(tree.ctx, tree.projects);
  const claudeFile = join(tree.dir('alpha'), 'CLAUDE.md');
  const past = new Date('2020-01-01T00:00:00Z');
  await utimes(claudeFile, past, past);
  await writeFile(tree.corePath('10-ports.md'), 'Ports: get_port.\n');

  const report = await regenerateInstructions(tree.ctx, tree.projects);

  const alpha = report.results.find((r) => r.project === 'alpha')!;
  assert.deepEqual(alpha.status === 'updated' ? alpha.files : [], [join(tree.dir('alpha'), 'AGENTS.md')]);
  assert.equal((await stat(claudeFile)).mtimeMs, past.getTime());
  assert.match(await readFile(join(tree.dir('alpha'), 'AGENTS.md'), 'utf8'), /Ports: get_port\./);
});
