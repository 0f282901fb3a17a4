// Instruction regeneration figures (printed, never asserted): 60 projects (the seed's scale),
// each with its own CLAUDE.md text, the starter layers plus a project layer file each, facts
// injected as the database would give them. Wall time per whole-fleet call.
import { performance } from 'node:perf_hooks';
import { writeFile } from 'node:fs/promises';
import { checkInstructions, diffInstructions } from '../src/instructions/check.js';
import { regenerateInstructions } from '../src/instructions/regenerate.js';
import { STARTER_FILES } from '../src/instructions/starter.js';
import { makeTree } from '../test/instructions/fixture.js';

const PROJECTS = 60;
const ROUNDS = 5;

export async function benchInstructions(): Promise<void> {
  const cleanups: Array<() => Promise<void>> = [];
  try {
    const names = ['meta', ...Array.from({ length: PROJECTS - 1 }, (_, i) => `project-${i + 1}`)];
    const layer = (layer: 'core' | 'meta') => Object.fromEntries(STARTER_FILES.filter((f) => f.layer === layer).map((f) => [f.name, f.text]));
    const tree = await makeTree(
      { after: (fn) => cleanups.push(fn) },
      {
        projects: names,
        core: layer('core'),
        meta: layer('meta'),
        claude: Object.fromEntries(names.map((n) => [n, `# ${n}\n\n${'Project notes.\n'.repeat(30)}`])),
        specific: Object.fromEntries(names.map((n) => [n, { 'own.md': `## ${n}\n\nBuild with npm run build.\n` }])),
      },
    );
    const time = async (label: string, fn: () => Promise<unknown>) => {
      const samples: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const start = performance.now();
        await fn();
        samples.push(performance.now() - start);
      }
      samples.sort((a, b) => a - b);
      console.log(`  ${label.padEnd(44)} median ${samples[Math.floor(ROUNDS / 2)]!.toFixed(1).padStart(7)} ms   min ${samples[0]!.toFixed(1).padStart(7)} ms`);
    };
    let generation = 0;
    await time(`regenerate ${PROJECTS} projects, core changed`, async () => {
      await writeFile(tree.corePath('90-bench.md'), `Generation ${++generation}.\n`);
      await regenerateInstructions(tree.ctx, tree.projects);
    });
    await time(`regenerate ${PROJECTS} projects, nothing changed`, () => regenerateInstructions(tree.ctx, tree.projects));
    await time(`check ${PROJECTS} projects`, () => checkInstructions(tree.ctx, tree.projects));
    await writeFile(tree.corePath('90-bench.md'), 'Changed for the diff.\n');
    await time(`diff ${PROJECTS} projects, core changed`, () => diffInstructions(tree.ctx, tree.projects));
    // One project whose folder holds 50,000 secrets: {{secrets.paths}} sums the folder up in one line.
    const many = Array.from({ length: 50_000 }, (_, i) => `project/meta/bulk/key_${i}`);
    const facts = tree.facts.get('meta')!;
    tree.facts.set('meta', { ...facts, secretPaths: many });
    await time('check meta with 50,000 secrets in one folder', () => checkInstructions(tree.ctx, [tree.projects[0]!]));
    tree.facts.set('meta', facts);
  } finally {
    for (const cleanup of cleanups) await cleanup();
  }
}
