// For projects that also use other agents: the instructions go into AGENTS.md once, and
// CLAUDE.md's block only imports it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkInstructions } from '../../src/instructions/check.js';
import { regenerateInstructions } from '../../src/instructions/regenerate.js';
import type { InstructionProject } from '../../src/instructions/assemble.js';
import { count, inside, makeTree, outside, type Tree } from './fixture.js';

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

/** The tree's projects with alpha's choice set to `agentsMd`, or unrecorded when undefined. */
function withChoice(tree: Tree, agentsMd: boolean | undefined): InstructionProject[] {
  return tree.projects.map(({ agentsMd: _, ...p }) => (p.name === 'alpha' && agentsMd !== undefined ? { ...p, agentsMd } : p.name === 'alpha' ? p : { ...p, agentsMd: false }));
}

test('turned off: CLAUDE.md has the text again and AGENTS.md loses its block, keeping its own text; check calls it stale until then', async (t) => {
  const tree = await makeTree(t, { agentsMd: ['alpha'] });
  const agentsFile = join(tree.dir('alpha'), 'AGENTS.md');
  await writeFile(agentsFile, '# Alpha for every agent\r\n');
  await regenerateInstructions(tree.ctx, tree.projects);
  const off = withChoice(tree, false);

  const checked = await checkInstructions(tree.ctx, off);
  const alpha = checked.results.find((r) => r.project === 'alpha')!;
  assert.equal(alpha.state, 'stale');
  assert.match(alpha.files.find((f) => f.path === agentsFile)?.reason ?? '', /AGENTS\.md is turned off .* removes its block/);

  const report = await regenerateInstructions(tree.ctx, off);

  const row = report.results.find((r) => r.project === 'alpha')!;
  assert.deepEqual(row.status === 'updated' ? row.files : [], [join(tree.dir('alpha'), 'CLAUDE.md'), agentsFile]);
  assert.equal(await readFile(agentsFile, 'utf8'), '# Alpha for every agent\r\n');
  assert.match(inside(await tree.claude('alpha')), /Never hard-code a port/);
  assert.equal((await checkInstructions(tree.ctx, off)).ok, true);
});

test('turned off, an AGENTS.md holding only the block is deleted; one reached through a link is emptied', async (t) => {
  const tree = await makeTree(t, { agentsMd: ['alpha', 'beta'] });
  await mkdir(join(tree.dir('beta'), 'docs'));
  await writeFile(join(tree.dir('beta'), 'docs', 'agents.md'), '');
  await symlink(join('docs', 'agents.md'), join(tree.dir('beta'), 'AGENTS.md'));
  await regenerateInstructions(tree.ctx, tree.projects);

  await regenerateInstructions(tree.ctx, tree.projects.map((p) => ({ ...p, agentsMd: false })));

  await assert.rejects(stat(join(tree.dir('alpha'), 'AGENTS.md')), { code: 'ENOENT' });
  assert.equal(await readFile(join(tree.dir('beta'), 'AGENTS.md'), 'utf8'), '');
});

test("with AGENTS.md off, an AGENTS.md linking out of the checkout is the project's own: CLAUDE.md is written as ever", async (t) => {
  const tree = await makeTree(t);
  await writeFile(join(tree.base, 'elsewhere.md'), '# not ours\n');
  await symlink(join(tree.base, 'elsewhere.md'), join(tree.dir('beta'), 'AGENTS.md'));

  const beta = (await regenerateInstructions(tree.ctx, tree.projects)).results.find((r) => r.project === 'beta')!;

  assert.equal(beta.status, 'updated', JSON.stringify(beta));
  assert.match(inside(await readFile(join(tree.dir('beta'), 'CLAUDE.md'), 'utf8')), /## Secrets/);
  assert.equal(await readFile(join(tree.base, 'elsewhere.md'), 'utf8'), '# not ours\n');
});

test('turned off, a hand edit in the AGENTS.md block is refused like any other, and adopted on request', async (t) => {
  const tree = await makeTree(t, { agentsMd: ['alpha'] });
  await regenerateInstructions(tree.ctx, tree.projects);
  const agentsFile = join(tree.dir('alpha'), 'AGENTS.md');
  await writeFile(agentsFile, (await readFile(agentsFile, 'utf8')).replace('Never hard-code a port', 'Use port 9000 for the mock.\n\nNever hard-code a port'));
  const off = withChoice(tree, false);

  const refused = (await regenerateInstructions(tree.ctx, off)).results.find((r) => r.project === 'alpha')!;
  assert.equal(refused.status, 'refused');
  assert.match(refused.status === 'refused' ? refused.reason : '', /AGENTS\.md was edited by hand/);
  assert.match(await readFile(agentsFile, 'utf8'), /Use port 9000/);

  const adopted = (await regenerateInstructions(tree.ctx, off, { onHandEdit: 'adopt' })).results.find((r) => r.project === 'alpha')!;
  assert.equal(adopted.status, 'updated');
  await assert.rejects(stat(agentsFile), { code: 'ENOENT' });
  assert.match(inside(await tree.claude('alpha')), /Use port 9000 for the mock\./);
});

test('no choice recorded (a project added again): a block in its AGENTS.md keeps AGENTS.md on', async (t) => {
  const tree = await makeTree(t, { agentsMd: ['alpha'] });
  await regenerateInstructions(tree.ctx, tree.projects);
  await writeFile(tree.corePath('10-ports.md'), 'Ports: get_port.\n');
  const unrecorded = withChoice(tree, undefined);

  const report = await regenerateInstructions(tree.ctx, unrecorded);

  const alpha = report.results.find((r) => r.project === 'alpha')!;
  assert.deepEqual(alpha.status === 'updated' ? alpha.files : [], [join(tree.dir('alpha'), 'AGENTS.md')]);
  assert.match(inside(await tree.claude('alpha')), /^@AGENTS\.md$/m);
  // Without a block there, it stays off: an AGENTS.md of the project's own is not taken over.
  await writeFile(join(tree.dir('beta'), 'AGENTS.md'), '# Beta notes\n');
  await regenerateInstructions(tree.ctx, tree.projects.map(({ agentsMd: _, ...p }) => p));
  assert.equal(await readFile(join(tree.dir('beta'), 'AGENTS.md'), 'utf8'), '# Beta notes\n');
});
