// Live facts in the instructions: every placeholder filled, lists stable, typos reported all
// at once with their file and line, and no way for a secret's value to get in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PLACEHOLDERS, renderLayers, renderWithFacts, unknownPlaceholders, type Facts } from '../../src/instructions/placeholders.js';
import { regenerateInstructions } from '../../src/instructions/regenerate.js';
import { CLI_BIN } from '../../src/core/cli-path.js';
import { SupervisorError } from '../../src/core/errors.js';
import { makeTree } from './fixture.js';

const PROJECT = { name: 'consilio', directory: '/srv/consilio' };
const FACTS: Facts = {
  portRange: { start: 4000, end: 4099 },
  services: [
    { service: 'web', port: 4001, hostname: 'consilio.example.com' },
    { service: 'api', port: 4000 },
  ],
  secretPaths: ['project/consilio/stripe_key', 'project/consilio/database_url'],
  mcp: { url: 'http://127.0.0.1:3000/mcp/consilio', toolsets: ['secrets', 'ports'] },
};
const render = (text: string, facts = FACTS) => renderLayers([{ source: 'core/t.md', text }], PROJECT, facts)[0];

test('the lines showing live facts are known, each with where the fact is changed; other lines, and escaped braces, are not', () => {
  const text = 'Project {{project.name}}.\nServices:\n{{ports.services}}\nRange {{ports.range}} and \\{{ports.range}}\nLiteral \\{{ports.range}}\nEndpoint: {{mcp.url}}\n';
  const { texts, factLines } = renderWithFacts([{ source: 'core/t.md', text }], PROJECT, FACTS);
  assert.equal(texts[0], 'Project consilio.\nServices:\n- api: 4000\n- web: 4001 (consilio.example.com)\nRange 4000-4099 and {{ports.range}}\nLiteral {{ports.range}}\nEndpoint: http://127.0.0.1:3000/mcp/consilio\n');
  assert.deepEqual([...factLines.keys()], ['- api: 4000', '- web: 4001 (consilio.example.com)', 'Range 4000-4099 and {{ports.range}}', 'Endpoint: http://127.0.0.1:3000/mcp/consilio']);
  assert.match(factLines.get('- api: 4000')!, /allocate_port/);
  assert.match(factLines.get('Endpoint: http://127.0.0.1:3000/mcp/consilio')!, /SUPERVISOR_PORT/);
});

test('every placeholder is filled from the facts; lists are sorted Markdown bullets', () => {
  const template = Object.keys(PLACEHOLDERS).map((name) => `${name}: {{${name}}}`).join('\n');
  assert.equal(
    render(template),
    [
      'project.name: consilio',
      'project.directory: /srv/consilio',
      'ports.range: 4000-4099',
      'ports.services: - api: 4000',
      '- web: 4001 (consilio.example.com)',
      'secrets.paths: - project/consilio/database_url',
      '- project/consilio/stripe_key',
      'mcp.url: http://127.0.0.1:3000/mcp/consilio',
      'mcp.toolsets: secrets, ports',
      `supervisor.command: node ${CLI_BIN}`,
    ].join('\n'),
  );
});

test('supervisor.command names the installed command, which exists, from the source modules too (the demo and tests run them)', async () => {
  assert.ok(CLI_BIN.endsWith('/dist/cli/supervisor.cjs'), CLI_BIN);
  assert.ok((await stat(CLI_BIN)).isFile(), `${CLI_BIN} is missing: run npm run build`);
});

test('a project with nothing yet gets readable placeholders, not empty ones', () => {
  const empty: Facts = { services: [], secretPaths: [], mcp: { url: 'http://h/mcp/x', toolsets: [] } };
  assert.equal(render('{{ports.range}}|{{ports.services}}|{{secrets.paths}}|{{mcp.toolsets}}', empty), 'none yet|- (none yet)|- (none yet)|none');
});

test('thousands of secret paths: a folder of many is one bullet with the count directly in it, the few elsewhere are listed', () => {
  const bulk = Array.from({ length: 3000 }, (_, i) => `project/consilio/bulk/key_${String(i).padStart(4, '0')}`);
  const deeper = Array.from({ length: 6 }, (_, i) => `project/consilio/bulk/old/key_${i}`);
  const few = ['project/consilio/database_url', 'project/consilio/stripe_key'];
  const lines = render('{{secrets.paths}}', { ...FACTS, secretPaths: [...bulk, ...deeper, ...few] })!.split('\n');
  // The count and the list the hint gives agree: list_secrets is recursive unless told.
  assert.deepEqual(lines, [
    '- project/consilio/bulk/ (3000 secrets directly in it; `list_secrets` with prefix project/consilio/bulk/ and recursive false names them)',
    '- project/consilio/bulk/old/ (6 secrets directly in it; `list_secrets` with prefix project/consilio/bulk/old/ and recursive false names them)',
    '- project/consilio/database_url',
    '- project/consilio/stripe_key',
  ]);
  // Up to 40 paths, each has its bullet, whatever the folders.
  assert.equal(render('{{secrets.paths}}', { ...FACTS, secretPaths: bulk.slice(0, 40) })!.split('\n').length, 40);
});

test('spaces inside the braces are allowed; a backslash keeps braces literal', () => {
  assert.equal(render('{{ project.name }} and \\{{ secrets.GITHUB_TOKEN }}'), 'consilio and {{ secrets.GITHUB_TOKEN }}');
});

test('a value containing braces is not filled again', () => {
  assert.equal(render('{{mcp.url}}', { ...FACTS, mcp: { url: 'http://h/{{project.name}}', toolsets: [] } }), 'http://h/{{project.name}}');
});

test('unknown placeholders: one error listing all of them with file and line, and the known ones', () => {
  const files = [
    { source: 'core/a.md', text: 'ok {{project.name}}\n{{projct.name}}\n' },
    { source: 'project/b.md', text: '\n\n{{ports.rnage}} and {{secrets.consilio/stripe_key}}' },
  ];
  assert.throws(
    () => renderLayers(files, PROJECT, FACTS),
    (err: unknown) =>
      err instanceof SupervisorError &&
      err.code === 'invalid_input' &&
      err.message.startsWith(
        'unknown placeholders: {{projct.name}} in core/a.md line 2, {{ports.rnage}} in project/b.md line 3, {{secrets.consilio/stripe_key}} in project/b.md line 3. Known: {{project.name}}',
      ) &&
      err.message.endsWith('write \\{{ for literal braces.'),
  );
  assert.deepEqual(unknownPlaceholders('{{mcp.url}} {{nope}}'), [{ name: 'nope', line: 1 }]);
});

test("a secret's value never appears in any generated file", async (t) => {
  // What a secret store holds; the facts callback, like the database one, exposes paths only.
  const store = new Map([
    ['project/alpha/database_url', 'postgres://alpha:hunter2-VALUE@db/alpha'],
    ['project/alpha/stripe_key', 'sk_live_VALUE_4242'],
  ]);
  const tree = await makeTree(t, {
    projects: ['alpha'],
    specific: { alpha: { 'secrets.md': 'Our secrets:\n{{secrets.paths}}\nRead them with get_secret.\n' } },
  });
  const ctx = { ...tree.ctx, facts: async () => ({ ...tree.facts.get('alpha')!, secretPaths: [...store.keys()] }) };

  await regenerateInstructions(ctx, tree.projects);

  const text = await readFile(join(tree.dir('alpha'), 'CLAUDE.md'), 'utf8');
  assert.match(text, /- project\/alpha\/database_url\n- project\/alpha\/stripe_key\n/);
  for (const name of await readdir(tree.base, { recursive: true })) {
    const path = join(tree.base, name);
    if (!(await stat(path)).isFile()) continue;
    const content = await readFile(path, 'utf8');
    for (const value of store.values()) assert.ok(!content.includes(value), `${name} contains a secret value`);
  }
});
