// `npm run demo:piv`: one PIV loop end to end without an Anthropic account. A temporary git
// repository (a tiny greeter project whose check fails until greet() uses the name), a temporary
// data dir, the real supervisor domains on its embedded database, and the scripted fake agent
// (test/fakes/agent/fake-agent.mjs) as the Claude Code command: its first implementation fails
// validation, the retry is told why and fixes it. Prints the phases as they happen and the result,
// then removes everything (`--keep` leaves the repository and data dir to look at).
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, openApp, type SupervisorApp } from '../src/app.js';
import { LocalInvoker } from '../src/catalog/local-invoker.js';
import { createLogger } from '../src/core/log.js';
import { openDatabase } from '../src/core/open-db.js';
import { adminPrincipal } from '../src/core/principal.js';

const keep = process.argv.slice(2).includes('--keep');
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const FAKE_AGENT = join(repoRoot, 'test', 'fakes', 'agent', 'fake-agent.mjs');
const PROJECT = 'greeter';
const FEATURE = 'Greet people by name';

const FILES: Record<string, string> = {
  'README.md': '# Greeter\n\nSays hello.\n',
  'package.json': `${JSON.stringify({ name: 'greeter', private: true, scripts: { test: 'node check.mjs' } }, null, 2)}\n`,
  'check.mjs': "import { greet } from './greet.mjs';\nconst got = greet('Ada');\nif (got !== 'Hello, Ada!') { console.error(`expected \"Hello, Ada!\", got ${JSON.stringify(got)}`); process.exit(1); }\nconsole.log('check passed');\n",
  'greet.mjs': "export const greet = () => 'Hi';\n",
};

/** What the fake agent does: a plan, then a first attempt that fails the check, then the fix. */
const SCRIPT = {
  rules: [
    { match: 'PLAN phase', text: '1. Make greet(name) in greet.mjs return "Hello, <name>!".\n2. check.mjs already covers it.', turns: 2, costUsd: 0.01 },
    {
      match: 'IMPLEMENT phase',
      attempts: [
        { text: 'greet() now says hello.', writes: { 'greet.mjs': "export const greet = () => 'Hello!';\n" } },
        { text: 'Fixed: greet() uses the name.', writes: { 'greet.mjs': 'export const greet = (name) => `Hello, ${name}!`;\n' } },
      ],
    },
  ],
};

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let app: SupervisorApp | undefined;
const temp: string[] = [];

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'supervisor-piv-demo-'));
  temp.push(work);
  const [repo, home, fake] = ['greeter', 'data', 'fake-claude'].map((d) => join(work, d)) as [string, string, string];

  // 1. The project's repository.
  await mkdir(repo);
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'config', 'user.name', 'PIV Demo');
  git(repo, 'config', 'user.email', 'piv-demo@example.invalid');
  for (const [path, text] of Object.entries(FILES)) await writeFile(join(repo, path), text);
  git(repo, 'add', '--', ...Object.keys(FILES));
  git(repo, 'commit', '-q', '-m', 'Greeter that ignores names');

  // 2. The fake agent as the "claude" command.
  await mkdir(fake);
  await writeFile(join(fake, 'script.json'), JSON.stringify(SCRIPT));
  const command = join(fake, 'claude');
  await writeFile(command, `#!/bin/sh\nFAKE_AGENT_SCRIPT='${join(fake, 'script.json')}' exec '${process.execPath}' '${FAKE_AGENT}' "$@"\n`);
  await chmod(command, 0o755);

  // 3. The supervisor's domains on an embedded database in a fresh data dir (never the user's).
  const config = loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_AGENT_COMMAND: command, SUPERVISOR_LOG_LEVEL: 'warn' });
  await mkdir(home, { mode: 0o700 });
  app = await openApp({ config, db: await openDatabase(config), log: createLogger('warn') });
  const admin = new LocalInvoker(app, adminPrincipal('demo'), 'internal');

  console.log(`\nSupervisor PIV demo: a loop in ${repo}, the fake agent standing in for Claude Code.\n`);
  await admin.invoke('add_project', { project: PROJECT, directory: repo, description: 'the PIV demo project' });
  const estimate = await admin.invoke('estimate_task', { type: 'piv_run', project: PROJECT });
  console.log(`estimate_task piv_run: ${estimate.status} (${estimate.rule ?? ''})`);

  const started = await admin.invoke('start_piv', { project: PROJECT, feature: FEATURE });
  console.log(`start_piv → loop ${started.id} on ${started.branch} (validation detected from package.json)\n`);

  // 4. Follow it as an agent would, with get_piv_status.
  let status = started;
  while (['queued', 'running'].includes(String(status.status))) {
    await sleep(200);
    status = await admin.invoke('get_piv_status', { id: started.id });
    printNew(status.progress as Progress[]);
  }

  const validation = status.validation as { ok: boolean; commands: string[]; output: string } | null;
  const timings = (status.timings as Array<{ phase: string; attempt: number; durationMs: number; outcome: string }>) ?? [];
  const learnings = (await admin.invoke('search_knowledge', { query: FEATURE, project: PROJECT, withText: true })).results as Array<{ title: string; text: string }>;
  const stats = (await admin.invoke('get_task_stats', { project: PROJECT })).groups as Array<{ type: string; count: number; meanMs: number | null }>;

  console.log(
    [
      '',
      `Result: ${status.status} on ${status.branch} after ${status.retries} retry (${status.turns} agent turns, $${Number(status.costUsd).toFixed(4)})`,
      `  commits:        ${(status.commits as Array<{ sha: string; subject: string }>).map((c) => `${c.sha.slice(0, 10)} ${c.subject}`).join('; ')}`,
      `  files changed:  ${(status.filesChanged as string[]).join(', ')}`,
      `  validation:     ${validation?.commands.join(', ')} → ${validation?.ok ? 'passed' : 'failed'}: ${validation?.output.trim()}`,
      `  timings:        ${timings.map((x) => `${x.phase}${x.attempt ? `#${x.attempt}` : ''} ${x.durationMs} ms${x.outcome === 'ok' ? '' : ` (${x.outcome})`}`).join(', ')}`,
      '',
      `Learning stored in the project's knowledge (primed into its next loops):`,
      ...(learnings[0]?.text ?? '(none)').split('\n').map((l) => `  ${l}`),
      '',
      'Task timing recorded (get_task_stats):',
      ...stats.map((g) => `  ${g.type.padEnd(14)} ${g.count} finished, mean ${g.meanMs} ms`),
      '',
      `git log main..${status.branch} in the repository:`,
      ...git(repo, 'log', '--format=%h %s', `main..${String(status.branch)}`).split('\n').map((l) => `  ${l}`),
      '',
      keep ? `--keep: the repository and data dir stay in ${work}.` : `Removing ${work}.`,
    ].join('\n'),
  );
  if (status.status !== 'succeeded') process.exitCode = 1;
}

type Progress = { at: string; phase: string; message: string };
const printed = new Set<string>();
/** The status carries the last lines of the progress log; each is printed once. */
function printNew(progress: Progress[]): void {
  for (const e of progress) {
    const key = `${e.at}|${e.phase}|${e.message}`;
    if (printed.has(key)) continue;
    printed.add(key);
    console.log(`  [${e.phase}] ${e.message}`);
  }
}

try {
  await main();
} catch (err) {
  console.error(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
} finally {
  await app?.close();
  if (!keep) for (const dir of temp) await rm(dir, { recursive: true, force: true });
}
