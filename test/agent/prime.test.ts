// Prime gathers the same context from the same repository, within bounds.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm, symlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { Git } from '../../src/agent/git.js';
import { prime, renderContext } from '../../src/agent/prime.js';
import { gitRepo } from './fixture.js';

describe('prime', () => {
  test('summarises files, README, scripts, commits and related knowledge', async (t) => {
    const dir = await gitRepo(t, {
      'README.md': '# Greeter\n\nSays hello.\n',
      'package.json': JSON.stringify({ scripts: { test: 'node --test', build: 'tsc' } }),
      'src/greet.js': 'export const greet = () => "hi";\n',
      'src/util/x.js': '\n',
    });
    const queries: string[] = [];
    const ctx = await prime({
      git: await Git.open(dir),
      feature: 'Greet by name',
      knowledge: async (q) => {
        queries.push(q);
        return ['greet() lives in src/greet.js'];
      },
    });

    assert.deepEqual(queries, ['Greet by name']);
    assert.equal(ctx.fileCount, 4);
    assert.equal(ctx.tree, '. (2 files)\nsrc/ (2 files)\n\nREADME.md\npackage.json\nsrc/greet.js\nsrc/util/x.js');
    assert.deepEqual(ctx.readme, { path: 'README.md', text: '# Greeter\n\nSays hello.\n' });
    assert.deepEqual(ctx.scripts, { test: 'node --test', build: 'tsc' });
    assert.deepEqual(
      ctx.recentCommits.map((c) => c.subject),
      ['first'],
    );
    const text = renderContext(ctx);
    assert.match(text, /^## Files \(4 tracked\)\n\n\. \(2 files\)/);
    assert.match(text, /## README\.md \(start\)\n\n# Greeter/);
    assert.match(text, /## package\.json scripts\n\n- test: node --test\n- build: tsc/);
    assert.match(text, /## Recent commits\n\n- [0-9a-f]{10} first/);
    assert.match(text, /## Related knowledge from earlier work\n\n- greet\(\) lives in src\/greet\.js/);
  });

  test('is the same for the same repository', async (t) => {
    const dir = await gitRepo(t, { 'a.txt': 'a\n', 'README': 'plain readme\n' });
    const git = await Git.open(dir);
    assert.deepEqual(await prime({ git, feature: 'x' }), await prime({ git, feature: 'x' }));
  });

  test('bounds a large repository and a long README', async (t) => {
    const files: Record<string, string> = { 'README.md': 'r'.repeat(10_000) };
    for (let i = 0; i < 250; i++) files[`src/f${String(i).padStart(3, '0')}.js`] = '\n';
    const ctx = await prime({ git: await Git.open(await gitRepo(t, files)), feature: 'x' });
    assert.match(ctx.tree, /\n… and 51 more$/);
    assert.ok((ctx.readme?.text.length ?? 0) < 4_100);
    assert.deepEqual(ctx.knowledge, []);
    assert.doesNotMatch(renderContext(ctx), /package\.json scripts|Related knowledge/);
  });

  test("a README or package.json linked out of the repository (to the supervisor's master key) is not read into the context", async (t) => {
    const dir = await gitRepo(t, { 'src/greet.js': 'export const greet = () => "hi";\n' });
    const outside = join(dir, '..', `${basename(dir)}-master.key`);
    await writeFile(outside, 'KEY-MATERIAL-NOT-FOR-AGENTS\n');
    t.after(() => rm(outside, { force: true }));
    await symlink(outside, join(dir, 'README.md'));
    await symlink(outside, join(dir, 'package.json'));
    await promisify(execFile)('git', ['-C', dir, 'add', 'README.md', 'package.json']);
    await promisify(execFile)('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'links']);
    const ctx = await prime({ git: await Git.open(dir), feature: 'Greet by name', knowledge: async () => [] });
    assert.equal(ctx.fileCount, 3);
    assert.deepEqual([ctx.readme, ctx.scripts], [undefined, {}]);
    assert.doesNotMatch(renderContext(ctx), /KEY-MATERIAL/);
  });
});
