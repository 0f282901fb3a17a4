// Instructions through the domain, as an agent or a person uses them: the projects domain says
// where each project lives, ports and secrets give the live facts, and the operations run the
// engine over them. The seed's workflow is the first test.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import type { Progress } from '../../src/catalog/operation.js';
import { httpUrl } from '../../src/core/config.js';
import { adminPrincipal, projectPrincipal } from '../../src/core/principal.js';
import { skipReason, testBackends } from '../helpers/db.js';
import { assertRejects } from '../helpers/errors.js';
import { capturedLogLines, openTestServices, type TestServices } from '../helpers/services.js';
import { inside, outside } from './fixture.js';
import { makeHost, type Host } from './host.js';

type Json = Record<string, unknown>;
type Row = { project: string; status?: string; state?: string; reason?: string; warnings?: string[]; adopted?: string };

const rows = (answer: Json) => answer.results as Row[];
const rowOf = (answer: Json, project: string) => rows(answer).find((r) => r.project === project)!;

for (const backend of testBackends()) {
  describe(`instructions through the domain [${backend}]`, { skip: await skipReason(backend) }, () => {
    let s: TestServices;
    let host: Host;
    let admin: LocalInvoker;

    const cleanups: Array<() => Promise<void>> = [];

    before(async () => {
      host = await makeHost({ after: (fn) => cleanups.push(fn) });
      s = await openTestServices(backend, host.env);
      admin = new LocalInvoker(s, adminPrincipal('test-admin'), 'internal');
      await admin.invoke('init_instructions', {});
    });
    after(async () => {
      await s.close();
      for (const cleanup of cleanups) await cleanup();
    });

    /** A project with a checkout (and its own CLAUDE.md) registered through add_project. */
    const addProject = async (project: string, own?: string) => {
      await admin.invoke('add_project', { project, directory: await host.checkout(project, own) });
    };

    test("the seed's workflow: one layer file changes, every project's CLAUDE.md follows, own text kept, a second run writes nothing", async () => {
      const own = { 'seed-a': '# Seed A\n\nOur build notes.\n', 'seed-b': '# Seed B\r\n\r\nCRLF notes, no final newline' };
      for (const [project, text] of Object.entries(own)) await addProject(project, text);
      await admin.invoke('regenerate_instructions', { all: true });

      // "Make supervisors more proactive": one write, one regenerate.
      const written = await admin.invoke('write_instruction_layer', { layer: 'core', name: '05-proactive.md', text: '## Be proactive\n\nFix what you find before you are asked.' });
      assert.deepEqual(written, { path: join(host.root, '.supervisor-core', '05-proactive.md'), status: 'created' });
      const regenerated = await admin.invoke('regenerate_instructions', { all: true });

      for (const [project, text] of Object.entries(own)) {
        assert.equal(rowOf(regenerated, project).status, 'updated', project);
        const claude = await host.claude(project);
        assert.match(inside(claude), /Fix what you find before you are asked\./, project);
        assert.ok(outside(claude).endsWith(text), `${project}: its own text is kept byte for byte`);
      }
      const again = await admin.invoke('regenerate_instructions', { all: true });
      assert.deepEqual(
        rows(again).filter((r) => r.status !== 'skipped').map((r) => r.status),
        rows(again).filter((r) => r.status !== 'skipped').map(() => 'unchanged'),
      );
      assert.equal((again.counts as Json).updated, 0);
    });

    test('placeholders come from real allocations and secrets: ports, hostnames and secret paths, never a value', async () => {
      await addProject('facts');
      const web = (await admin.invoke('allocate_port', { project: 'facts', service: 'web', hostname: 'facts.example.com' })).port as number;
      const worker = (await admin.invoke('get_port', { project: 'facts', service: 'worker' })).port as number;
      const values = ['postgres://facts:hunter2-value@db/facts', 'sk-live-facts-value-7f3a'];
      await admin.invoke('set_secret', { path: 'project/facts/database_url', value: values[0] });
      await admin.invoke('set_secret', { path: 'project/facts/stripe/api_key', value: values[1] });
      const range = (await admin.invoke('get_port_summary', { project: 'facts' })) as { items: Array<{ range: string }> };

      const answer = await admin.invoke('regenerate_instructions', { project: 'facts' });

      assert.equal(rowOf(answer, 'facts').status, 'updated');
      const text = await host.claude('facts');
      assert.match(text, new RegExp(`Port range: ${range.items[0]!.range}\\.`));
      assert.match(text, new RegExp(`- web: ${web} \\(facts\\.example\\.com\\)`));
      assert.match(text, new RegExp(`- worker: ${worker}\\n`));
      assert.match(text, /- project\/facts\/database_url\n- project\/facts\/stripe\/api_key\n/);
      assert.ok(text.includes(`(endpoint ${httpUrl(s.config.host, s.config.port)}/mcp/facts, toolsets: projects, auth, ports, secrets)`), text);
      const leaks = [...(await host.files()).map((f) => f.text), JSON.stringify(answer), capturedLogLines.join('')];
      for (const value of values) assert.ok(!leaks.some((t) => t.includes(value)), 'no secret value in any file, answer or log line');
    });

    test('after another port is allocated, check reports that project stale and only that one', async () => {
      await addProject('stale-a');
      await addProject('stale-b');
      for (const project of ['stale-a', 'stale-b']) await admin.invoke('regenerate_instructions', { project });
      assert.equal((await admin.invoke('check_instructions', { project: 'stale-a' })).ok, true);

      await admin.invoke('get_port', { project: 'stale-a', service: 'api' });

      const checked = await admin.invoke('check_instructions', {});
      assert.equal(checked.ok, false);
      assert.equal(rowOf(checked, 'stale-a').state, 'stale');
      assert.equal(rowOf(checked, 'stale-b').state, 'current');
      const diff = await admin.invoke('diff_instructions', { project: 'stale-a' });
      assert.match(diff.patch as string, /^# stale-a \(.*\/projects\/stale-a\)\n--- a\/CLAUDE\.md\n\+\+\+ b\/CLAUDE\.md\n/);
      assert.match(diff.patch as string, /^\+- api: \d+$/m);

      // A new secret makes it stale too, until it is regenerated.
      await admin.invoke('regenerate_instructions', { project: 'stale-b' });
      await admin.invoke('set_secret', { path: 'project/stale-b/token', value: 'v' });
      assert.equal((await admin.invoke('check_instructions', { project: 'stale-b' })).ok, false);
      await admin.invoke('regenerate_instructions', { project: 'stale-b' });
      assert.equal((await admin.invoke('check_instructions', { project: 'stale-b' })).ok, true);
    });

    test('a project without a directory is reported, not fatal; a missing directory fails that project only', async () => {
      await admin.invoke('add_project', { project: 'no-dir' });
      await admin.invoke('add_project', { project: 'gone-dir', directory: join(host.base, 'never-created') });
      await addProject('fine');

      const answer = await admin.invoke('regenerate_instructions', { all: true });

      assert.equal(rowOf(answer, 'no-dir').status, 'skipped');
      assert.match(rowOf(answer, 'no-dir').reason!, /no directory on this host; .*`supervisor project update no-dir --directory/);
      assert.equal(rowOf(answer, 'gone-dir').status, 'failed');
      assert.match(rowOf(answer, 'gone-dir').reason!, /never-created does not exist/);
      assert.equal(rowOf(answer, 'fine').status, 'updated');
      assert.equal(rowOf(await admin.invoke('check_instructions', {}), 'no-dir').state, 'skipped');
      // Named on its own, it is an error with the next step.
      await assertRejects(admin.invoke('regenerate_instructions', { project: 'no-dir' }), 'invalid_input', /supervisor project update no-dir --directory/);
    });

    test('60 projects (the seed scale) in one call: one result and one progress step each', async () => {
      const names = Array.from({ length: 60 }, (_, i) => `fleet-${String(i + 1).padStart(2, '0')}`);
      for (const name of names) await addProject(name, `# ${name}\n`);
      const steps: Progress[] = [];

      const answer = await admin.invoke('regenerate_instructions', { all: true }, { onProgress: (step) => steps.push(step) });

      for (const name of names) {
        assert.equal(rowOf(answer, name).status, 'updated', name);
        assert.match(await host.claude(name), new RegExp(`\`${name}\` in \`.*/projects/${name}\``));
      }
      const sorted = rows(answer).map((r) => r.project);
      assert.deepEqual(sorted, [...sorted].sort());
      assert.equal(steps.length, rows(answer).filter((r) => r.status !== 'skipped').length);
      assert.deepEqual(steps.map((step) => step.progress).sort((a, b) => a! - b!), steps.map((_, i) => i + 1));
    });

    test('two regenerations at once do not interleave on one file: a hand edit is adopted once', async () => {
      await addProject('both');
      await admin.invoke('regenerate_instructions', { project: 'both' });
      const file = join(host.dir('both'), 'CLAUDE.md');
      const text = await readFile(file, 'utf8');
      await writeFile(file, text.replace('## Secrets', 'Always run the linter.\n\n## Secrets'));

      const answers = await Promise.all([1, 2].map(() => admin.invoke('regenerate_instructions', { project: 'both', adopt: true })));

      assert.deepEqual(answers.map((a) => rowOf(a, 'both').status).sort(), ['unchanged', 'updated']);
      assert.deepEqual(await readdir(join(host.dir('both'), '.claude-specific')), ['adopted-2026-11-23.md']);
      assert.equal((await host.claude('both')).split('Always run the linter.').length - 1, 1);
    });

    test('a hand edit adopted after a layer dropped a line: the block text on record tells the edit from the dropped line; removing the project removes the record', async () => {
      await addProject('dropped');
      await admin.invoke('write_instruction_layer', { layer: 'project', project: 'dropped', name: 'rules.md', text: 'Keep this rule.\n\nDrop this rule later.\n' });
      await admin.invoke('regenerate_instructions', { project: 'dropped' });
      const file = join(host.dir('dropped'), 'CLAUDE.md');
      await writeFile(file, (await readFile(file, 'utf8')).replace('Keep this rule.', 'Keep this rule.\n\nMy own line.'));
      await admin.invoke('write_instruction_layer', { layer: 'project', project: 'dropped', name: 'rules.md', text: 'Keep this rule.\n' });

      const row = rowOf(await admin.invoke('regenerate_instructions', { project: 'dropped', adopt: true }), 'dropped');

      assert.equal(row.status, 'updated');
      assert.deepEqual(row.warnings, []);
      assert.equal(await readFile(row.adopted!, 'utf8'), 'My own line.\n');
      const claude = await host.claude('dropped');
      assert.match(inside(claude), /My own line\./);
      assert.doesNotMatch(claude, /Drop this rule later/);
      await admin.invoke('remove_project', { project: 'dropped', force: true });
      assert.deepEqual((await s.db.query('SELECT file FROM instruction_blocks WHERE project = $1', ['dropped'])).rows, []);
    });

    test('a block whose markers were deleted is found by its text on record: check says so, regenerate puts the block back in its place', async () => {
      await addProject('unmarked', '# Unmarked\n');
      await admin.invoke('regenerate_instructions', { project: 'unmarked' });
      await admin.invoke('write_instruction_layer', { layer: 'project', project: 'unmarked', name: 'rules.md', text: 'A rule written later.\n' });
      const file = join(host.dir('unmarked'), 'CLAUDE.md');
      await writeFile(file, (await readFile(file, 'utf8')).replace(/^<!-- supervisor-instructions:(begin|end)\b.*-->\n/gm, ''));

      const checked = await admin.invoke('check_instructions', { project: 'unmarked' });
      assert.match(JSON.stringify(checked), /the block's markers were deleted, and its text is still there as written/);
      await admin.invoke('regenerate_instructions', { project: 'unmarked' });
      const claude = await host.claude('unmarked');
      assert.equal(claude.split('Generated by the supervisor').length - 1, 1, claude);
      assert.match(inside(claude), /A rule written later\./);
      assert.equal(outside(claude), '\n\n# Unmarked\n');
    });

    test('a hand edit on a block older than the last regeneration (a branch checked out again) adopts only the edit: earlier bodies stay on record', async () => {
      await addProject('branched');
      await admin.invoke('write_instruction_layer', { layer: 'project', project: 'branched', name: 'rules.md', text: 'Keep this rule.\n\nDrop this rule later.\n' });
      await admin.invoke('regenerate_instructions', { project: 'branched' });
      const file = join(host.dir('branched'), 'CLAUDE.md');
      const onBranch = (await readFile(file, 'utf8')).replace('Keep this rule.', 'Keep this rule.\n\nBranch line.');
      // Meanwhile the layer drops a line, and the block is regenerated twice more.
      await admin.invoke('write_instruction_layer', { layer: 'project', project: 'branched', name: 'rules.md', text: 'Keep this rule.\n' });
      await admin.invoke('regenerate_instructions', { project: 'branched' });
      await admin.invoke('write_instruction_layer', { layer: 'project', project: 'branched', name: 'more.md', text: 'One more rule.\n' });
      await admin.invoke('regenerate_instructions', { project: 'branched' });
      await writeFile(file, onBranch);

      const row = rowOf(await admin.invoke('regenerate_instructions', { project: 'branched', adopt: true }), 'branched');

      assert.equal(row.status, 'updated');
      assert.deepEqual(row.warnings, []);
      assert.equal(await readFile(row.adopted!, 'utf8'), 'Branch line.\n');
      assert.doesNotMatch(await host.claude('branched'), /Drop this rule later/);
    });

    test('AGENTS.md is a remembered per-project choice; removing the project removes the choice, its checkout keeps it', async () => {
      await addProject('agents');
      const first = await admin.invoke('regenerate_instructions', { project: 'agents', agentsMd: true });
      assert.equal(rowOf(first, 'agents').status, 'updated');
      const agents = await readFile(join(host.dir('agents'), 'AGENTS.md'), 'utf8');
      assert.match(inside(agents), /## Secrets/);
      assert.match(inside(await host.claude('agents')), /^@AGENTS\.md$/m);
      // A run for everyone keeps the choice without being told.
      await admin.invoke('regenerate_instructions', { all: true });
      assert.equal(rowOf(await admin.invoke('check_instructions', { project: 'agents' }), 'agents').state, 'current');
      await assertRejects(admin.invoke('regenerate_instructions', { all: true, agentsMd: true }), 'invalid_input', /per project/);

      await admin.invoke('remove_project', { project: 'agents', force: true });
      const { rows: left } = await s.db.query('SELECT * FROM instruction_projects WHERE project = $1', ['agents']);
      assert.deepEqual(left, []);

      // Added again over the same checkout: its AGENTS.md block says what was chosen.
      await admin.invoke('add_project', { project: 'agents', directory: host.dir('agents') });
      assert.equal(rowOf(await admin.invoke('check_instructions', { project: 'agents' }), 'agents').state, 'current');
      assert.equal(rowOf(await admin.invoke('regenerate_instructions', { project: 'agents' }), 'agents').status, 'unchanged');
      // Turned off, the block leaves AGENTS.md and the text is in CLAUDE.md again.
      await admin.invoke('regenerate_instructions', { project: 'agents', agentsMd: false });
      await assert.rejects(readFile(join(host.dir('agents'), 'AGENTS.md'), 'utf8'), { code: 'ENOENT' });
      assert.match(inside(await host.claude('agents')), /## Secrets/);
    });

    test(".mcp.json points at the project's endpoint with ${SUPERVISOR_TOKEN}, keeping other servers", async () => {
      await addProject('mcp-cfg');
      await writeFile(join(host.dir('mcp-cfg'), '.mcp.json'), JSON.stringify({ mcpServers: { other: { command: 'x' } } }));

      const answer = await admin.invoke('write_mcp_config', { project: 'mcp-cfg' });

      assert.equal(answer.status, 'updated');
      assert.match(answer.url as string, /\/mcp\/mcp-cfg$/);
      const config = JSON.parse(await readFile(join(host.dir('mcp-cfg'), '.mcp.json'), 'utf8')) as { mcpServers: Json };
      assert.deepEqual(config.mcpServers, {
        other: { command: 'x' },
        supervisor: { type: 'http', url: answer.url, headers: { Authorization: 'Bearer ${SUPERVISOR_TOKEN}' } },
      });
      assert.equal((await admin.invoke('write_mcp_config', { project: 'mcp-cfg' })).status, 'unchanged');

      // The daemon comes back on another port: CLAUDE.md is regenerated, but .mcp.json still leads to the old one.
      await admin.invoke('regenerate_instructions', { project: 'mcp-cfg' });
      const before = (answer.url as string).replace(/\/mcp\/mcp-cfg$/, '');
      s.listeningAt('http://127.0.0.1:39999');
      try {
        await admin.invoke('regenerate_instructions', { project: 'mcp-cfg' });
        const checked = await admin.invoke('check_instructions', { project: 'mcp-cfg' });
        assert.equal(checked.ok, false);
        const row = rowOf(checked, 'mcp-cfg') as unknown as { state: string; files: Array<{ path: string; state: string; reason?: string }> };
        assert.equal(row.state, 'stale');
        assert.match(row.files.find((f) => f.path === '.mcp.json')?.reason ?? '', /points at http:\/\/127\.0\.0\.1:\d+\/mcp\/mcp-cfg, and the endpoint is http:\/\/127\.0\.0\.1:39999\/mcp\/mcp-cfg; write_mcp_config updates it/);
        await admin.invoke('write_mcp_config', { project: 'mcp-cfg' });
        assert.equal((await admin.invoke('check_instructions', { project: 'mcp-cfg' })).ok, true);
      } finally {
        s.listeningAt(before);
      }

      // A .mcp.json Claude Code cannot read loads no server, ours included: only a person mends it, so it is a warning.
      const file = join(host.dir('mcp-cfg'), '.mcp.json');
      await writeFile(file, '{bad json');
      const checked = await admin.invoke('check_instructions', { project: 'mcp-cfg' });
      const row = rowOf(checked, 'mcp-cfg') as unknown as { files: Array<{ path: string }>; warnings: string[] };
      assert.deepEqual(row.warnings, [".mcp.json is not valid JSON (Expected property name or '}' in JSON at position 1): Claude Code loads none of its MCP servers, supervisor included; fix it by hand"]);
      assert.ok(!row.files.some((f) => f.path === '.mcp.json'), 'not a file regenerate or write_mcp_config would mend');
      await assertRejects(admin.invoke('write_mcp_config', { project: 'mcp-cfg' }), 'invalid_input', /is not valid JSON/);
    });

    test('with publicUrl set, the endpoint in CLAUDE.md and .mcp.json is that address whichever daemon writes them (several behind one address)', async () => {
      await addProject('behind-proxy');
      await admin.invoke('set_setting', { name: 'publicUrl', value: 'https://supervisor.example.com/' });
      const before = httpUrl(s.config.host, s.config.port);
      try {
        await admin.invoke('regenerate_instructions', { project: 'behind-proxy' });
        const mcp = await admin.invoke('write_mcp_config', { project: 'behind-proxy' });
        assert.equal(mcp.url, 'https://supervisor.example.com/mcp/behind-proxy');
        assert.match(inside(await host.claude('behind-proxy')), /endpoint https:\/\/supervisor\.example\.com\/mcp\/behind-proxy/);
        // Another daemon on the same database, listening elsewhere, sees the same files as current.
        s.listeningAt('http://127.0.0.1:39998');
        assert.equal((await admin.invoke('check_instructions', { project: 'behind-proxy' })).ok, true);
        s.listeningAt(before);
        await assertRejects(admin.invoke('set_setting', { name: 'publicUrl', value: 'https://supervisor.example.com/?x=1' }), 'invalid_input', /publicUrl.*without a query/);
      } finally {
        await admin.invoke('set_setting', { name: 'publicUrl', unset: true });
        s.listeningAt(before);
      }
    });

    test('layers: listing in assembly order, a project layer needs its project, unknown placeholders are refused with the list', async () => {
      await addProject('layered');
      await admin.invoke('write_instruction_layer', { layer: 'project', project: 'layered', name: 'own.md', text: 'Only layered.\n' });
      const listed = await admin.invoke('list_instruction_layers', { project: 'layered' });
      const files = listed.files as Array<{ layer: string; name: string }>;
      assert.equal(files.at(-1)!.name, 'own.md');
      assert.deepEqual([...new Set(files.map((f) => f.layer))], ['core', 'project']);
      assert.ok((await admin.invoke('list_instruction_layers', {})).files);

      await assertRejects(admin.invoke('write_instruction_layer', { layer: 'project', name: 'x.md', text: 'x' }), 'invalid_input', /^layer project needs the project whose \.claude-specific\/ gets the file \(project\)$/);
      await assertRejects(admin.invoke('write_instruction_layer', { layer: 'core', name: 'x.md', text: 'x', project: 'meta' }), 'invalid_input', /^project goes only with layer project; a core layer file is read by every project$/);
      await assertRejects(
        admin.invoke('write_instruction_layer', { layer: 'core', name: 'bad.md', text: 'Hi {{project.nmae}} on {{port.range}}\n' }),
        'invalid_input',
        /unknown placeholders: \{\{project\.nmae\}\} on line 1, \{\{port\.range\}\} on line 1\. Known: /,
      );
      // Empty text (a mistaken `< /dev/null`) would take the section out of every project: refused, the file kept.
      for (const text of ['', '\n  \n']) {
        await assertRejects(admin.invoke('write_instruction_layer', { layer: 'project', project: 'layered', name: 'own.md', text }), 'invalid_input', /text: is empty: .*delete its file/);
      }
      assert.equal(await readFile(join(host.dir('layered'), '.claude-specific', 'own.md'), 'utf8'), 'Only layered.\n');
    });

    test('a project token checks, diffs and lists its own project only, and may not write', async () => {
      await addProject('tok-own');
      await addProject('tok-other');
      const own = new LocalInvoker(s, projectPrincipal('tok-own', 'token:tok-own'), 'internal');

      const checked = await own.invoke('check_instructions', {});
      assert.deepEqual(rows(checked).map((r) => r.project), ['tok-own']);
      assert.equal(rowOf(checked, 'tok-own').state, 'missing');
      // The fix the reasons name is an admin's: said, since this token is refused it.
      assert.deepEqual(rowOf(checked, 'tok-own').warnings, ['regenerate_instructions and write_mcp_config need an admin token: ask an admin to run them for this project']);
      assert.deepEqual(rowOf(await admin.invoke('check_instructions', { project: 'tok-own' }), 'tok-own').warnings, []);
      assert.deepEqual(rows(await own.invoke('diff_instructions', { project: 'tok-own' })).map((r) => r.project), ['tok-own']);
      assert.ok(await own.invoke('list_instruction_layers', {}));

      await assertRejects(own.invoke('check_instructions', { project: 'tok-other' }), 'forbidden', /project tok-own and cannot read the instructions of project tok-other/);
      await assertRejects(own.invoke('diff_instructions', { project: 'tok-other' }), 'forbidden');
      for (const [op, input] of [
        ['regenerate_instructions', { project: 'tok-own' }],
        ['write_instruction_layer', { layer: 'core', name: 'x.md', text: 'x' }],
        ['write_mcp_config', { project: 'tok-own' }],
        ['init_instructions', {}],
      ] as const) {
        await assertRejects(own.invoke(op, input), 'forbidden', new RegExp(`${op} needs an admin token`));
      }
    });

    test("a project token's layer listing names no host path outside its project; an admin's names them all", async () => {
      await addProject('tok-paths');
      await admin.invoke('write_instruction_layer', { layer: 'project', project: 'tok-paths', name: 'own.md', text: 'Own.\n' });
      const own = new LocalInvoker(s, projectPrincipal('tok-paths', 'token:tok-paths'), 'internal');
      const listed = await own.invoke('list_instruction_layers', {});
      const files = listed.files as Array<{ layer: string; name: string; path: string }>;
      assert.ok(!JSON.stringify(listed).includes(host.root), JSON.stringify(listed));
      assert.equal(listed.root, '<instructions root>');
      assert.ok(files.some((f) => f.path === `<instructions root>/.supervisor-core/${f.name}`), JSON.stringify(files));
      // Its own layer is in its own directory, which it knows.
      const directory = ((await admin.invoke('get_project', { project: 'tok-paths' })) as { directory: string }).directory;
      assert.deepEqual(files.filter((f) => f.layer === 'project').map((f) => f.path), [join(directory, '.claude-specific', 'own.md')]);
      const byAdmin = await admin.invoke('list_instruction_layers', { project: 'tok-paths' });
      assert.equal(byAdmin.root, host.root);

      // A shared layer file that cannot be used is named in problems and reasons, root hidden.
      const bad = join(host.root, '.supervisor-core', 'bad name.md');
      await writeFile(bad, 'x\n');
      try {
        const answers = [await own.invoke('list_instruction_layers', {}), await own.invoke('check_instructions', {}), await own.invoke('diff_instructions', {})];
        for (const answer of answers) {
          assert.match(JSON.stringify(answer), /<instructions root>\/\.supervisor-core\/bad name\.md/);
          assert.ok(!JSON.stringify(answer).includes(host.root), JSON.stringify(answer));
        }
        assert.ok(JSON.stringify(await admin.invoke('check_instructions', { project: 'tok-paths' })).includes(bad));
      } finally {
        await rm(bad);
      }
    });

    test("a project added at another's directory is told so, and regenerating, checking or diffing it by name refuses instead of writing the other's CLAUDE.md", async () => {
      await addProject('solo', '# Solo\n');
      await admin.invoke('regenerate_instructions', { project: 'solo' });
      const before = await host.claude('solo');
      const directory = (await admin.invoke('get_project', { project: 'solo' })).directory as string;
      const added = await admin.invoke('add_project', { project: 'solo-twin', directory });
      assert.deepEqual((added.notes as string[]).filter((n) => !n.startsWith('port range')), [`${directory} is also the directory of solo: instructions are refused for each project sharing a directory until each has its own`]);
      try {
        const shared = new RegExp(`^its directory ${directory.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is also the directory of solo; give each project its own$`);
        const regenerated = await admin.invoke('regenerate_instructions', { project: 'solo-twin' });
        assert.equal(rowOf(regenerated, 'solo-twin').status, 'failed');
        assert.match(rowOf(regenerated, 'solo-twin').reason!, shared);
        assert.equal(await host.claude('solo'), before, "solo's CLAUDE.md still names solo");
        for (const operation of ['check_instructions', 'diff_instructions']) {
          const row = rowOf(await admin.invoke(operation, { project: 'solo-twin' }), 'solo-twin');
          assert.match(row.reason!, shared, operation);
        }
        // The same folder through a link is the same directory: update_project says so as add_project does.
        const linked = `${directory}-link`;
        await symlink(directory, linked);
        await admin.invoke('add_project', { project: 'solo-link' });
        const updated = await admin.invoke('update_project', { project: 'solo-link', directory: linked });
        assert.deepEqual(updated.notes, [`${linked} is also the directory of solo, solo-twin (the same folder, reached through a link: ${directory}): instructions are refused for each project sharing a directory until each has its own`]);
        await rm(linked);
      } finally {
        await admin.invoke('remove_project', { project: 'solo-twin' });
        await admin.invoke('remove_project', { project: 'solo-link' }).catch(() => undefined);
      }
    });

    test('the audit log says a regeneration that left a project refused was not done, with its counts', async () => {
      await addProject('audited');
      await admin.invoke('regenerate_instructions', { project: 'audited' });
      const file = join(host.dir('audited'), 'CLAUDE.md');
      await writeFile(file, (await readFile(file, 'utf8')).replace('## Secrets', 'My own line.\n\n## Secrets'));
      const refused = await admin.invoke('regenerate_instructions', { project: 'audited' });
      assert.equal(refused.ok, false);
      const [latest, earlier] = (await admin.invoke('list_audit', { target: 'audited', action: 'instructions.regenerate', limit: 2 })).items as Json[];
      assert.deepEqual([latest!.outcome, (latest!.detail as Json).refused], ['error', 1]);
      assert.equal(earlier!.outcome, 'ok');
    });

    test('regenerate needs one project or all, and adopt or overwrite, not both', async () => {
      await assertRejects(admin.invoke('regenerate_instructions', {}), 'invalid_input', /give either project .* or all/);
      await assertRejects(admin.invoke('regenerate_instructions', { project: 'meta', all: true }), 'invalid_input', /give either project/);
      await assertRejects(admin.invoke('regenerate_instructions', { all: true, adopt: true, overwrite: true }), 'invalid_input', /adopt or overwrite, not both/);
    });
  });
}

test('the root defaults to <data dir>/instructions; a layer written before init is told what makes the root', async (t) => {
  const s = await openTestServices('pglite');
  t.after(() => s.close());
  const admin = new LocalInvoker(s, adminPrincipal('test-admin'), 'internal');
  await assertRejects(admin.invoke('write_instruction_layer', { layer: 'core', name: '05-x.md', text: 'x\n' }), 'not_found', /^instructions root .* does not exist; `init_instructions` creates it with the starter layers$/);
  const answer = await admin.invoke('init_instructions', {});
  assert.equal(answer.root, join(s.home, 'instructions'));
  assert.ok((answer.created as string[]).every((path) => path.startsWith(join(s.home, 'instructions', '.supervisor-'))));
});
