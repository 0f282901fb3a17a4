// Two daemons on one PostgreSQL: a loop runs in one (a real daemon process with the fake agent), and
// cancel_piv comes through the other (a load balancer's pick, another host's CLI). The daemon that
// runs the loop is the one that stops it; the cancel answers once it has, and the loop stays cancelled.
// When that daemon dies before it could, the cancel ends the loop itself.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SupervisorApp } from '../../src/app.js';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import { readDaemonInfo } from '../../src/core/daemon-info.js';
import { adminPrincipal } from '../../src/core/principal.js';
import { assertCliBuilt, cliEnv, describeResult, parseJson, runCli, startCli, type CliProcess } from '../cli/run-cli.js';
import { skipReason, terminateBackend } from '../helpers/db.js';
import { openSharedDaemons, type SharedDaemons } from '../helpers/shared-daemons.js';
import { startSilencingProxy, type SilencingProxy } from '../helpers/tcp-proxy.js';
import { fakeClaude, projectRepo, type FakeClaude } from './domain-fixture.js';
import { processGone, readPid, tempDir, waitFor } from './fixture.js';
import { FEATURE, GREETER, planRule } from './greeter.js';

type Json = Record<string, unknown>;

describe('cancel_piv through another daemon than the one running the loop [postgres]', { skip: await skipReason('postgres') }, () => {
  let fake: FakeClaude;
  let shared: SharedDaemons;
  let here: SupervisorApp;
  let home: string;
  let daemon: CliProcess;
  /** The other daemon reaches PostgreSQL through it. */
  let proxy: SilencingProxy;
  const there = async (...args: string[]): Promise<Json> => {
    const r = await runCli([...args, '--json'], { env: cliEnv(home) });
    assert.equal(r.code, 0, describeResult(r));
    return parseJson(r);
  };
  /** A loop started through the other daemon, hung in its implement phase; the agent's pid. */
  const implementing = async (t: TestContext, project: string): Promise<{ id: unknown; agent: number }> => {
    const pidFile = join(await tempDir(t), 'grandchild.pid');
    await fake.script([planRule, { match: 'IMPLEMENT phase', hang: true, grandchild: pidFile }]);
    await there('project', 'add', project, '--directory', await projectRepo(t, GREETER));
    const started = await there('piv', 'start', '--input', JSON.stringify({ project, feature: FEATURE, validationCommands: ['node check.mjs'] }));
    // Read here (the same database) rather than through a CLI process every 50 ms, which takes a core from the daemon being waited for.
    const admin = new LocalInvoker(here, adminPrincipal('test-admin'), 'internal');
    await waitFor(async () => (await admin.invoke('get_piv_status', { id: started.id })).phase === 'implement', 'the other daemon to implement', 60_000);
    return { id: started.id, agent: await readPid(pidFile) };
  };
  before(async () => {
    assertCliBuilt();
    fake = await fakeClaude();
    shared = await openSharedDaemons(1, { env: { SUPERVISOR_AGENT_COMMAND: fake.command } });
    here = shared.apps[0]!;
    // The other daemon: a process of its own on the same schema, with the same key files.
    const schema = (await shared.db.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s;
    home = await mkdtemp(join(tmpdir(), 'supervisor-cancel-elsewhere-'));
    await cp(join(here.config.home, 'keys'), join(home, 'keys'), { recursive: true });
    await cp(join(here.config.home, 'master.key'), join(home, 'master.key'));
    proxy = await startSilencingProxy();
    const url = new URL(proxy.url);
    url.searchParams.set('options', `-c search_path=${schema}`);
    daemon = startCli(['daemon'], { env: cliEnv(home, { SUPERVISOR_PORT: '0', DATABASE_URL: url.toString(), SUPERVISOR_AGENT_COMMAND: fake.command }), timeoutMs: 10 * 60_000 });
    await waitFor(async () => (await readDaemonInfo(home))?.pid === daemon.child.pid, 'the other daemon to start', 60_000);
  });
  after(async () => {
    if (daemon && daemon.child.exitCode === null) {
      daemon.child.kill('SIGTERM');
      await daemon.result;
    }
    await proxy?.close();
    await shared?.close();
    await fake?.remove();
    if (home) await rm(home, { recursive: true, force: true });
  });

  test('the daemon running the loop stops its agent, and the loop ends cancelled once, whichever daemon is asked after', async (t) => {
    const { id, agent } = await implementing(t, 'elsewhere');

    const admin = new LocalInvoker(here, adminPrincipal('test-admin'), 'internal');
    // Through this daemon, which does not run it: the one that does stops it, and the answer says it ended.
    const answered = await admin.invoke('cancel_piv', { id });
    assert.equal(answered.status, 'cancelled', JSON.stringify(answered).slice(0, 1000));
    await waitFor(() => processGone(agent), `the agent's sleep (pid ${agent}) to be gone`);
    // Both daemons say cancelled, and it stays so (the daemon that ran it wrote the end, not a later failure).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const [mine, theirs] = [await admin.invoke('get_piv_status', { id }), await there('piv', 'status', String(id))];
    assert.deepEqual([mine.status, theirs.status], ['cancelled', 'cancelled']);
    const implement = (await there('tasks', 'stats', 'piv_implement', '--project', 'elsewhere')).groups as Json[];
    assert.deepEqual(implement.map((g) => [g.cancelled, g.failed]), [[1, 0]], 'its implement task ended cancelled, not failed');
  });

  test('a project removed with force through this daemon: the daemon running its loop stops its agent, and the loop stays cancelled', async (t) => {
    const { id, agent } = await implementing(t, 'removed-elsewhere');
    const admin = new LocalInvoker(here, adminPrincipal('test-admin'), 'internal');
    await admin.invoke('remove_project', { project: 'removed-elsewhere', force: true });
    await waitFor(() => processGone(agent), `the agent's sleep (pid ${agent}) to be gone`);
    // The daemon that ran it saved its end as cancelled, not a failure of the phase its agent was killed in.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const [mine, theirs] = [await admin.invoke('get_piv_status', { id }), await there('piv', 'status', String(id))];
    assert.deepEqual([mine.status, theirs.status], ['cancelled', 'cancelled']);
    assert.equal((mine.failure as Json).reason, 'cancelled');
  });

  test('a removal the daemon running the loop did not hear (its notification connection lost) stops the loop once that daemon listens again', async (t) => {
    const { id, agent } = await implementing(t, 'unheard');
    const listener = (await proxy.backends()).find((b) => b.name === 'supervisor-listen:supervisor_piv_cancel');
    assert.ok(listener, "the other daemon's cancel listener");
    // Its connection lost, and no new one answered until the removal has committed.
    proxy.silenceNew(true);
    await terminateBackend(listener.pid);
    const admin = new LocalInvoker(here, adminPrincipal('test-admin'), 'internal');
    try {
      await admin.invoke('remove_project', { project: 'unheard', force: true });
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(await processGone(agent), false, 'the agent runs on while the cancel is unheard');
    } finally {
      proxy.silenceNew(false);
    }
    await waitFor(() => processGone(agent), `the agent's sleep (pid ${agent}) to be gone once the other daemon listens again`, 30_000);
    await waitFor(async () => (await admin.invoke('get_piv_status', { id })).status === 'cancelled', 'the loop to stay cancelled');
  });

  test('when the daemon running the loop dies before it stops it, the cancel ends the loop itself, as cancelled', async (t) => {
    const { id, agent } = await implementing(t, 'orphaned');
    // Stopped, the other daemon holds its connections (alive to the database) but hears nothing.
    daemon.child.kill('SIGSTOP');
    const admin = new LocalInvoker(here, adminPrincipal('test-admin'), 'internal');
    const answer = admin.invoke('cancel_piv', { id });
    // The cancel waits for it; then it dies without having stopped the loop.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    daemon.child.kill('SIGKILL');
    const answered = await answer;
    assert.equal(answered.status, 'cancelled', JSON.stringify(answered).slice(0, 1000));
    await waitFor(() => processGone(agent), `the agent's sleep (pid ${agent}) left by the killed daemon to be gone`);
    assert.equal((await admin.invoke('get_piv_status', { id })).status, 'cancelled');
    const implement = (await admin.invoke('get_task_stats', { type: 'piv_implement', project: 'orphaned' })).groups as Json[];
    // The phase was cut off by its daemon's death (as a daemon start would record it), the loop by the cancel.
    assert.deepEqual(implement.map((g) => [g.interrupted, g.cancelled, g.failed]), [[1, 0, 0]], 'its implement task is no longer running');
    const loop = (await admin.invoke('get_task_stats', { type: 'piv_run', project: 'orphaned' })).groups as Json[];
    assert.deepEqual(loop.map((g) => [g.cancelled, g.failed]), [[1, 0]], 'the loop task ended cancelled');
  });
});
