// Two daemons on one PostgreSQL: a loop runs in one (a real daemon process with the fake agent), and
// cancel_piv comes through the other (a load balancer's pick, another host's CLI). The daemon that
// runs the loop is the one that stops it; the cancel answers once it has, and the loop stays cancelled.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SupervisorApp } from '../../src/app.js';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import { readDaemonInfo } from '../../src/core/daemon-info.js';
import { adminPrincipal } from '../../src/core/principal.js';
import { assertCliBuilt, cliEnv, describeResult, parseJson, runCli, startCli, type CliProcess } from '../cli/run-cli.js';
import { skipReason, TEST_DATABASE_URL } from '../helpers/db.js';
import { openSharedDaemons, type SharedDaemons } from '../helpers/shared-daemons.js';
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
    const url = new URL(TEST_DATABASE_URL);
    url.searchParams.set('options', `-c search_path=${schema}`);
    daemon = startCli(['daemon'], { env: cliEnv(home, { SUPERVISOR_PORT: '0', DATABASE_URL: url.toString(), SUPERVISOR_AGENT_COMMAND: fake.command }), timeoutMs: 10 * 60_000 });
    await waitFor(async () => (await readDaemonInfo(home))?.pid === daemon.child.pid, 'the other daemon to start', 60_000);
  });
  after(async () => {
    if (daemon && daemon.child.exitCode === null) {
      daemon.child.kill('SIGTERM');
      await daemon.result;
    }
    await shared?.close();
    await fake?.remove();
    if (home) await rm(home, { recursive: true, force: true });
  });

  test('the daemon running the loop stops its agent, and the loop ends cancelled once, whichever daemon is asked after', async (t) => {
    const pidFile = join(await tempDir(t), 'grandchild.pid');
    await fake.script([planRule, { match: 'IMPLEMENT phase', hang: true, grandchild: pidFile }]);
    const repo = await projectRepo(t, GREETER);
    const there = async (...args: string[]): Promise<Json> => {
      const r = await runCli([...args, '--json'], { env: cliEnv(home) });
      assert.equal(r.code, 0, describeResult(r));
      return parseJson(r);
    };
    await there('project', 'add', 'elsewhere', '--directory', repo);
    const started = await there('piv', 'start', '--input', JSON.stringify({ project: 'elsewhere', feature: FEATURE, validationCommands: ['node check.mjs'] }));
    await waitFor(async () => (await there('piv', 'status', String(started.id))).phase === 'implement', 'the other daemon to implement', 60_000);
    const agent = await readPid(pidFile);

    const admin = new LocalInvoker(here, adminPrincipal('test-admin'), 'internal');
    // Through this daemon, which does not run it: the one that does stops it, and the answer says it ended.
    const answered = await admin.invoke('cancel_piv', { id: started.id });
    assert.equal(answered.status, 'cancelled', JSON.stringify(answered).slice(0, 1000));
    await waitFor(() => processGone(agent), `the agent's sleep (pid ${agent}) to be gone`);
    // Both daemons say cancelled, and it stays so (the daemon that ran it wrote the end, not a later failure).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const [mine, theirs] = [await admin.invoke('get_piv_status', { id: started.id }), await there('piv', 'status', String(started.id))];
    assert.deepEqual([mine.status, theirs.status], ['cancelled', 'cancelled']);
    const implement = (await there('tasks', 'stats', 'piv_implement', '--project', 'elsewhere')).groups as Json[];
    assert.deepEqual(implement.map((g) => [g.cancelled, g.failed]), [[1, 0]], 'its implement task ended cancelled, not failed');
  });
});
