// Regenerating instructions as a person sees it: the shared text reaches every project's
// CLAUDE.md, the project's own text around the block never changes, a second run touches
// nothing, and hand edits inside a block are never lost.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { checkInstructions } from '../../src/instructions/check.js';
import { regenerateInstructions } from '../../src/instructions/regenerate.js';
import { count, inside, makeTree, MemoryWrittenBlocks, outside } from './fixture.js';

const OWN = {
  meta: '# Meta\n\nOur own notes.\n',
  alpha: '# Alpha\r\n\r\nWindows line ends, kept as they are.\r\n',
  beta: '# Beta\n\nNo final newline here',
};

describe('regenerate all', () => {
  test('a changed core file reaches every project; the text outside each block is kept byte for byte', async (t) => {
    const tree = await makeTree(t, { claude: OWN });
    const first = await regenerateInstructions(tree.ctx, tree.projects);
    assert.deepEqual(first.counts, { updated: 3, unchanged: 0, refused: 0, failed: 0 });
    for (const [name, own] of Object.entries(OWN)) {
      const text = await tree.claude(name);
      // A file without markers gets the block on top, then a blank line, then its own text.
      const eol = own.includes('\r\n') ? '\r\n' : '\n';
      assert.equal(outside(text), `${eol}${eol}${own}`, name);
      assert.ok(text.endsWith(own), name);
    }

    await writeFile(tree.corePath('10-ports.md'), '## Ports\n\nPorts come from get_port, always.\n');
    const second = await regenerateInstructions(tree.ctx, tree.projects);
    assert.deepEqual(second.counts, { updated: 3, unchanged: 0, refused: 0, failed: 0 });
    for (const [name, own] of Object.entries(OWN)) {
      const text = await tree.claude(name);
      assert.match(inside(text), /Ports come from get_port, always\./, name);
      assert.doesNotMatch(text, /Never hard-code a port/, name);
      const eol = own.includes('\r\n') ? '\r\n' : '\n';
      assert.equal(outside(text), `${eol}${eol}${own}`, name);
    }
    // The CRLF file's block is CRLF too; the LF files have no CR at all.
    assert.ok(!(await tree.claude('alpha')).replace(/\r\n/g, '').includes('\n'));
    assert.ok(!(await tree.claude('beta')).includes('\r'));
  });

  test('a second run reports every project unchanged and writes nothing', async (t) => {
    const tree = await makeTree(t, { claude: OWN });
    await regenerateInstructions(tree.ctx, tree.projects);
    // Back-date the files so any write, even within the same second, shows in the mtime.
    const past = new Date('2020-01-01T00:00:00Z');
    const files = tree.projects.map((p) => join(p.directory, 'CLAUDE.md'));
    for (const file of files) await utimes(file, past, past);
    const before = await Promise.all(files.map((f) => stat(f)));

    const report = await regenerateInstructions(tree.ctx, tree.projects);

    assert.deepEqual(report.counts, { updated: 0, unchanged: 3, refused: 0, failed: 0 });
    assert.ok(report.results.every((r) => r.status === 'unchanged'));
    const after = await Promise.all(files.map((f) => stat(f)));
    after.forEach((s, i) => {
      assert.equal(s.mtimeMs, before[i]!.mtimeMs, files[i]);
      assert.equal(s.ino, before[i]!.ino, files[i]);
    });
  });

  test("a temp file a killed write left beside CLAUDE.md is removed by the next run, even one with nothing to write; others' files stay", async (t) => {
    const tree = await makeTree(t, { claude: OWN });
    await regenerateInstructions(tree.ctx, tree.projects);
    const dir = tree.dir('alpha');
    // What writeFileAtomic leaves when its process dies between writing the temp file and the rename.
    await writeFile(join(dir, '.CLAUDE.md.0123456789ab.tmp'), '');
    await writeFile(join(dir, '.notes.md.0123456789ab.tmp'), 'not ours to remove');
    // And those of a backup, and of an adopted edit in the project's layer folder.
    await writeFile(join(dir, '.CLAUDE.md.20260304-050607.bak.0123456789ab.tmp'), '');
    await mkdir(join(dir, '.claude-specific'), { recursive: true });
    await writeFile(join(dir, '.claude-specific', '.adopted-2026-03-04.md.0123456789ab.tmp'), '');
    await writeFile(join(dir, '.claude-specific', '.own.md.0123456789ab.tmp'), 'not ours to remove');

    const report = await regenerateInstructions(tree.ctx, tree.projects);

    assert.equal(report.counts.unchanged, 3);
    assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tmp')), ['.notes.md.0123456789ab.tmp']);
    assert.deepEqual((await readdir(join(dir, '.claude-specific'))).filter((f) => f.endsWith('.tmp')), ['.own.md.0123456789ab.tmp']);
  });

  test('an existing file keeps its mode; a new one is 0644', async (t) => {
    const tree = await makeTree(t, { claude: { alpha: 'y\n' } });
    const file = join(tree.dir('alpha'), 'CLAUDE.md');
    await chmod(file, 0o640);
    await regenerateInstructions(tree.ctx, tree.projects);
    assert.equal((await stat(file)).mode & 0o777, 0o640);
    assert.equal((await stat(join(tree.dir('beta'), 'CLAUDE.md'))).mode & 0o777, 0o644);
  });

  test('the meta layer appears only in the meta project', async (t) => {
    const tree = await makeTree(t);
    await regenerateInstructions(tree.ctx, tree.projects);
    assert.match(await tree.claude('meta'), /You run sync_tunnel for every project/);
    assert.match(await tree.claude('meta'), /sources=core\/10-ports\.md,core\/20-secrets\.md,meta\/00-meta\.md /);
    for (const name of ['alpha', 'beta']) {
      assert.doesNotMatch(await tree.claude(name), /You run sync_tunnel|meta\/00-meta\.md/, name);
    }
  });

  test('layers are assembled core, meta, project, then by file name', async (t) => {
    const tree = await makeTree(t, {
      core: { 'b.md': 'core b\n', 'a.md': 'core a\n' },
      meta: { 'a.md': 'meta a\n' },
      specific: { meta: { '0-first.md': 'project 0\n' } },
    });
    await regenerateInstructions(tree.ctx, tree.projects);
    const body = inside(await tree.claude('meta'));
    const order = ['core a', 'core b', 'meta a', 'project 0'].map((s) => body.indexOf(s));
    assert.deepEqual([...order].sort((x, y) => x - y), order);
    assert.ok(order.every((i) => i >= 0));
  });

  test('the begin marker carries the sources and the hash; the block names the command that regenerates it', async (t) => {
    const tree = await makeTree(t);
    await regenerateInstructions(tree.ctx, tree.projects);
    const text = await tree.claude('alpha');
    assert.match(text, /^<!-- supervisor-instructions:begin sha256=[0-9a-f]{64} sources=core\/10-ports\.md,core\/20-secrets\.md -->\n<!-- Generated by the supervisor/);
    assert.match(text, /`supervisor instructions regenerate alpha`/);
    assert.match(text, /\n<!-- supervisor-instructions:end -->\n$/);
  });
});

describe('hand edits', () => {
  const EDIT = 'Always run the linter before committing.';

  async function editedTree(t: Parameters<typeof makeTree>[0]) {
    const tree = await makeTree(t, { claude: { alpha: '# Alpha\n\nOwn text.\n' } });
    await regenerateInstructions(tree.ctx, tree.projects);
    const file = join(tree.dir('alpha'), 'CLAUDE.md');
    const edited = (await readFile(file, 'utf8')).replace('Read credentials with', `${EDIT}\n\nRead credentials with`);
    await writeFile(file, edited);
    return { tree, file, edited };
  }

  test('inside the block: refused without a flag, the file untouched, the others still done', async (t) => {
    const { tree, file, edited } = await editedTree(t);
    await writeFile(tree.corePath('30-new.md'), 'A new core rule.\n');

    const report = await regenerateInstructions(tree.ctx, tree.projects);

    const alpha = report.results.find((r) => r.project === 'alpha')!;
    assert.equal(alpha.status, 'refused');
    assert.match(alpha.status === 'refused' ? alpha.reason : '', /CLAUDE\.md was edited by hand inside the managed block \(markers on lines 1 and \d+\); nothing was written.*adopt: true \(moves.*overwrite: true \(keeps/);
    assert.equal(await readFile(file, 'utf8'), edited);
    assert.deepEqual(report.counts, { updated: 2, unchanged: 0, refused: 1, failed: 0 });
  });

  test('adopt moves the edit into the project layer; the next generation contains it once', async (t) => {
    const { tree, file } = await editedTree(t);

    const report = await regenerateInstructions(tree.ctx, tree.projects, { onHandEdit: 'adopt' });

    const alpha = report.results.find((r) => r.project === 'alpha')!;
    assert.equal(alpha.status, 'updated');
    const adoptedPath = alpha.status === 'updated' ? alpha.adopted : undefined;
    assert.ok(adoptedPath?.endsWith(join('.claude-specific', 'adopted-2026-03-04.md')), adoptedPath);
    assert.equal(await readFile(adoptedPath!, 'utf8'), `${EDIT}\n`);
    const text = await readFile(file, 'utf8');
    assert.equal(count(text, EDIT), 1);
    assert.match(text, /sources=core\/10-ports\.md,core\/20-secrets\.md,project\/adopted-2026-03-04\.md /);
    assert.ok(text.endsWith('\n\n# Alpha\n\nOwn text.\n'));
    // Settled: the next run has nothing to do.
    const again = await regenerateInstructions(tree.ctx, tree.projects);
    assert.deepEqual(again.counts, { updated: 0, unchanged: 3, refused: 0, failed: 0 });
  });

  test('adoptions on one day are assembled in the order they were made: a later one is named by its time, after the first', async (t) => {
    const { tree, file } = await editedTree(t);
    const adopt = async () => {
      const alpha = (await regenerateInstructions(tree.ctx, tree.projects, { onHandEdit: 'adopt' })).results.find((r) => r.project === 'alpha')!;
      return alpha.status === 'updated' ? basename(alpha.adopted!) : alpha.status;
    };
    assert.equal(await adopt(), 'adopted-2026-03-04.md');
    // The fourth in the same second as the third.
    for (const [edit, at] of [['Second edit.', '2026-03-04T09:30:00Z'], ['Third edit.', '2026-03-04T21:00:00Z'], ['Fourth edit.', '2026-03-04T21:00:00Z']] as const) {
      tree.clock.set(new Date(at));
      await writeFile(file, (await readFile(file, 'utf8')).replace('Read credentials with', `${edit}\n\nRead credentials with`));
      await adopt();
    }
    const text = await readFile(file, 'utf8');
    assert.match(text, /sources=[^ ]*,project\/adopted-2026-03-04\.md,project\/adopted-2026-03-04_093000\.md,project\/adopted-2026-03-04_210000\.md,project\/adopted-2026-03-04_210000_002\.md /);
    const at = ['Second edit.', 'Third edit.', 'Fourth edit.'].map((edit) => text.indexOf(edit));
    assert.ok(text.indexOf(EDIT) < at[0]! && at[0]! < at[1]! && at[1]! < at[2]!, 'the edits in the order they were made');
  });

  test("under the CLI's umask (077) the files put in a checkout stay readable by the project's users and git: 0644, folders 0755", async (t) => {
    const { tree, file } = await editedTree(t);
    await rm(join(tree.dir('alpha'), '.claude-specific'), { recursive: true, force: true });
    await chmod(file, 0o644);
    const before = process.umask(0o077);
    try {
      const adopted = (await regenerateInstructions(tree.ctx, tree.projects, { onHandEdit: 'adopt' })).results.find((r) => r.project === 'alpha')!;
      assert.equal(adopted.status, 'updated');
      const path = adopted.status === 'updated' ? adopted.adopted! : '';
      assert.deepEqual([(await stat(path)).mode & 0o777, (await stat(join(tree.dir('alpha'), '.claude-specific'))).mode & 0o777], [0o644, 0o755]);
      assert.equal((await stat(file)).mode & 0o777, 0o644, 'CLAUDE.md keeps its mode');
      await writeFile(file, (await readFile(file, 'utf8')).replace('## Secrets', 'Another edit.\n\n## Secrets'));
      const overwritten = (await regenerateInstructions(tree.ctx, tree.projects, { onHandEdit: 'overwrite' })).results.find((r) => r.project === 'alpha')!;
      const backup = overwritten.status === 'updated' ? overwritten.backups[0]! : '';
      assert.equal((await stat(backup)).mode & 0o777, 0o644, 'the backup has the mode of the file it copies');
    } finally {
      process.umask(before);
    }
  });

  test('overwrite regenerates the block and keeps the edited file as a backup', async (t) => {
    const { tree, file, edited } = await editedTree(t);

    const report = await regenerateInstructions(tree.ctx, tree.projects, { onHandEdit: 'overwrite' });

    const alpha = report.results.find((r) => r.project === 'alpha')!;
    assert.equal(alpha.status, 'updated');
    const backups = alpha.status === 'updated' ? alpha.backups : [];
    assert.equal(backups.length, 1);
    assert.match(backups[0]!, /CLAUDE\.md\.20260304-050607\.bak$/);
    assert.equal(await readFile(backups[0]!, 'utf8'), edited);
    assert.equal(count(await readFile(file, 'utf8'), EDIT), 0);
    // A second overwrite on the same second keeps the first backup.
    await writeFile(file, edited);
    const second = await regenerateInstructions(tree.ctx, [tree.projects[1]!], { onHandEdit: 'overwrite' });
    const again = second.results[0]!;
    assert.match(again.status === 'updated' ? again.backups[0]! : '', /CLAUDE\.md\.20260304-050607_002\.bak$/);
    assert.deepEqual((await readdir(tree.dir('alpha'))).filter((n) => n.endsWith('.bak')).length, 2);
  });

  test('outside the block: untouched, no refusal', async (t) => {
    const tree = await makeTree(t, { claude: { alpha: '# Alpha\n' } });
    await regenerateInstructions(tree.ctx, tree.projects);
    const file = join(tree.dir('alpha'), 'CLAUDE.md');
    const edited = `Added above the block.\n${await readFile(file, 'utf8')}More below, no newline`;
    await writeFile(file, edited);

    const unchanged = await regenerateInstructions(tree.ctx, tree.projects);
    assert.equal(unchanged.results.find((r) => r.project === 'alpha')!.status, 'unchanged');
    assert.equal(await readFile(file, 'utf8'), edited);

    await writeFile(tree.corePath('30-new.md'), 'A new core rule.\n');
    const updated = await regenerateInstructions(tree.ctx, tree.projects);
    assert.equal(updated.results.find((r) => r.project === 'alpha')!.status, 'updated');
    const text = await readFile(file, 'utf8');
    assert.ok(text.startsWith('Added above the block.\n<!-- supervisor-instructions:begin'));
    assert.ok(text.endsWith('<!-- supervisor-instructions:end -->\n\n# Alpha\nMore below, no newline'));
    assert.match(inside(text), /A new core rule\./);
  });

  test('markers deleted by hand, the text kept: the block goes back in its place (CRLF too), not a second copy on top; the text edited too, it is the project\'s own', async (t) => {
    const tree = await makeTree(t, { claude: { alpha: '# Alpha\r\n\r\nOur text.\r\n', beta: '# Beta\n' } });
    await regenerateInstructions(tree.ctx, tree.projects);
    const unmark = (text: string) => text.replace(/^<!-- supervisor-instructions:(begin|end)\b.*-->\r?\n/gm, '');
    for (const name of ['alpha', 'beta']) await writeFile(join(tree.dir(name), 'CLAUDE.md'), `Above.\n${unmark(await tree.claude(name))}`);
    await writeFile(join(tree.dir('beta'), 'CLAUDE.md'), (await tree.claude('beta')).replace(/get_port/, 'get_port (edited)'));
    await writeFile(tree.corePath('30-new.md'), 'A new core rule.\n');

    const checked = await checkInstructions(tree.ctx, tree.projects.filter((p) => p.name === 'alpha'));
    assert.match(checked.results[0]!.files[0]!.reason!, /^the block's markers were deleted, and its text is still there as written \(lines 2–\d+\): regenerating puts the block back in its place, not a second copy on top$/);

    await regenerateInstructions(tree.ctx, tree.projects);
    const alpha = await tree.claude('alpha');
    assert.equal(count(alpha, 'supervisor-instructions:begin'), 1);
    assert.equal(count(alpha, 'Generated by the supervisor'), 1, 'the old text is replaced, not kept under the new block');
    assert.match(inside(alpha), /A new core rule\./);
    assert.equal(outside(alpha), 'Above.\n\r\n\r\n# Alpha\r\n\r\nOur text.\r\n', 'the text around it is kept, and the blank line after the block');
    // Edited after the markers went, the text is no longer what was written: it stays the project's, under a new block.
    const beta = await tree.claude('beta');
    assert.equal(count(beta, 'Generated by the supervisor'), 2);
    assert.match(outside(beta), /get_port \(edited\)/);
  });

  test('removing generated lines by hand: adopt keeps a backup and says the lines come back', async (t) => {
    const tree = await makeTree(t);
    await regenerateInstructions(tree.ctx, tree.projects);
    const file = join(tree.dir('beta'), 'CLAUDE.md');
    const edited = (await readFile(file, 'utf8')).replace('Read credentials with `get_secret` by exact path.\n', '');
    await writeFile(file, edited);

    const report = await regenerateInstructions(tree.ctx, tree.projects, { onHandEdit: 'adopt' });

    const beta = report.results.find((r) => r.project === 'beta')!;
    assert.equal(beta.status, 'updated');
    if (beta.status !== 'updated') return;
    assert.equal(beta.adopted, undefined);
    assert.equal(beta.backups.length, 1);
    assert.equal(await readFile(beta.backups[0]!, 'utf8'), edited);
    assert.match(beta.warnings.join('\n'), /1 generated line\(s\) removed by hand .* come back/);
    assert.match(await readFile(file, 'utf8'), /Read credentials with/);
  });

  test('adopt after a layer dropped a line: only the hand edit is adopted, and the dropped line is gone', async (t) => {
    const { tree, file } = await editedTree(t);
    await writeFile(tree.corePath('20-secrets.md'), '## Secrets\n\n{{secrets.paths}}\n');

    const alpha = (await regenerateInstructions(tree.ctx, tree.projects, { onHandEdit: 'adopt' })).results.find((r) => r.project === 'alpha')!;

    assert.equal(alpha.status, 'updated');
    if (alpha.status !== 'updated') return;
    assert.equal(await readFile(alpha.adopted!, 'utf8'), `${EDIT}\n`, 'the layer text dropped since is not taken for the edit');
    assert.deepEqual([alpha.backups, alpha.warnings], [[], []]);
    const text = await readFile(file, 'utf8');
    assert.equal(count(text, EDIT), 1);
    assert.doesNotMatch(text, /Read credentials with/);
  });

  test('adopt of a fact line changed by hand (a port range): not adopted, the fact comes back once, and the warning says where the fact is changed', async (t) => {
    const { tree, file } = await editedTree(t);
    const generated = await readFile(file, 'utf8');
    const range = /^Range: .*$/m.exec(generated)![0];
    await writeFile(file, generated.replace(range, 'Range: 5000-5099'));

    const alpha = (await regenerateInstructions(tree.ctx, tree.projects, { onHandEdit: 'adopt' })).results.find((r) => r.project === 'alpha')!;

    assert.equal(alpha.status, 'updated');
    if (alpha.status !== 'updated') return;
    // The other edit of the same file is still adopted; the changed fact line is not.
    assert.equal(await readFile(alpha.adopted!, 'utf8'), `${EDIT}\n`);
    const text = await readFile(file, 'utf8');
    assert.equal(count(text, range), 1);
    assert.doesNotMatch(text, /5000-5099/);
    assert.equal(alpha.backups.length, 1);
    assert.match(await readFile(alpha.backups[0]!, 'utf8'), /Range: 5000-5099/, 'the edited text is kept');
    assert.equal(alpha.warnings.length, 1, alpha.warnings.join('\n'));
    assert.match(alpha.warnings[0]!, new RegExp(`"${range}" in .*CLAUDE\\.md shows a live fact and was changed by hand to "Range: 5000-5099": not adopted.*change it with the project's port allocations \\(allocate_port, release_port\\) \\(the edited file is in .*\\.bak\\)$`));
    assert.doesNotMatch(alpha.warnings[0]!, /layer/);
  });

  test('adopt after the facts changed (a new secret): no line is said removed by hand, and no backup is made', async (t) => {
    const { tree, file } = await editedTree(t);
    tree.facts.get('alpha')!.secretPaths.push('project/alpha/new_key');

    const alpha = (await regenerateInstructions(tree.ctx, tree.projects, { onHandEdit: 'adopt' })).results.find((r) => r.project === 'alpha')!;

    assert.equal(alpha.status, 'updated');
    if (alpha.status !== 'updated') return;
    assert.deepEqual([alpha.backups, alpha.warnings], [[], []]);
    assert.equal(await readFile(alpha.adopted!, 'utf8'), `${EDIT}\n`);
    assert.match(await readFile(file, 'utf8'), /project\/alpha\/new_key/);
  });

  test('adopt of a block whose generated text is not on record (written by an older version) says the adopted file may hold old layer text', async (t) => {
    const { tree } = await editedTree(t);
    (tree.ctx.blocks as MemoryWrittenBlocks).stored.clear();
    await writeFile(tree.corePath('20-secrets.md'), '## Secrets\n\n{{secrets.paths}}\n');

    const alpha = (await regenerateInstructions(tree.ctx, tree.projects, { onHandEdit: 'adopt' })).results.find((r) => r.project === 'alpha')!;

    assert.equal(alpha.status, 'updated');
    if (alpha.status !== 'updated') return;
    assert.match(await readFile(alpha.adopted!, 'utf8'), /Read credentials with/, 'compared with the text generated now, the dropped line looks added');
    assert.match(alpha.warnings.join('\n'), /the text the block was generated with is not on record .*: lines that changed since may be in .*adopted-2026-03-04\.md, and lines removed by hand come back; the edited file is kept in .*CLAUDE\.md\.20260304-050607\.bak: review them$/);
    assert.equal(alpha.backups.length, 1);
    assert.equal(alpha.warnings.length, 1, 'no separate claim of lines removed by hand: the base is a guess');
  });

  test('an adoption cut short (the adopted file written, CLAUDE.md not yet) is not adopted twice when run again', async (t) => {
    const { tree, file } = await editedTree(t);
    // What a kill -9 between the two writes leaves: the adopted file, and CLAUDE.md still edited.
    await mkdir(join(tree.dir('alpha'), '.claude-specific'), { recursive: true });
    await writeFile(join(tree.dir('alpha'), '.claude-specific', 'adopted-2026-03-04.md'), `${EDIT}\n`);

    const alpha = (await regenerateInstructions(tree.ctx, tree.projects, { onHandEdit: 'adopt' })).results.find((r) => r.project === 'alpha')!;

    assert.equal(alpha.status, 'updated');
    assert.equal(alpha.status === 'updated' ? alpha.adopted : 'none', undefined, 'nothing new to adopt');
    assert.equal(count(await readFile(file, 'utf8'), EDIT), 1);
    assert.deepEqual(await readdir(join(tree.dir('alpha'), '.claude-specific')), ['adopted-2026-03-04.md']);
  });

  test('a line changed by hand the way a layer then changed it too is not adopted: the block holds it once', async (t) => {
    const { tree, file } = await editedTree(t);
    await writeFile(file, (await readFile(file, 'utf8')).replace('by exact path.', 'by EXACT path.'));
    await writeFile(tree.corePath('20-secrets.md'), (await readFile(tree.corePath('20-secrets.md'), 'utf8')).replace('by exact path.', 'by EXACT path.'));

    const alpha = (await regenerateInstructions(tree.ctx, tree.projects, { onHandEdit: 'adopt' })).results.find((r) => r.project === 'alpha')!;

    assert.equal(alpha.status, 'updated');
    if (alpha.status !== 'updated') return;
    assert.equal(await readFile(alpha.adopted!, 'utf8'), `${EDIT}\n`);
    assert.equal(count(await readFile(file, 'utf8'), 'by EXACT path.'), 1);
  });

  test('adopted text with braces comes back exactly as written, and the project still regenerates', async (t) => {
    const { tree, file } = await editedTree(t);
    const braces = ['Render raw HTML with {{{body}}} in templates.', 'Half {{open} and {{ {nested} }} and {{{{four}}}}.', 'Literal \\{{escaped}} here.'];
    await writeFile(file, (await readFile(file, 'utf8')).replace('## Secrets', `${braces.join('\n')}\n\n## Secrets`));

    const alpha = (await regenerateInstructions(tree.ctx, tree.projects, { onHandEdit: 'adopt' })).results.find((r) => r.project === 'alpha')!;

    assert.equal(alpha.status, 'updated', JSON.stringify(alpha));
    const text = await readFile(file, 'utf8');
    for (const line of braces) assert.ok(text.includes(line), line);
    assert.deepEqual((await regenerateInstructions(tree.ctx, tree.projects)).counts, { updated: 0, unchanged: 3, refused: 0, failed: 0 });
  });

  test('a hand edit made on a block older than the last regeneration (a branch checked out again) adopts only the edit', async (t) => {
    const { tree, file, edited } = await editedTree(t);
    // The edit waits on a branch while the layers change and the block is regenerated.
    await writeFile(file, (await readFile(file, 'utf8')).replace(`${EDIT}\n\n`, ''));
    await writeFile(tree.corePath('20-secrets.md'), '## Secrets\n\n{{secrets.paths}}\n');
    await regenerateInstructions(tree.ctx, tree.projects);
    await writeFile(file, edited);

    const alpha = (await regenerateInstructions(tree.ctx, tree.projects, { onHandEdit: 'adopt' })).results.find((r) => r.project === 'alpha')!;

    assert.equal(alpha.status, 'updated');
    if (alpha.status !== 'updated') return;
    assert.equal(await readFile(alpha.adopted!, 'utf8'), `${EDIT}\n`);
    assert.deepEqual([alpha.backups, alpha.warnings], [[], []]);
  });

  test('a file edited again while its edit is being adopted is refused, not overwritten', async (t) => {
    const { tree, file } = await editedTree(t);
    let calls = 0;
    // The second reading of the facts is the plan made after the adopted file is written: a person saves then.
    const ctx = { ...tree.ctx, facts: async (p: { name: string }) => {
      if (p.name === 'alpha' && ++calls === 2) await writeFile(file, (await readFile(file, 'utf8')).replace('## Secrets', 'Saved meanwhile.\n\n## Secrets'));
      return tree.facts.get(p.name)!;
    } };

    const alpha = (await regenerateInstructions(ctx, tree.projects, { onHandEdit: 'adopt' })).results.find((r) => r.project === 'alpha')!;

    assert.equal(alpha.status, 'refused');
    assert.match(alpha.status === 'refused' ? alpha.reason : '', /was edited again while its edit was being kept; nothing more was written: run it again/);
    assert.match(await readFile(file, 'utf8'), /Saved meanwhile\./);
  });

  test('CLAUDE.md that is a link to AGENTS.md is refused, naming the one file, instead of written twice every run', async (t) => {
    const tree = await makeTree(t);
    const dir = tree.dir('beta');
    await writeFile(join(dir, 'AGENTS.md'), '# Beta agents\n');
    await rm(join(dir, 'CLAUDE.md'), { force: true });
    await symlink('AGENTS.md', join(dir, 'CLAUDE.md'));
    for (const agentsMd of [false, true]) {
      const projects = tree.projects.map((p) => (p.name === 'beta' ? { ...p, agentsMd } : p));
      const beta = (await regenerateInstructions(tree.ctx, projects)).results.find((r) => r.project === 'beta')!;
      assert.equal(beta.status, 'failed', `agentsMd ${agentsMd}`);
      assert.match(beta.status === 'failed' ? beta.reason : '', /(CLAUDE|AGENTS)\.md and .*(AGENTS|CLAUDE)\.md are one file .*: a link joins them/);
    }
    assert.equal(await readFile(join(dir, 'AGENTS.md'), 'utf8'), '# Beta agents\n');
  });

  test("two projects whose CLAUDE.md is one file (one links into the other's checkout) are both refused, not written over each other on every run", async (t) => {
    const tree = await makeTree(t, { claude: { alpha: '# Alpha\n' } });
    await rm(join(tree.dir('beta'), 'CLAUDE.md'), { force: true });
    await symlink(join(tree.dir('alpha'), 'CLAUDE.md'), join(tree.dir('beta'), 'CLAUDE.md'));

    const report = await regenerateInstructions(tree.ctx, tree.projects);

    for (const [project, other] of [['alpha', 'beta'], ['beta', 'alpha']] as const) {
      const row = report.results.find((r) => r.project === project)!;
      assert.equal(row.status, 'failed', project);
      assert.match(row.status === 'failed' ? row.reason : '', new RegExp(`^its CLAUDE\\.md is also the CLAUDE\\.md of ${other} \\(a link joins them\\)`));
    }
    assert.equal(await readFile(join(tree.dir('alpha'), 'CLAUDE.md'), 'utf8'), '# Alpha\n');
  });

  test('doubled markers are refused whatever the flag, naming the file', async (t) => {
    const tree = await makeTree(t);
    await regenerateInstructions(tree.ctx, tree.projects);
    const file = join(tree.dir('beta'), 'CLAUDE.md');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text + text);

    const report = await regenerateInstructions(tree.ctx, tree.projects, { onHandEdit: 'overwrite' });

    const beta = report.results.find((r) => r.project === 'beta')!;
    assert.equal(beta.status, 'refused');
    assert.match(beta.status === 'refused' ? beta.reason : '', /CLAUDE\.md: it has 2 begin and 2 end markers \(begin on lines 1 and \d+, end on lines \d+ and \d+\); .*: remove the extra ones by hand$/);
    assert.equal(await readFile(file, 'utf8'), text + text);
  });

  test('a missing end marker is refused with the fix for that, not for extra markers', async (t) => {
    const tree = await makeTree(t);
    await regenerateInstructions(tree.ctx, tree.projects);
    const file = join(tree.dir('beta'), 'CLAUDE.md');
    const text = await readFile(file, 'utf8');
    assert.match(text, /^<!-- supervisor-instructions:end -->$/m);
    await writeFile(file, text.replace(/^<!-- supervisor-instructions:end -->$/m, ''));
    const beta = (await regenerateInstructions(tree.ctx, tree.projects)).results.find((r) => r.project === 'beta')!;
    assert.equal(beta.status, 'refused');
    assert.match(beta.status === 'refused' ? beta.reason : '', /it has 1 begin and 0 end markers \(begin on line 1, end on no line\); exactly one of each, on a line of its own, in order, is needed: put the missing end marker back by hand; or, if that line only quotes a marker \(a file that never had a block\), put other text on it \(wrap the marker in backticks\) and the block is written anew at the top$/);
  });
});
