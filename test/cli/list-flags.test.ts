// List flags on the command line: comma-separated and repeatable, except lists whose items
// are text that may hold commas (shell commands), which take one whole item per flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { catalog } from '../../src/app.js';
import { parseOperationArgs, type Stdin } from '../../src/cli/args.js';
import { describeCommand } from '../../src/cli/commands.js';
import { usageLine } from '../../src/cli/help.js';

const noStdin: Stdin = { isTTY: true, read: () => Promise.reject(new Error('stdin is not read here')) };
const command = (name: string) => describeCommand(catalog.require(name));

test('tags split at commas and add up over repeated flags', async () => {
  const { input } = await parseOperationArgs(command('set_secret'), ['project/x/y', '--tags', 'db, prod', '--tags', 'eu', '--value', 'v'], noStdin);
  assert.deepEqual(input.tags, ['db', 'prod', 'eu']);
});

test('validation commands keep their commas: one command per flag, in order', async () => {
  const { input } = await parseOperationArgs(command('configure_piv'), ['shop', '--validation-commands', "jq -e '.a, .b' out.json", '--validation-commands', 'npm test -- --reporter=dot,spec'], noStdin);
  assert.deepEqual(input.validationCommands, ["jq -e '.a, .b' out.json", 'npm test -- --reporter=dot,spec']);
  const started = await parseOperationArgs(command('start_piv'), ['shop', 'add a page', '--validation-commands', 'make a,b'], noStdin);
  assert.deepEqual(started.input.validationCommands, ['make a,b']);
});

test('a blank validation command reaches the schema whole, which refuses it naming the field', async () => {
  const { input } = await parseOperationArgs(command('start_piv'), ['shop', 'add a page', '--validation-commands', '   '], noStdin);
  assert.deepEqual(input.validationCommands, ['   ']);
  const parsed = catalog.require('start_piv').input.safeParse(input);
  assert.deepEqual(parsed.error?.issues.map((i) => [i.path.join('.'), i.message]), [['validationCommands.0', 'must not be blank']]);
});

test('the usage line says which list flags repeat and which take a,b', () => {
  assert.match(usageLine(command('configure_piv')), / --validation-commands <validation-commands>\.\.\.( |$)/);
  assert.match(usageLine(command('set_secret')), /\[--tags a,b\]/);
});
