// .mcp.json as a project keeps it: other servers and settings stay, the token is only ever a
// reference to an environment variable, and an unchanged file is not written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SupervisorError } from '../../src/core/errors.js';
import { writeMcpConfig } from '../../src/instructions/mcp-config.js';
import { makeTree } from './fixture.js';

const URL = 'http://127.0.0.1:3000/mcp/alpha';
const ENTRY = { type: 'http', url: URL, headers: { Authorization: 'Bearer ${SUPERVISOR_TOKEN}' } };

test('a new .mcp.json points at the endpoint with the token as ${SUPERVISOR_TOKEN}', async (t) => {
  const tree = await makeTree(t);
  const path = join(tree.dir('alpha'), '.mcp.json');
  assert.deepEqual(await writeMcpConfig({ directory: tree.dir('alpha'), serverName: 'supervisor', url: URL }), { path, status: 'created' });
  assert.equal(await readFile(path, 'utf8'), `${JSON.stringify({ mcpServers: { supervisor: ENTRY } }, null, 2)}\n`);
  assert.equal((await stat(path)).mode & 0o777, 0o644);
});

test('other servers and unknown keys are kept; an old entry of ours is replaced whole; the mode stays', async (t) => {
  const tree = await makeTree(t);
  const path = join(tree.dir('alpha'), '.mcp.json');
  const existing = {
    $comment: 'team servers',
    mcpServers: {
      github: { type: 'http', url: 'https://api.githubcopilot.com/mcp/', headers: { Authorization: 'Bearer ${GITHUB_PAT}' } },
      supervisor: { command: 'npx', args: ['supervisor', 'mcp', '--project', 'alpha'] },
      local: { command: 'node', args: ['tools.js'], env: { DEBUG: '1' } },
    },
    extra: [1, 2],
  };
  await writeFile(path, JSON.stringify(existing));
  await chmod(path, 0o600);

  assert.equal((await writeMcpConfig({ directory: tree.dir('alpha'), serverName: 'supervisor', url: URL })).status, 'updated');

  const written = JSON.parse(await readFile(path, 'utf8')) as typeof existing;
  assert.deepEqual(written, { ...existing, mcpServers: { ...existing.mcpServers, supervisor: ENTRY } });
  assert.deepEqual(Object.keys(written.mcpServers), ['github', 'supervisor', 'local']);
  assert.equal((await stat(path)).mode & 0o777, 0o600);
});

test("the rest of the file is kept as written: another server's big number, tabs, CRLF line ends and key order", async (t) => {
  const tree = await makeTree(t);
  const path = join(tree.dir('alpha'), '.mcp.json');
  // A number beyond a double's precision is lost by JSON.parse and JSON.stringify (…456789 → …456800).
  const other = '"local": {\r\n\t\t\t"command": "node",\r\n\t\t\t"env": { "SEED": 123456789012345678901234567890, "Z": "1", "A": "2" }\r\n\t\t}';
  const text = `{\r\n\t"mcpServers": {\r\n\t\t${other},\r\n\t\t"supervisor": { "command": "npx" }\r\n\t},\r\n\t"z": 1e400\r\n}\r\n`;
  await writeFile(path, text);
  assert.equal((await writeMcpConfig({ directory: tree.dir('alpha'), serverName: 'supervisor', url: URL })).status, 'updated');
  const written = await readFile(path, 'utf8');
  assert.ok(written.startsWith(`{\r\n\t"mcpServers": {\r\n\t\t${other},\r\n\t\t"supervisor": `), written);
  assert.ok(written.endsWith(`\r\n\t},\r\n\t"z": 1e400\r\n}\r\n`), written);
  assert.deepEqual(JSON.parse(written).mcpServers.supervisor, ENTRY);
  assert.doesNotMatch(written, /(?<!\r)\n/, 'CRLF throughout');
});

test('a new entry goes after the last server in the file\'s own layout, every other byte as written; a file on one line stays on one line', async (t) => {
  const tree = await makeTree(t);
  const path = join(tree.dir('alpha'), '.mcp.json');
  const before = '{\r\n\t"mcpServers": {\r\n\t\t"local": {\r\n\t\t\t"command": "node"\r\n\t\t}\r\n\t}\r\n}\r\n';
  await writeFile(path, before);
  await writeMcpConfig({ directory: tree.dir('alpha'), serverName: 'supervisor', url: URL });
  const entry = JSON.stringify(ENTRY, null, '\t').split('\n').join('\r\n\t\t');
  assert.equal(await readFile(path, 'utf8'), `{\r\n\t"mcpServers": {\r\n\t\t"local": {\r\n\t\t\t"command": "node"\r\n\t\t},\r\n\t\t"supervisor": ${entry}\r\n\t}\r\n}\r\n`);
  const oneLine = '{"mcpServers": {"local": {"command": "y", "n": 12345678901234567890123}}, "keep":   [1,2]}\n';
  await writeFile(path, oneLine);
  await writeMcpConfig({ directory: tree.dir('alpha'), serverName: 'supervisor', url: URL });
  const written = await readFile(path, 'utf8');
  assert.equal(written, `${oneLine.slice(0, oneLine.indexOf('}}') + 1)},"supervisor": ${JSON.stringify(ENTRY)}}, "keep":   [1,2]}\n`);
  // And without mcpServers at all: it is made, indented as the file is.
  await writeFile(path, '{\n    "a": 1\n}\n');
  await writeMcpConfig({ directory: tree.dir('alpha'), serverName: 'supervisor', url: URL });
  assert.equal(await readFile(path, 'utf8'), `{\n    "a": 1,\n    "mcpServers": ${JSON.stringify({ supervisor: ENTRY }, null, 4).split('\n').join('\n    ')}\n}\n`);
});

test('a server named twice under mcpServers is refused: which one Claude Code uses depends on its place', async (t) => {
  const tree = await makeTree(t);
  const path = join(tree.dir('alpha'), '.mcp.json');
  const text = '{ "mcpServers": { "supervisor": { "command": "a" }, "other": {}, "supervisor": { "command": "b" } } }\n';
  await writeFile(path, text);
  await assert.rejects(writeMcpConfig({ directory: tree.dir('alpha'), serverName: 'supervisor', url: URL }), (err: unknown) => err instanceof SupervisorError && err.code === 'invalid_input' && /names the supervisor server 2 times under mcpServers; keep one by hand, nothing was written/.test(err.message));
  assert.equal(await readFile(path, 'utf8'), text);
});

test('a second call changes nothing and does not write', async (t) => {
  const tree = await makeTree(t);
  const input = { directory: tree.dir('alpha'), serverName: 'supervisor', url: URL };
  const { path } = await writeMcpConfig(input);
  const past = new Date('2020-01-01T00:00:00Z');
  await utimes(path, past, past);
  assert.equal((await writeMcpConfig(input)).status, 'unchanged');
  assert.equal((await stat(path)).mtimeMs, past.getTime());
});

test('a file it cannot read faithfully, or one linked out of the project, is refused and left alone', async (t) => {
  const tree = await makeTree(t);
  const input = { directory: tree.dir('alpha'), serverName: 'supervisor', url: URL };
  const path = join(tree.dir('alpha'), '.mcp.json');
  for (const [text, pattern] of [
    ['{ "mcpServers": ', /is not valid JSON .*; fix it by hand, nothing was written/],
    ['[]', /must hold a JSON object/],
    ['{ "mcpServers": [] }', /mcpServers must be an object/],
  ] as const) {
    await writeFile(path, text);
    await assert.rejects(writeMcpConfig(input), (err: unknown) => err instanceof SupervisorError && err.code === 'invalid_input' && pattern.test(err.message));
    assert.equal(await readFile(path, 'utf8'), text);
  }
  await mkdir(join(tree.base, 'elsewhere'));
  await writeFile(join(tree.base, 'elsewhere', 'mcp.json'), '{}');
  await symlink(join(tree.base, 'elsewhere', 'mcp.json'), join(tree.dir('beta'), '.mcp.json'));
  await assert.rejects(writeMcpConfig({ ...input, directory: tree.dir('beta') }), (err: unknown) => err instanceof SupervisorError && err.code === 'forbidden');
  assert.equal(await readFile(join(tree.base, 'elsewhere', 'mcp.json'), 'utf8'), '{}');
});
