// The unified diff is checked the strongest way available: GNU patch applies it and must
// produce exactly the new text, for many seeded random edits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { addedRuns, unifiedDiff } from '../../src/instructions/line-diff.js';

test('equal texts give no diff; a small change gives a diff -u hunk with 3 lines of context', () => {
  assert.equal(unifiedDiff('a/x', 'b/x', 'same\n', 'same\n'), '');
  const before = 'one\ntwo\nthree\nfour\nfive\nsix\nseven\n';
  const after = 'one\ntwo\nthree\nFOUR\nfive\nsix\nseven\neight\n';
  assert.equal(
    unifiedDiff('a/x', 'b/x', before, after),
    ['--- a/x', '+++ b/x', '@@ -1,7 +1,8 @@', ' one', ' two', ' three', '-four', '+FOUR', ' five', ' six', ' seven', '+eight', ''].join('\n'),
  );
});

test('a missing final newline is shown the way diff -u shows it', () => {
  assert.equal(unifiedDiff('a/x', 'b/x', 'x', 'x\n'), ['--- a/x', '+++ b/x', '@@ -1 +1 @@', '-x', '\\ No newline at end of file', '+x', ''].join('\n'));
  assert.equal(unifiedDiff('a/x', 'b/x', '', 'new\n'), ['--- a/x', '+++ b/x', '@@ -0,0 +1 @@', '+new', ''].join('\n'));
});

test('patch applies every diff and gets the new text', { skip: existsSync('/usr/bin/patch') ? false : 'GNU patch is not installed' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'supervisor-diff-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const random = seeded(42);
  const words = ['alpha', 'beta', 'gamma', 'delta', '', '## Ports', 'get_port', 'x'];
  const pick = () => words[Math.floor(random() * words.length)]!;
  const ending = () => (random() < 0.2 ? '' : '\n');
  const expected = new Map<string, string>();
  let patchText = '';
  for (let round = 0; round < 60; round++) {
    const lines = Array.from({ length: Math.floor(random() * 40) }, pick);
    const changed = lines.flatMap((line) => {
      const r = random();
      return r < 0.1 ? [] : r < 0.2 ? [line, pick()] : r < 0.3 ? [pick()] : [line];
    });
    const before = lines.length ? lines.join('\n') + ending() : '';
    const after = changed.length ? changed.join('\n') + ending() : '';
    const name = `f${round}.md`;
    await writeFile(join(dir, name), before);
    expected.set(name, after);
    const diff = unifiedDiff(`a/${name}`, `b/${name}`, before, after);
    assert.equal(diff === '', before === after);
    patchText += diff;
  }
  // One patch run for all files: a process per file would make this the slowest test here.
  await writeFile(join(dir, 'all.diff'), patchText);
  await promisify(execFile)('patch', ['-p1', '--quiet', '--force', '-d', dir, '-i', 'all.diff']);
  for (const [name, after] of expected) assert.equal(await readFile(join(dir, name), 'utf8'), after, name);
});

test('addedRuns finds the text a person inserted, and the lines taken out', () => {
  const generated = 'note\n\none\ntwo\nthree\n';
  const edited = 'note\n\none\nmine 1\nmine 2\ntwo\nmine 3\n';
  assert.deepEqual(addedRuns(generated, edited), { added: ['mine 1\nmine 2', 'mine 3'], removed: ['three'] });
});

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
