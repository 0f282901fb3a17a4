// Free text as a command's last argument (a search query, a task's description or error): the
// words a person types unquoted are one value, as they meant it; other commands still refuse
// extra words, and the usage line shows which argument takes the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { catalog } from '../../src/app.js';
import { parseOperationArgs, type Stdin } from '../../src/cli/args.js';
import { describeCommand } from '../../src/cli/commands.js';
import { usageLine } from '../../src/cli/help.js';

const noStdin: Stdin = { isTTY: true, read: () => Promise.reject(new Error('stdin is not read here')) };
const command = (name: string) => describeCommand(catalog.require(name));
const parse = (name: string, argv: string[]) => parseOperationArgs(command(name), argv, noStdin);

test('knowledge search takes every word as the query, flags anywhere among them', async () => {
  const { input } = await parse('search_knowledge', ['redis', 'sessions', '--limit', '3', 'ttl']);
  assert.deepEqual(input, { query: 'redis sessions ttl', limit: 3 });
  assert.deepEqual((await parse('search_knowledge', ['one phrase'])).input, { query: 'one phrase' });
});

test("tasks start and tasks fail take the words after their other arguments as the description and the error", async () => {
  assert.deepEqual((await parse('start_task', ['shop', 'feature', 'add', 'a', 'login', 'page'])).input, { project: 'shop', type: 'feature', description: 'add a login page' });
  const id = '7b3f1c1e-9a35-4a8e-9d5e-6f1c2b3a4d5e';
  assert.deepEqual((await parse('fail_task', [id, 'tests', 'did', 'not', 'pass'])).input, { id, error: 'tests did not pass' });
});

test('piv start takes the words after the project as the feature', async () => {
  assert.deepEqual((await parse('start_piv', ['shop', 'greet', 'people', 'by', 'name'])).input, { project: 'shop', feature: 'greet people by name' });
});

test('a command whose last argument is not free text still refuses extra words, naming them', async () => {
  await assert.rejects(parse('get_secret', ['project/x/y', 'extra']), /too many arguments: "extra" \(expected <path>\)/);
});

test('the usage line marks the argument that takes the rest', () => {
  assert.match(usageLine(command('search_knowledge')), /^supervisor knowledge search <query…> /);
  assert.match(usageLine(command('start_task')), /^supervisor tasks start <project> <type> \[description…\]/);
  assert.match(usageLine(command('get_secret')), /^supervisor secrets get <path> /);
});

test('every command that declares free text declares it as its last argument, a text field', () => {
  const declaring = catalog.all().filter((op) => op.cli.textArg !== undefined);
  assert.ok(declaring.length >= 3);
  for (const op of declaring) {
    const cmd = describeCommand(op);
    assert.equal(cmd.cli.args?.at(-1), cmd.cli.textArg, op.name);
    assert.equal(cmd.input.find((f) => f.name === cmd.cli.textArg)?.type, 'string', op.name);
  }
});
