// A daemon that stops mid-loop never leaves the loop "running" for ever. The real daemon runs as
// a child process on its embedded database (as `npm start` does), the fake agent as its Claude
// Code command; it is killed with SIGKILL (a crash) or stopped with SIGTERM in the middle of
// Implement, then started again on the same data dir.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDaemonInfo } from '../../src/core/daemon-info.js';
import { dataDirFiles } from '../../src/core/datadir.js';
import { openPglite } from '../../src/core/db-pglite.js';
import { assertCliBuilt, cliEnv, describeResult, parseJson, runCli, startCli, type CliProcess } from '../cli/run-cli.js';
import { fakeClaude, projectRepo, type FakeClaude } from './domain-fixture.js';
import { processGone, readPid, tempDir, waitFor } from './fixture.js';
import { FEATURE, GOOD, GREETER, planRule } from './greeter.js';

type Json = Record<string, unknown>;

describe('PIV loops across daemon restarts', () => {
  let fake: FakeClaude;
  before(async () => {
    assertCliBuilt();
    fake = await fakeClaude();
  });
  after(() => fake.remove());

  /** A data dir whose daemon runs the fake agent; `extra` settings on top. */
  async function dataDir(t: { after(fn: () => Promise<void>): void }, extra: Record<string, string> = {}) {
    const home = await mkdtemp(join(tmpdir(), 'supervisor-piv-restart-'));
    const env = cliEnv(home, { SUPERVISOR_PORT: '0', SUPERVISOR_AGENT_COMMAND: fake.command, ...extra });
    const daemons: CliProcess[] = [];
    t.after(async () => {
      for (const d of daemons) if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
      await rm(home, { recursive: true, force: true });
    });
    const cli = async (...args: string[]): Promise<Json> => {
      const r = await runCli([...args, '--json'], { env });
      assert.equal(r.code, 0, describeResult(r));
      return parseJson(r);
    };
    return {
      home,
      env,
      cli,
      async start(): Promise<CliProcess> {
        const daemon = startCli(['daemon'], { env, timeoutMs: 10 * 60_000 });
        daemons.push(daemon);
        await waitFor(async () => (await readDaemonInfo(home))?.pid === daemon.child.pid, 'the daemon to write daemon.json', 60_000);
        return daemon;
      },
      status: (id: unknown) => cli('piv', 'status', String(id)),
      /** How a project's piv_implement tasks ended, from get_task_stats. */
      async implementOutcomes(project: string): Promise<Json> {
        const [group] = (await cli('tasks', 'stats', 'piv_implement', '--project', project)).groups as Json[];
        return { succeeded: group?.succeeded, failed: group?.failed, cancelled: group?.cancelled, interrupted: group?.interrupted };
      },
      /**
       * get_piv_status until `check` holds. Asked over REST rather than with a CLI process each time:
       * starting node every 50 ms takes most of a core from the loop being waited for.
       */
      async until(id: unknown, check: (s: Json) => boolean, what: string): Promise<Json> {
        let last: Json = {};
        const look = async (): Promise<boolean> => {
          const info = await readDaemonInfo(home);
          if (!info) return false;
          const answer = await fetch(`${info.url}/api/v1/piv?id=${String(id)}`, { headers: { authorization: `Bearer ${info.token}` } }).catch(() => undefined);
          if (answer?.status !== 200) return false;
          return check((last = (await answer.json()) as Json));
        };
        // The last status is read when giving up, not when starting to wait.
        await waitFor(look, what, 60_000).catch((err: Error) => {
          throw new Error(`${err.message} (last status: ${JSON.stringify(last).slice(0, 500)})`);
        });
        return last;
      },
    };
  }

  test('without a daemon the CLI refuses to start a loop: it would die with the command', async (t) => {
    await fake.script([planRule, { match: 'IMPLEMENT phase', ...GOOD }]);
    const repo = await projectRepo(t, GREETER);
    const home = await dataDir(t);
    await home.cli('project', 'add', 'local', '--directory', repo);
    const r = await runCli(['piv', 'start', 'local', FEATURE], { env: home.env });
    assert.equal(r.code, 1, describeResult(r));
    assert.match(r.stderr, /unavailable: PIV loops run in the daemon, and it is not running; start it/);
    assert.deepEqual((await home.cli('piv', 'list')).items, []);
    assert.deepEqual(await fake.calls(repo), []);
  });

  test('piv start --wait-seconds: a loop that ends failed prints its answer and exits 1, for scripts', async (t) => {
    await fake.script([planRule, { match: 'IMPLEMENT phase', ...GOOD }]);
    const repo = await projectRepo(t, GREETER);
    const home = await dataDir(t);
    await home.start();
    await home.cli('project', 'add', 'failing', '--directory', repo);
    const r = await runCli(['piv', 'start', '--input', JSON.stringify({ project: 'failing', feature: FEATURE, validationCommands: ['exit 3'], maxRetries: 0, waitSeconds: 50 }), '--json'], { env: home.env });
    assert.equal(r.code, 1, describeResult(r));
    assert.equal(parseJson(r).status, 'failed');
  });

  test('killed with SIGKILL mid-implement: the next start kills the agent it left and resumes the loop from implement', async (t) => {
    const pidFile = join(await tempDir(t), 'grandchild.pid');
    await fake.script([planRule, { match: 'IMPLEMENT phase', attempts: [{ hang: true, grandchild: pidFile }, GOOD] }]);
    const repo = await projectRepo(t, GREETER);
    const home = await dataDir(t);
    const first = await home.start();
    await home.cli('project', 'add', 'crashy', '--directory', repo);
    const started = await home.cli('piv', 'start', '--input', JSON.stringify({ project: 'crashy', feature: FEATURE, validationCommands: ['node check.mjs'] }));
    const speaking = await home.until(started.id, (s) => s.phase === 'implement' && (s.lastLines as string[]).some((l) => l.startsWith('[implement]')), 'the implement agent to speak');
    assert.equal(speaking.note, undefined, 'its daemon runs it');
    const grandchild = await readPid(pidFile);

    first.child.kill('SIGKILL');
    await first.result;
    assert.equal(await processGone(grandchild), false, 'a crashed daemon cannot stop its agent: it is still running');
    // Still marked running, with no daemon: the status says it is interrupted, and why, rather than look alive.
    const orphan = await home.status(started.id);
    assert.equal(orphan.status, 'interrupted');
    assert.match(String(orphan.note), /^no daemon runs this loop now: the one that ran it stopped without ending it .*; a daemon start resumes it/);
    // A wait for its end would wait for nothing: it ends at once, saying so, exit 1.
    const waited = await runCli(['piv', 'status', String(started.id), '--wait'], { env: home.env });
    assert.equal(waited.code, 1, describeResult(waited));
    assert.match(waited.stdout, /^status: +interrupted$/m);
    assert.match(waited.stdout, /no daemon runs this loop now/);

    await home.start();
    const done = await home.until(started.id, (s) => !['queued', 'running'].includes(String(s.status)), 'the resumed loop to finish');

    assert.equal(done.status, 'succeeded', JSON.stringify(done.failure));
    await waitFor(() => processGone(grandchild), `the crashed daemon's agent (its sleep, pid ${grandchild}) to be stopped`);
    assert.ok((done.progress as Json[]).some((e) => e.message === 'the daemon restarted; the loop resumes at implement'), JSON.stringify(done.progress));
    const prompts = (await fake.calls(repo)).map((c) => c.prompt.split('\n')[0]);
    assert.deepEqual(prompts, ['PLAN phase.', 'IMPLEMENT phase.', 'IMPLEMENT phase.'], 'Plan is not run again');
    assert.equal((done.commits as unknown[]).length, 1);
    // The implement the crash cut off neither failed nor was cancelled: task stats count it interrupted.
    assert.deepEqual(await home.implementOutcomes('crashy'), { succeeded: 1, failed: 0, cancelled: 0, interrupted: 1 });
  });

  test('killed with SIGKILL mid-validation, before it recorded the command: the next start finds the command by its mark, kills it and validates again', async (t) => {
    const scratch = await tempDir(t);
    const [marker, pidFile] = [join(scratch, 'validated-once'), join(scratch, 'validation.pid')];
    // The first validation hangs (its shell's pid written down); the one after the restart passes.
    const validation = `test -f ${marker} && node check.mjs || { touch ${marker}; echo $$ > ${pidFile}; sleep 600; }`;
    await fake.script([planRule, { match: 'IMPLEMENT phase', ...GOOD }]);
    const repo = await projectRepo(t, GREETER);
    const home = await dataDir(t);
    const first = await home.start();
    await home.cli('project', 'add', 'hangs', '--directory', repo);
    const started = await home.cli('piv', 'start', '--input', JSON.stringify({ project: 'hangs', feature: FEATURE, validationCommands: [validation] }));
    const shell = await readPid(pidFile);

    first.child.kill('SIGKILL');
    await first.result;
    assert.equal(await processGone(shell), false, 'the validation command outlives a crashed daemon');
    // As if the daemon had died between starting the command and recording its process group.
    const db = await openPglite({ dataDir: dataDirFiles(home.home).db });
    await db.query('UPDATE piv_runs SET agent_group = NULL');
    await db.close();

    await home.start();
    const done = await home.until(started.id, (s) => !['queued', 'running'].includes(String(s.status)), 'the resumed loop to finish');
    assert.equal(done.status, 'succeeded', JSON.stringify(done.failure));
    await waitFor(() => processGone(shell), `the validation command a crash left (pid ${shell}) to be stopped`);
    assert.ok((done.progress as Json[]).some((e) => e.message === 'the daemon restarted; the loop resumes at validate'), JSON.stringify(done.progress));
  });

  test('killed with SIGKILL after recording its learning but before saving its final state: the resumed loop keeps one learning', async (t) => {
    await fake.script([planRule, { match: 'IMPLEMENT phase', ...GOOD }]);
    const repo = await projectRepo(t, GREETER);
    const home = await dataDir(t);
    const first = await home.start();
    await home.cli('project', 'add', 'twice', '--directory', repo);
    const started = await home.cli('piv', 'start', '--input', JSON.stringify({ project: 'twice', feature: FEATURE, validationCommands: ['node check.mjs'] }));
    await home.until(started.id, (s) => s.status === 'succeeded', 'the loop to succeed');
    first.child.kill('SIGKILL');
    await first.result;
    // What such a kill leaves: the learning and the commit made, the state saved last still
    // the one before the commit phase, the row running under the dead daemon.
    const db = await openPglite({ dataDir: dataDirFiles(home.home).db });
    await db.query(
      `UPDATE piv_runs SET status = 'running', phase = 'commit', finished_at = NULL,
         state = jsonb_set(jsonb_set(state - 'finishedAt', '{status}', '"running"'), '{next}', '"commit"')`,
    );
    await db.close();

    const second = await home.start();
    const done = await home.until(started.id, (s) => !['queued', 'running'].includes(String(s.status)), 'the resumed loop to finish');
    assert.equal(done.status, 'succeeded', JSON.stringify(done.failure));
    assert.ok((done.progress as Json[]).some((e) => e.message === 'the commit was already made; not committing again'), JSON.stringify(done.progress));
    // Its task was ended before the kill: ending it again is no failure to log.
    assert.doesNotMatch(second.stderr(), /could not record PIV task timing/);
    const { results } = await home.cli('knowledge', 'search', '--input', JSON.stringify({ query: 'greet people by name', project: 'twice' }));
    assert.deepEqual((results as Json[]).map((r) => r.title), [`PIV loop: ${FEATURE}`], 'one learning per loop');
  });

  test('stopped with SIGTERM mid-implement, started with resume-on-start off: interrupted, a file someone adds meanwhile refused, and resume_piv finishes it', async (t) => {
    const pidFile = join(await tempDir(t), 'grandchild.pid');
    await fake.script([planRule, { match: 'IMPLEMENT phase', attempts: [{ hang: true, grandchild: pidFile, writes: { 'half.txt': 'half done\n' } }, GOOD] }]);
    const repo = await projectRepo(t, GREETER);
    const home = await dataDir(t, { SUPERVISOR_PIV_RESUME_ON_START: 'false' });
    const first = await home.start();
    await home.cli('project', 'add', 'stoppy', '--directory', repo);
    const started = await home.cli('piv', 'start', '--input', JSON.stringify({ project: 'stoppy', feature: FEATURE, validationCommands: ['node check.mjs'] }));
    await home.until(started.id, (s) => s.phase === 'implement' && (s.lastLines as string[]).some((l) => l.startsWith('[implement]')), 'the implement agent to speak');
    const grandchild = await readPid(pidFile);

    first.child.kill('SIGTERM');
    assert.equal((await first.result).code, 0);
    // A clean stop kills the agent's whole group before the daemon exits.
    await waitFor(() => processGone(grandchild), `the agent's sleep (pid ${grandchild}) to be stopped with the daemon`);
    // Someone works in the checkout while the daemon is down: not the cut-off phase's work, so not the loop's to commit.
    await writeFile(join(repo, 'notes.txt'), 'mine\n');

    await home.start();
    const interrupted = await home.status(started.id);
    assert.equal(interrupted.status, 'interrupted');
    assert.equal(interrupted.phase, 'implement');

    const refused = await runCli(['piv', 'resume', String(started.id), '--json'], { env: home.env });
    assert.notEqual(refused.code, 0, describeResult(refused));
    assert.match(refused.stderr, new RegExp(`has uncommitted changes that PIV loop ${started.id} did not make \\(notes\\.txt\\)`), describeResult(refused));
    assert.equal((await home.status(started.id)).status, 'interrupted');
    await rm(join(repo, 'notes.txt'));

    const resumed = await home.cli('piv', 'resume', String(started.id), '--wait-seconds', '50');
    assert.equal(resumed.status, 'succeeded', JSON.stringify(resumed.failure));
    // The implement the shutdown cut short was no attempt, and no cancel: no retry is used up, the log says why it stopped.
    assert.equal(resumed.retries, 0);
    // The whole log (progressEntries), not only its last 10 entries.
    const whole = await home.cli('piv', 'status', String(started.id), '--progress-entries', '100');
    assert.ok((whole.progress as Json[]).length > 10);
    const messages = (whole.progress as Json[]).map((e) => String(e.message));
    assert.ok(messages.some((m) => m.startsWith("loop stopped by the daemon's shutdown: ")), messages.join('\n'));
    // What the cut-off implement left is the loop's to go on with, not to be discarded.
    assert.ok(messages.some((m) => m.startsWith('left uncommitted on ') && m.includes(': half.txt; the loop goes on with them when it resumes')), messages.join('\n'));
    assert.ok(!messages.some((m) => m.includes('discard them')), messages.join('\n'));
    assert.ok(!messages.some((m) => m.startsWith('loop cancelled')), messages.join('\n'));
    // Nobody cancelled the implement the shutdown cut off: task stats count it interrupted, not cancelled, and so do the loop's own timings.
    assert.deepEqual(await home.implementOutcomes('stoppy'), { succeeded: 1, failed: 0, cancelled: 0, interrupted: 1 });
    assert.deepEqual(
      (whole.timings as Json[]).filter((x) => x.phase === 'implement').map((x) => `${String(x.attempt)}:${String(x.outcome)}`),
      ['1:interrupted', '1:ok'],
    );
    assert.deepEqual(
      (await fake.calls(repo)).map((c) => c.prompt.split('\n')[0]),
      ['PLAN phase.', 'IMPLEMENT phase.', 'IMPLEMENT phase.'],
    );
  });
});
