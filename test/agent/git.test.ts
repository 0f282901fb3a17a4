// The loop's git steps on real temporary repositories.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Git, featureSlug } from '../../src/agent/git.js';
import { assertClean, changesToCheck, cleanUpCommands } from '../../src/agent/tree.js';
import type { SupervisorError } from '../../src/core/errors.js';
import { AUTHOR, git, gitRepo, tempDir, writeFiles } from './fixture.js';
import { isError } from '../helpers/errors.js';

const run = promisify(execFile);


describe('featureSlug', () => {
  test('keeps letters and digits, joins words with dashes, drops accents', () => {
    assert.equal(featureSlug('Add a /health endpoint!'), 'add-a-health-endpoint');
    assert.equal(featureSlug('  Crème brûlée   for v2.1 '), 'creme-brulee-for-v2-1');
  });

  test('cuts at a word boundary and never comes out empty', () => {
    assert.equal(featureSlug('Allow users to export every report as CSV and as PDF from the dashboard'), 'allow-users-to-export-every-report-as');
    assert.equal(featureSlug('!!!'), 'change');
    assert.equal(featureSlug('x'.repeat(60)), 'x'.repeat(40));
  });
});

describe('Git', () => {
  test('refuses a folder that is not a repository', async (t) => {
    const dir = await tempDir(t);
    await assert.rejects(Git.open(dir), isError('invalid_input', /is not inside a git repository.*run `git init` there first/));
  });

  test('a folder that does not exist is named as missing, not blamed on git', async (t) => {
    const dir = join(await tempDir(t), 'gone');
    await assert.rejects(Git.open(dir), isError('invalid_input', /gone is not a folder on this host; create it, or point the project at its checkout/));
    await writeFile(dir, 'a file\n');
    await assert.rejects(Git.open(dir), isError('invalid_input', /gone is not a folder on this host/));
  });

  test('refuses a folder inside a repository, not its top; a symlink to the top is the top', async (t) => {
    const dir = await gitRepo(t, { 'sub/a.txt': 'a\n' });
    await mkdir(join(dir, 'plain'));
    for (const inner of ['sub', 'plain']) {
      await assert.rejects(Git.open(join(dir, inner)), isError('invalid_input', /is not the top folder of its git repository but inside .*make the project's directory the repository's root .*or run `git init` in /));
    }
    const link = join(await tempDir(t), 'link');
    await symlink(dir, link);
    assert.equal((await Git.open(link)).root, await realpath(dir));
  });

  test('a dirty tree is refused, naming the files and the commands that commit, set aside or discard exactly those', async (t) => {
    const dir = await gitRepo(t, { 'a.txt': 'a\n', 'old name.txt': 'o\n' });
    await writeFile(join(dir, 'a.txt'), 'changed\n');
    await writeFiles(dir, { 'new/b.txt': 'b\n', 'CLAUDE.md': '# written by the supervisor\n' });
    const repo = await Git.open(dir);
    const refused = await assertClean(repo, 'then start the loop again').then(() => undefined, (err: SupervisorError) => err);
    assert.equal(refused?.code, 'conflict');
    assert.equal(
      refused?.message,
      `${repo.root} has uncommitted changes (a.txt, new/b.txt); a loop would commit them as its own. In ${repo.root}, ` +
        'commit them on main (git add -- a.txt new/b.txt && git commit -m "…"), ' +
        'set them aside (git stash push --include-untracked -- a.txt new/b.txt; git stash pop brings them back) ' +
        'or discard them (git restore --source=HEAD --staged --worktree -- a.txt && git clean -f -- new/b.txt); then start the loop again',
    );
    assert.deepEqual(refused?.details.files, ['a.txt', 'new/b.txt']);
    // The commands work as given: a path with a space is quoted.
    await git(dir, 'mv', 'old name.txt', 'new name.txt');
    const { discard } = cleanUpCommands(await changesToCheck(repo));
    assert.equal(discard, "git restore --source=HEAD --staged --worktree -- a.txt 'old name.txt' 'new name.txt' && git clean -f -- new/b.txt");
    await run('sh', ['-c', discard], { cwd: dir });
    assert.equal(await git(dir, 'status', '--porcelain'), '?? CLAUDE.md');

    // On a loop's branch, what is left is most likely a failed loop's work: discarding it comes first.
    await writeFile(join(dir, 'a.txt'), 'changed\n');
    await repo.createBranch('feature/greet', 'main');
    await assert.rejects(
      assertClean(repo, 'then start the loop again'),
      isError('conflict', /\(a\.txt\); they are on feature\/greet, the branch of an earlier PIV loop: its agent's changes left when it failed or was cancelled, its validation's output, or your own work\. In .*, discard them \(git restore --source=HEAD --staged --worktree -- a\.txt\), set them aside \(.*\) or commit them on feature\/greet \(git add -- a\.txt && git commit -m "…"\); then start the loop again$/),
    );
  });

  test('a clean tree passes', async (t) => {
    const repo = await Git.open(await gitRepo(t, { 'a.txt': 'a\n' }));
    await assertClean(repo, 'then go on');
  });

  test('creates a feature branch, with a free name when one is taken', async (t) => {
    const dir = await gitRepo(t, { 'a.txt': 'a\n' });
    await git(dir, 'branch', 'feature/greet');
    const repo = await Git.open(dir);
    const name = await repo.freeBranchName('feature/greet');
    assert.equal(name, 'feature/greet-2');
    await repo.createBranch(name, 'main');
    assert.equal(await repo.currentBranch(), 'feature/greet-2');
  });

  test('a branch that is taken is a conflict naming it and saying what to do: it exists already, or is checked out in another worktree', async (t) => {
    const dir = await gitRepo(t, { 'a.txt': 'a\n' });
    await git(dir, 'branch', 'feature/greet');
    const repo = await Git.open(dir);
    await assert.rejects(repo.createBranch('feature/greet', 'main'), isError('conflict', /cannot check out branch feature\/greet in .*already exists; rename the branch there is \(git branch -m feature\/greet feature\/greet-old\)/));
    const other = join(await tempDir(t), 'wt');
    await git(dir, 'worktree', 'add', '-q', other, 'feature/greet');
    await assert.rejects(
      repo.switchTo('feature/greet'),
      isError('conflict', new RegExp(`cannot check out branch feature/greet in .*already (checked out|used by worktree) at '${other}'.*in ${other}, switch to another branch \\(git -C ${other} switch --detach\\) or remove that worktree`)),
    );
  });

  test('reports a detached HEAD as no branch', async (t) => {
    const dir = await gitRepo(t, { 'a.txt': 'a\n' });
    await git(dir, 'checkout', '-q', '--detach');
    assert.equal(await (await Git.open(dir)).currentBranch(), undefined);
  });

  test('lists changes file by file, then stages only the files named and commits them', async (t) => {
    const dir = await gitRepo(t, { 'a.txt': 'a\n', 'gone.txt': 'x\n' });
    const repo = await Git.open(dir, AUTHOR);
    const base = await repo.sha();
    await writeFile(join(dir, 'a.txt'), 'changed\n');
    await rm(join(dir, 'gone.txt'));
    await writeFiles(dir, { 'src/new.js': 'new\n', 'dist/out.js': 'build output\n' });

    assert.deepEqual(
      (await repo.changes()).map((c) => c.path),
      ['a.txt', 'gone.txt', 'dist/out.js', 'src/new.js'],
    );
    await repo.stage(['a.txt', 'gone.txt', 'src/new.js']);
    const sha = await repo.commit('Greet people', ['a.txt', 'gone.txt', 'src/new.js']);

    assert.equal(sha, await repo.sha('HEAD'));
    assert.deepEqual(await repo.commitsSince(base), [{ sha, subject: 'Greet people' }]);
    assert.deepEqual(
      (await repo.changes()).map((c) => c.path),
      ['dist/out.js'],
    );
    assert.equal(await git(dir, 'log', '-1', '--format=%an <%ae>'), `${AUTHOR.name} <${AUTHOR.email}>`);
  });

  test('commits only the paths named: a staged rename, odd names, and other staged files stay staged, uncommitted', async (t) => {
    const dir = await gitRepo(t, { 'old.txt': 'same\n', 'CLAUDE.md': '# p\n', 'gone me.txt': 'x\n' });
    const repo = await Git.open(dir, AUTHOR);
    await git(dir, 'mv', 'old.txt', 'new.txt');
    await rm(join(dir, 'gone me.txt'));
    await writeFiles(dir, { 'CLAUDE.md': '# p\nedited\n', '.mcp.json': '{}\n', 'naïve café.txt': 'ü\n', '*.txt': 'star\n' });
    await git(dir, 'add', 'CLAUDE.md', '.mcp.json');
    // As the commit phase does: stages what is not staged yet, then commits those and both sides of the rename.
    await repo.stage(['gone me.txt', 'naïve café.txt', '*.txt']);
    await repo.commit('Feature', ['old.txt', 'new.txt', 'gone me.txt', 'naïve café.txt', '*.txt']);

    assert.deepEqual((await git(dir, '-c', 'core.quotepath=off', 'show', '--no-renames', '--name-status', '--format=', 'HEAD')).split('\n').sort(), ['A\t*.txt', 'D\tgone me.txt', 'D\told.txt', 'A\tnaïve café.txt', 'A\tnew.txt'].sort());
    assert.equal(await git(dir, 'status', '--porcelain'), 'A  .mcp.json\nM  CLAUDE.md');
  });

  test('reports a staged rename with its old path', async (t) => {
    const dir = await gitRepo(t, { 'old.txt': 'same\n' });
    await git(dir, 'mv', 'old.txt', 'new.txt');
    assert.deepEqual(await (await Git.open(dir)).changes(), [{ path: 'new.txt', from: 'old.txt', staged: true, unstaged: false, untracked: false }]);
  });

  test('refuses to stage paths outside the repository or inside .git', async (t) => {
    const dir = await gitRepo(t, { 'a.txt': 'a\n' });
    const repo = await Git.open(dir);
    await assert.rejects(repo.stage(['../elsewhere.txt']), isError('invalid_input', /outside the repository/));
    await assert.rejects(repo.stage(['/etc/passwd']), isError('invalid_input', /outside the repository/));
    await assert.rejects(repo.stage(['.git/config']), isError('invalid_input', /outside the repository/));
    await assert.rejects(repo.stage(['.']), isError('invalid_input', /outside the repository/));
  });

  test('undoes commits while keeping their changes', async (t) => {
    const dir = await gitRepo(t, { 'a.txt': 'a\n' });
    const repo = await Git.open(dir, AUTHOR);
    const base = await repo.sha();
    await writeFile(join(dir, 'a.txt'), 'changed\n');
    await repo.stage(['a.txt']);
    await repo.commit('too early', ['a.txt']);

    await repo.uncommitTo(base);

    assert.equal(await repo.sha(), base);
    assert.deepEqual(await repo.changes(), [{ path: 'a.txt', staged: true, unstaged: false, untracked: false }]);
  });

  test('lists commits and changed files since the base, and recent commits', async (t) => {
    const dir = await gitRepo(t, { 'a.txt': 'a\n' });
    const repo = await Git.open(dir, AUTHOR);
    await repo.createBranch('feature/x', 'main');
    await writeFiles(dir, { 'b.txt': 'b\n' });
    await repo.stage(['b.txt']);
    await repo.commit('Add b', ['b.txt']);

    assert.deepEqual(
      (await repo.commitsSince('main')).map((c) => c.subject),
      ['Add b'],
    );
    assert.deepEqual(await repo.filesChangedSince('main'), ['b.txt']);
    assert.deepEqual(
      (await repo.recentCommits(5)).map((c) => c.subject),
      ['Add b', 'first'],
    );
    assert.deepEqual(await repo.trackedFiles(), ['a.txt', 'b.txt']);
  });
});
