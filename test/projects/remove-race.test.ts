/**
 * A write under a project (a token, a grant, a task, a note) racing that project's removal
 * on PostgreSQL: either the write fails as not_found, or the removal sees what was written
 * (and refuses, without force). Never a live row for a project that no longer exists, which a
 * later project of that name would inherit (a token for it, a grant into its secrets).
 *
 * The race is pinned: the write's INSERT is held back (after whatever check it made of the
 * project) while the removal runs, then let go.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import type { Db, Queryable } from '../../src/core/db.js';
import { adminPrincipal } from '../../src/core/principal.js';
import { skipReason } from '../helpers/db.js';
import { isError } from '../helpers/errors.js';
import { openTestServices, type TestServices } from '../helpers/services.js';
import { within } from '../helpers/wait.js';
import { fakeClaude, projectRepo, type FakeClaude } from '../agent/domain-fixture.js';
import { FEATURE, GREETER } from '../agent/greeter.js';

/** Each write races the removal of a project of its own, so one's leftovers cannot decide another's outcome. */
const writes: Array<{ label: string; project: string; table: string; live: string; call: (op: LocalInvoker, project: string) => Promise<unknown>; directory?: (t: TestContext) => Promise<string> }> = [
  { label: 'create_token', project: 'racer-token', table: 'tokens', live: 'revoked_at IS NULL', call: (op: LocalInvoker, project: string) => op.invoke('create_token', { name: 'late', project }) },
  { label: 'grant_secret_access', project: 'racer-grant', table: 'secret_grants', live: 'true', call: (op: LocalInvoker, project: string) => op.invoke('grant_secret_access', { project, prefix: 'meta/cloudflare/' }) },
  { label: 'start_task', project: 'racer-task', table: 'tasks', live: 'true', call: (op: LocalInvoker, project: string) => op.invoke('start_task', { type: 'deploy', project }) },
  { label: 'add_knowledge', project: 'racer-note', table: 'knowledge_docs', live: 'true', call: (op: LocalInvoker, project: string) => op.invoke('add_knowledge', { project, title: 'late note', text: 'written while the project went' }) },
  { label: 'configure_piv', project: 'racer-piv-conf', table: 'piv_projects', live: 'true', call: (op: LocalInvoker, project: string) => op.invoke('configure_piv', { project, validationCommands: ['npm test'] }) },
  {
    // A loop let in after its project went would run a coding agent in the directory of a removed project.
    label: 'start_piv',
    project: 'racer-piv',
    table: 'piv_runs',
    live: "status IN ('queued', 'running', 'interrupted')",
    call: (op: LocalInvoker, project: string) => op.invoke('start_piv', { project, feature: FEATURE, validationCommands: ['node check.mjs'] }),
    directory: (t) => projectRepo(t, GREETER),
  },
];

describe('a write racing the removal of its project [postgres]', { skip: await skipReason('postgres') }, () => {
  let s: TestServices;
  let op: LocalInvoker;
  let fake: FakeClaude;
  /** The INSERT into this table waits for `open` (then the gate is gone). */
  let gate: { table: string; reached: boolean; open: () => void; opened: Promise<void> } | undefined;
  /** The server process of the removal's transaction, once it has begun. */
  let removalPid: number | undefined;

  const before_ = async (sql: string, q: Queryable) => {
    if (gate && sql.startsWith(`INSERT INTO ${gate.table} `)) {
      const { opened } = gate;
      gate.reached = true;
      await opened;
    }
    if (/FROM projects WHERE name = \$1 FOR UPDATE/.test(sql)) removalPid = (await q.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  };
  const gated = (db: Db): Db => ({
    ...db,
    kind: db.kind,
    query: async (sql, params) => (await before_(sql, db), db.query(sql, params)),
    transaction: (fn, options) => db.transaction((tx) => fn({ exec: (sql) => tx.exec(sql), query: async (sql, params) => (await before_(sql, tx), tx.query(sql, params)) }), options),
  });

  before(async () => {
    // A coding agent that is never asked to do anything: the loops here are cancelled with their project.
    fake = await fakeClaude();
    s = await openTestServices('postgres', { SUPERVISOR_AGENT_COMMAND: fake.command }, { wrapDb: gated });
    op = new LocalInvoker(s, adminPrincipal('test-admin'), 'internal');
  });
  after(async () => {
    await s.close();
    await fake.remove();
  });

  const settle = (p: Promise<unknown>) => p.then((value) => ({ value }), (error: unknown) => ({ error }));
  const liveRows = async (write: (typeof writes)[number]) =>
    (await s.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${write.table} WHERE project = $1 AND ${write.live}`, [write.project])).rows[0]!.n;

  for (const write of writes) {
    const PROJECT = write.project;
    test(`${write.label}: the write is refused, or the removal finds it; nothing is left for a removed project`, async (t) => {
      const directory = await write.directory?.(t);
      await op.invoke('add_project', { project: PROJECT, directory });
      let open = () => undefined as void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      gate = { table: write.table, reached: false, open, opened };
      const written = settle(write.call(op, write.project));
      await within(10_000, `${write.label} at its INSERT`, () => gate!.reached);
      removalPid = undefined;
      let removalDone = false;
      const removed = settle(op.invoke('remove_project', { project: PROJECT })).finally(() => (removalDone = true));
      // The removal either finishes (nothing stops it) or waits for the write's transaction.
      const waiting = async () => removalPid !== undefined && (await s.db.query<{ w: string | null }>('SELECT wait_event_type AS w FROM pg_stat_activity WHERE pid = $1', [removalPid])).rows[0]?.w === 'Lock';
      await within(10_000, 'the removal done, or waiting for the write', async () => removalDone || (await waiting()));
      gate.open();
      gate = undefined;
      const [w, r] = await Promise.all([written, removed]);

      const exists = (await s.db.query('SELECT 1 FROM projects WHERE name = $1', [PROJECT])).rowCount > 0;
      if (exists) {
        assert.ok('error' in r && isError('conflict', /still owns/)(r.error), `the removal refused: ${JSON.stringify(r)}`);
        assert.ok('value' in w, 'the write went in before the removal looked');
        await op.invoke('remove_project', { project: PROJECT, force: true });
      } else {
        const left = await liveRows(write);
        assert.equal(left, 0, `${write.label} left ${left} live row(s) for the removed project ${PROJECT}`);
        // Refused, or written before the removal looked and released with the project (a loop's settings).
        assert.ok('value' in w || isError('not_found')(w.error), `the write failed otherwise: ${JSON.stringify(w)}`);
      }
      // Either way, a later project of that name starts with nothing of the earlier one's.
      await op.invoke('add_project', { project: PROJECT });
      assert.equal(await liveRows(write), 0, `a new ${PROJECT} inherited rows of ${write.table}`);
      await op.invoke('remove_project', { project: PROJECT, force: true });
    });
  }
});
