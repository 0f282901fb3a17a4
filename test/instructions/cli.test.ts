// `supervisor instructions …` as a person or a cron job runs it against the daemon: check exits 1
// when a project's block went stale (here: a port allocated after the last regeneration), diff
// prints a plain patch, write takes the layer text from stdin.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { adminPrincipal } from '../../src/core/principal.js';
import { assertCliBuilt, cliEnv, daemonBackend, describeResult, parseJson, runCli } from '../cli/run-cli.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { inside } from './fixture.js';
import { makeHost, type Host } from './host.js';

let daemon: TestDaemon;
let host: Host;
let env: Record<string, string>;
const cleanups: Array<() => Promise<void>> = [];
const cli = (args: string[], stdin?: string) => runCli(args, { env, stdin });

before(async () => {
  assertCliBuilt();
  host = await makeHost({ after: (fn) => cleanups.push(fn) });
  daemon = await startTestDaemon(await daemonBackend(), host.env);
  env = cliEnv(daemon.home, { SUPERVISOR_URL: daemon.url, SUPERVISOR_TOKEN: daemon.adminToken });
  for (const project of ['cli-a', 'cli-b']) await daemon.services.projects.add('test', { name: project, directory: await host.checkout(project, `# ${project}\n`) });
});
after(async () => {
  await daemon?.close();
  for (const cleanup of cleanups) await cleanup();
});

test('check exits 1 once a port is allocated after the last regeneration, and 0 again after regenerate --all', async () => {
  const init = await cli(['instructions', 'init', '--json']);
  assert.equal(init.code, 0, describeResult(init));
  const regenerated = await cli(['instructions', 'regenerate', '--all', '--json']);
  assert.equal(regenerated.code, 0, describeResult(regenerated));
  assert.equal((parseJson(regenerated).counts as { updated: number }).updated, 2);
  assert.equal((await cli(['instructions', 'check'])).code, 0);

  await daemon.services.ports.allocate(adminPrincipal('test'), { project: 'cli-a', service: 'api' });

  const stale = await cli(['instructions', 'check']);
  assert.equal(stale.code, 1, describeResult(stale));
  assert.match(stale.stdout, /ok:\s+false/);
  assert.match(stale.stdout, /^\s+cli-a\s+stale\s/m);
  assert.match(stale.stdout, /^\s+cli-b\s+current\s/m);
  // Each project's files in its row as "path state", not as JSON.
  assert.match(stale.stdout, /^\s+cli-a\s+stale\s+\S*\/CLAUDE\.md stale(\s|$)/m, stale.stdout);
  assert.doesNotMatch(stale.stdout, /[{}"]/);
  // What moved, without a diff: the first line the block loses and the first it gains.
  assert.match(stale.stdout, /CLAUDE\.md: the layers or facts changed since it was written \(2 lines; first line lost '- \(none yet\)', first line gained '- api: \d+'\); `supervisor instructions diff` shows the change/);
  // --all says "every project" as regenerate --all does: the same answer as none named.
  const all = await cli(['instructions', 'check', '--all']);
  assert.equal(all.code, 1, describeResult(all));
  assert.equal(all.stdout, stale.stdout);
  const both = await cli(['instructions', 'diff', 'cli-a', '--all']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--all means every project: give one project or --all, not both/);
  const allDiff = await cli(['instructions', 'diff', '--all']);
  assert.equal(allDiff.code, 0, describeResult(allDiff));
  assert.match(allDiff.stdout, /^# cli-a /m);
  const diff = await cli(['instructions', 'diff', 'cli-a']);
  assert.equal(diff.code, 0, describeResult(diff));
  assert.match(diff.stdout, /^# cli-a \(.*\)\n--- a\/CLAUDE\.md\n\+\+\+ b\/CLAUDE\.md\n@@ /);
  assert.match(diff.stdout, /^\+- api: \d+$/m);

  const fixed = await cli(['instructions', 'regenerate', '--all']);
  assert.equal(fixed.code, 0, describeResult(fixed));
  assert.equal((await cli(['instructions', 'check'])).code, 0);
});

test('write takes the layer text from stdin; regenerate of one project, then check of that project', async () => {
  const written = await cli(['instructions', 'write', 'project', 'deploy.md', '--project', 'cli-b', '--json'], 'Deploy with `make deploy`.\n');
  assert.equal(written.code, 0, describeResult(written));
  assert.equal(parseJson(written).status, 'created');
  assert.equal((await cli(['instructions', 'check', 'cli-b'])).code, 1);

  assert.equal((await cli(['instructions', 'regenerate', 'cli-b'])).code, 0);

  assert.match(inside(await host.claude('cli-b')), /Deploy with `make deploy`\./);
  assert.equal((await cli(['instructions', 'check', 'cli-b'])).code, 0);
});

test('on a daemon started with port 0, CLAUDE.md and .mcp.json name the port it got, not 0', async () => {
  assert.ok((await cli(['instructions', 'init', '--json'])).code === 0);
  const regenerated = await cli(['instructions', 'regenerate', 'cli-b', '--json']);
  assert.equal(regenerated.code, 0, describeResult(regenerated));
  const project = await daemon.services.projects.get('cli-b');
  const endpoint = `${daemon.url}/mcp/cli-b`;
  assert.doesNotMatch(daemon.url, /:0$/);
  assert.ok((await readFile(join(project.directory!, 'CLAUDE.md'), 'utf8')).includes(endpoint), 'CLAUDE.md names the endpoint the daemon serves');
  const written = await cli(['instructions', 'mcp-config', 'cli-b', '--json']);
  assert.equal(written.code, 0, describeResult(written));
  const config = JSON.parse(await readFile(join(project.directory!, '.mcp.json'), 'utf8')) as { mcpServers: Record<string, { url: string }> };
  assert.equal(Object.values(config.mcpServers)[0]?.url, endpoint);
});

test('regenerate exits 1 when a project failed (its directory is gone), after printing what happened; ok says the same', async () => {
  await daemon.services.projects.add('test', { name: 'cli-gone', directory: '/nonexistent/supervisor-test/cli-gone' });
  const r = await cli(['instructions', 'regenerate', 'cli-gone', '--json']);
  assert.equal(r.code, 1, describeResult(r));
  const answer = parseJson(r) as { ok: boolean; results: Array<{ project: string; status: string }> };
  assert.equal(answer.ok, false);
  assert.deepEqual(answer.results.map((x) => [x.project, x.status]), [['cli-gone', 'failed']]);
  await daemon.services.projects.remove('test', { name: 'cli-gone', force: true });
  const fine = await cli(['instructions', 'regenerate', 'cli-b', '--json']);
  assert.equal(fine.code, 0, describeResult(fine));
  assert.equal(parseJson(fine).ok, true);
});

test('diff says why it shows nothing (an unknown placeholder) and exits 1; a hand edit is named above the diff that overwrite would write', async () => {
  // Edited in the checkout (write refuses an unknown placeholder).
  const layer = join(host.dir('cli-b'), '.claude-specific', 'typo.md');
  await mkdir(dirname(layer), { recursive: true });
  await writeFile(layer, 'Name: {{project.nme}}\n');
  const diff = await cli(['instructions', 'diff', 'cli-b']);
  assert.equal(diff.code, 1, describeResult(diff));
  assert.match(diff.stdout, /^# cli-b \(.*\)\n# no diff: .*project\.nme/);
  // Every project's diff: also fails, for cli-b; the projects skipped (meta and shared have no directory) do not count.
  const all = await cli(['instructions', 'diff', '--json']);
  const rows = (parseJson(all) as { results: Array<{ project: string; reason?: string }> }).results;
  assert.ok(rows.some((row) => row.project === 'meta' && row.reason !== undefined), JSON.stringify(rows));
  assert.equal(all.code, 1, describeResult(all));
  await writeFile(layer, 'Name: {{project.name}}\n');
  assert.equal((await cli(['instructions', 'regenerate', 'cli-b'])).code, 0);
  const skippedOnly = await cli(['instructions', 'diff']);
  assert.equal(skippedOnly.code, 0, describeResult(skippedOnly));
  assert.match(skippedOnly.stdout, /^# meta \(no directory\)\n# no diff: /m);

  // Edited by hand inside the block: regenerate would refuse, and the diff says so before the patch.
  const file = join(host.dir('cli-b'), 'CLAUDE.md');
  await writeFile(file, (await readFile(file, 'utf8')).replace('Name: cli-b', 'Name: edited by hand'));
  const edited = await cli(['instructions', 'diff', 'cli-b']);
  assert.equal(edited.code, 0, describeResult(edited));
  assert.match(edited.stdout, /^# cli-b \(.*\)\n# regenerate refuses this as it is \(.*\); the diff is what overwrite would write\n--- a\/CLAUDE\.md/);
  assert.match(edited.stdout, /^-Name: edited by hand$/m);
  // Without its end marker the file is malformed: refused, and no overwrite preview is promised.
  const text = await readFile(file, 'utf8');
  await writeFile(file, text.replace(/^<!-- supervisor-instructions:end -->$/m, ''));
  const malformed = await cli(['instructions', 'diff', 'cli-b']);
  assert.match(malformed.stdout, /^# regenerate refuses this as it is \(.*\)$/m);
  assert.doesNotMatch(malformed.stdout, /overwrite would write/);
  await writeFile(file, text);
});
