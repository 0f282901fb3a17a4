// What the instructions tell agents to call must exist: a starter file naming a tool that was
// renamed would send every agent of every project to a tool that is not there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { catalog } from '../../src/app.js';
import { blockBody } from '../../src/instructions/block.js';
import { STARTER_FILES } from '../../src/instructions/starter.js';

const TOOL = /`([a-z]+(?:_[a-z]+)+)`/g;
const COMMAND = /`supervisor ([a-z-]+) ([a-z-]+)/g;

const tools = new Set(catalog.all().map((op) => op.name));
const commands = new Set(catalog.all().map((op) => op.cli.command.join(' ')));
const matches = (text: string, pattern: RegExp) => [...text.matchAll(pattern)].map((m) => m.slice(1).join(' '));

test('every tool the starter files and the block note name is in the catalog', () => {
  const texts = [...STARTER_FILES.map((f) => f.text), blockBody('consilio', '')];
  const named = texts.flatMap((text) => matches(text, TOOL));
  assert.ok(named.length >= 8, `found ${named.join(', ')}`);
  assert.deepEqual(named.filter((name) => !tools.has(name)), []);
});

test('every `supervisor <group> <verb>` the domain tells people to run is a CLI command', async () => {
  const dir = new URL('../../src/instructions/', import.meta.url);
  const sources = await Promise.all((await readdir(dir)).filter((f) => f.endsWith('.ts')).map((f) => readFile(new URL(f, dir), 'utf8')));
  const named = [...STARTER_FILES.map((f) => f.text), blockBody('consilio', ''), ...sources].flatMap((text) => matches(text, COMMAND));
  assert.ok(named.includes('instructions regenerate') && named.includes('instructions init') && named.includes('project update'), named.join(', '));
  assert.deepEqual(named.filter((command) => !commands.has(command)), []);
});
