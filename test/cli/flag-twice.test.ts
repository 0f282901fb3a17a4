// A field given twice on the command line with two values is a usage error naming both as typed,
// not a silent choice of the last (`--agents-md --no-agents-md` wrote AGENTS.md or not by order).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { catalog } from '../../src/app.js';
import { parseOperationArgs, type Stdin } from '../../src/cli/args.js';
import { describeCommand } from '../../src/cli/commands.js';

const noStdin: Stdin = { isTTY: true, read: () => Promise.reject(new Error('stdin is not read here')) };
const parse = (name: string, argv: string[]) => parseOperationArgs(describeCommand(catalog.require(name)), argv, noStdin);
const usage = (message: RegExp) => (err: unknown) => err instanceof Error && message.test(err.message);

test('a switch and its negation together are refused, in either order', async () => {
  await assert.rejects(parse('regenerate_instructions', ['alpha', '--agents-md', '--no-agents-md']), usage(/--agents-md and --no-agents-md give agents-md two different values; give one/));
  await assert.rejects(parse('regenerate_instructions', ['alpha', '--no-agents-md', '--agents-md']), usage(/--no-agents-md and --agents-md give agents-md two different values; give one/));
});

test('a value flag given twice with two values is refused; the same value twice, or a list flag repeated, is fine', async () => {
  await assert.rejects(parse('list_secrets', ['project/x/', '--limit', '5', '--limit', '6']), usage(/--limit and --limit give limit two different values; give one/));
  assert.equal((await parse('list_secrets', ['project/x/', '--limit', '5', '--limit=5'])).input.limit, 5);
  assert.equal((await parse('regenerate_instructions', ['alpha', '--agents-md', '--agents-md'])).input.agentsMd, true);
  assert.deepEqual((await parse('set_secret', ['project/x/y', '--tags', 'a', '--tags', 'b', '--value', 'v'])).input.tags, ['a', 'b']);
});

test('a negated switch given a value is named as it was typed', async () => {
  await assert.rejects(parse('import_secrets', ['--no-overwrite', 'false', '--prefix', 'project/x/']), usage(/^.*--no-overwrite is a switch and takes no value; write --no-overwrite alone, or --overwrite/));
});
