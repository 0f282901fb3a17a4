// Error messages name operations (list_secrets, release_port), as REST and MCP callers call them;
// at the command line a person reads the command that runs each one instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { catalog } from '../../src/app.js';
import { describeCommands } from '../../src/cli/commands.js';
import { adviceInCliTerms, inCliTerms } from '../../src/cli/cli-terms.js';

const commands = describeCommands(catalog).commands;

test('operation names become the commands that run them; other words with underscores stay', () => {
  assert.equal(
    inCliTerms('no secret at project/a/api_key; `list_secrets` shows the paths that exist', commands),
    'no secret at project/a/api_key; `supervisor secrets list` shows the paths that exist',
  );
  assert.equal(inCliTerms('port 3100 is allocated to api; release_port it first', commands), 'port 3100 is allocated to api; `supervisor port release` it first');
  assert.equal(inCliTerms('no Google Cloud account named x; gcloud_list_accounts lists them', commands), 'no Google Cloud account named x; `supervisor gcloud accounts` lists them');
  assert.equal(inCliTerms('set SUPERVISOR_CLOUDFLARE_ZONES or the tunnel_id setting', commands), 'set SUPERVISOR_CLOUDFLARE_ZONES or the tunnel_id setting');
});

test('a switch as an operation spells it is the flag that sets it; other "name: true" text stays', () => {
  assert.equal(inCliTerms('deleting VM web cannot be undone; call again with confirm: true', commands), 'deleting VM web cannot be undone; call again with --confirm');
  assert.equal(inCliTerms('write_instruction_layer, then regenerate_instructions with all.', commands), '`supervisor instructions write`, then `supervisor instructions regenerate` with --all.');
  assert.equal(inCliTerms('regenerate_instructions with all projects', commands), '`supervisor instructions regenerate` with all projects');
  // A command given for a person, with the tool an agent calls beside it: the command line keeps the command.
  assert.equal(
    inCliTerms('an admin can run `supervisor secrets grant a project/b/k --access read` (grant_secret_access over MCP), which covers project/b/k/ too', commands),
    'an admin can run `supervisor secrets grant a project/b/k --access read`, which covers project/b/k/ too',
  );
  assert.equal(inCliTerms('(`supervisor config set agentCommand /path` (set_setting over MCP), then restart the daemon)', commands), '(`supervisor config set agentCommand /path`, then restart the daemon)');
  assert.equal(inCliTerms('its CNAME cannot be made; pass dns: false to route it', commands), 'its CNAME cannot be made; pass --no-dns to route it');
  assert.equal(inCliTerms('give a value, or unset: true, not both', commands), 'give a value, or --unset, not both');
  assert.equal(inCliTerms('expected sha: true somewhere', commands), 'expected sha: true somewhere');
  // After "; ", as after any other word: the switch, not a field named before a refusal.
  assert.equal(inCliTerms('Also write AGENTS.md (remembered; agentsMd: false ends it)', commands), 'Also write AGENTS.md (remembered; --no-agents-md ends it)');
});

test('a choice as an operation spells it is the flag with that value; a value the field does not take, or a validation message, stays', () => {
  assert.equal(
    inCliTerms('Add it with deletedSecrets: keep (the same project coming back) or deletedSecrets: discard (deleted for good)', commands),
    'Add it with --deleted-secrets keep (the same project coming back) or --deleted-secrets discard (deleted for good)',
  );
  // A value refused is named by its flag, not read as the choice it is not.
  assert.equal(inCliTerms('deletedSecrets: maybe is not a choice', commands), '--deleted-secrets: maybe is not a choice');
  assert.equal(inCliTerms('invalid input for add_project: deletedSecrets: Invalid option', commands), 'invalid input for `supervisor project add`: --deleted-secrets: Invalid option');
  // Each refused field of several, an item of a list by its place; a field given as an argument somewhere (path) stays as it is.
  assert.equal(
    inCliTerms('invalid input for set_secret: rotationIntervalDays: must be at least 1; allow.2: a variable name such as PATH; path: must start with meta/', commands),
    'invalid input for `supervisor secrets set`: --rotation-interval-days: must be at least 1; --allow (item 3): a variable name such as PATH; path: must start with meta/',
  );
});

test('"pass force" and a field named in parentheses become the flags; other words stay', () => {
  assert.equal(inCliTerms('a rule not made by the supervisor already routes a.example.com; pass force to replace it', commands), 'a rule not made by the supervisor already routes a.example.com; pass --force to replace it');
  assert.equal(inCliTerms('if that process is this service, pass its command (command) to reserve it', commands), 'if that process is this service, pass its command (--command) to reserve it');
  assert.equal(inCliTerms('pass it on (twice) and pass the test', commands), 'pass it on (twice) and pass the test');
  assert.equal(inCliTerms('pass dns: false to route it', commands), 'pass --no-dns to route it');
});

test('a field given a number ("retry with ifVersion 3") is its flag with that number; other words stay', () => {
  assert.equal(
    inCliTerms('project/a/db_url is at version 3, not 2; read it again and retry with ifVersion 3', commands),
    'project/a/db_url is at version 3, not 2; read it again and retry with --if-version 3',
  );
  assert.equal(inCliTerms('a port with fooBar 3 stays; so does with version 3', commands), 'a port with fooBar 3 stays; so does with version 3');
});

test('an MCP aside that names the operation a command already given runs is dropped', () => {
  assert.equal(
    inCliTerms('set the tunnel id: `supervisor config set cloudflareTunnelId <uuid>` (set_setting over MCP)', commands),
    'set the tunnel id: `supervisor config set cloudflareTunnelId <uuid>`',
  );
});

test('an operation named beside the command that runs it is not said twice', () => {
  assert.equal(
    inCliTerms('Cloudflare refused the API token; run `supervisor cloudflare verify` (verify_cloudflare) to see what the token can do', commands),
    'Cloudflare refused the API token; run `supervisor cloudflare verify` to see what the token can do',
  );
});

test("an answer's advice (a refused project's reason, a check's reasons) names flags and commands; its data stays as stored", () => {
  const answer = {
    ok: false,
    results: [
      { project: 'alpha', status: 'refused', reason: 'CLAUDE.md was edited by hand. Regenerate with adopt: true (moves it) or overwrite: true (keeps a backup)' },
      { project: 'beta', status: 'stale', reasons: ['its supervisor server points at http://x; write_mcp_config updates it'] },
    ],
    items: [{ action: 'op.list_secrets', target: 'project/a/api_key' }],
  };
  assert.deepEqual(adviceInCliTerms(answer, commands), {
    ok: false,
    results: [
      { project: 'alpha', status: 'refused', reason: 'CLAUDE.md was edited by hand. Regenerate with --adopt (moves it) or --overwrite (keeps a backup)' },
      { project: 'beta', status: 'stale', reasons: ['its supervisor server points at http://x; `supervisor instructions mcp-config` updates it'] },
    ],
    items: [{ action: 'op.list_secrets', target: 'project/a/api_key' }],
  });
});

test("a note beside an answer (a loop no daemon runs, a port not released) names commands, as a person would run them", () => {
  const answer = { status: 'interrupted', note: 'no daemon runs this loop now: the one that ran it stopped without ending it (killed, or its host down); resume_piv continues it now' };
  assert.deepEqual(adviceInCliTerms(answer, commands), {
    status: 'interrupted',
    note: 'no daemon runs this loop now: the one that ran it stopped without ending it (killed, or its host down); `supervisor piv resume` continues it now',
  });
});

test("a patch's notes name commands; its diff lines, the file's own text, stay as they are", () => {
  const patch = [
    '# shop (no directory)',
    '# project shop has no directory on this host; give it one with `supervisor project update shop --directory /path/to/checkout` (update_project over MCP)',
    '--- a/CLAUDE.md',
    '+++ b/CLAUDE.md',
    '@@ -1 +1 @@',
    '-call list_secrets (list_secrets over MCP)',
    '+# call list_secrets',
    '',
  ].join('\n');
  const shown = adviceInCliTerms({ patch, results: [] }, commands).patch as string;
  assert.equal(shown.split('\n')[1], '# project shop has no directory on this host; give it one with `supervisor project update shop --directory /path/to/checkout`');
  assert.deepEqual(shown.split('\n').slice(2), patch.split('\n').slice(2));
});

test('help names commands where the descriptions, written for MCP clients, name operations', async () => {
  const { groupHelp, operationHelp } = await import('../../src/cli/help.js');
  const manifest = describeCommands(catalog);
  const names = new Set(commands.map((c) => c.name));
  const leftOver = (text: string) => [...text.matchAll(/\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b/g)].map((m) => m[0]).filter((word) => names.has(word));
  assert.match(groupHelp(manifest, 'secrets')!, /call `supervisor secrets get` with the path/);
  assert.match(groupHelp(manifest, 'instructions')!, /`supervisor instructions write`, then `supervisor instructions regenerate` with --all\./);
  assert.match(operationHelp(commands.find((c) => c.name === 'delete_secret')!, commands), /Soft-delete a secret; `supervisor secrets restore` brings it back\./);
  for (const group of new Set(commands.map((c) => c.cli.command[0]))) assert.deepEqual(leftOver(groupHelp(manifest, group)!), [], group);
  // Except the line that says which tool the command is.
  for (const cmd of commands) assert.deepEqual(leftOver(operationHelp(cmd, commands).replace(/^MCP tool: .*$/m, '')), [], cmd.name);
});
