// Every command a message or help text tells a person to type (`supervisor <group> <verb>`) is
// one the CLI has: advice naming a command that does not exist (`supervisor daemon start`)
// sends the reader to "unknown command".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ts from 'typescript';
import { catalog } from '../../src/app.js';
import { BUILTINS } from '../../src/cli/help.js';

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(path)));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** The text of every string and template literal of a source file (a template's own backticks are not in it). */
function stringsOf(file: string, source: string): string[] {
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) out.push(node.text);
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true));
  return out;
}

test('every `supervisor …` command named in the source and the README exists', async () => {
  const verbs = new Map<string, Set<string>>();
  const add = (group: string, verb?: string) => {
    const set = verbs.get(group) ?? new Set<string>();
    if (verb) set.add(verb);
    verbs.set(group, set);
  };
  for (const op of catalog.all()) add(op.cli.command[0], op.cli.command[1]);
  for (const b of BUILTINS) add(b.group, b.verb);

  const sources = await Promise.all((await sourceFiles('src')).map(async (file) => ({ file, text: stringsOf(file, await readFile(file, 'utf8')).join('\n') })));
  const texts = [...sources, { file: 'README.md', text: await readFile('README.md', 'utf8') }];
  const wrong: string[] = [];
  let checked = 0;
  for (const { file, text } of texts) {
    // Inside backticks: the group, then a word that is a verb unless it is an argument or a flag.
    for (const m of text.matchAll(/`supervisor ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?/g)) {
      const [, group, word] = m;
      const known = verbs.get(group!);
      checked++;
      if (!known) wrong.push(`${file}: supervisor ${group} (no such group)`);
      // The word after a group is its verb; only `completion` takes an argument there (its shell).
      else if (word && !known.has(word) && group !== 'completion') wrong.push(`${file}: supervisor ${group} ${word}`);
    }
  }
  assert.ok(checked > 50, `only ${checked} commands named`);
  assert.deepEqual(wrong, []);
});
