// The agent domain's tests run the real daemon code with the scripted fake agent standing in for
// Claude Code: a small executable wrapper names the fake's script, and the setting
// SUPERVISOR_AGENT_COMMAND points at the wrapper, exactly as it would point at `claude`.
import type { TestContext } from 'node:test';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queryable } from '../../src/core/db.js';
import { FAKE_AGENT, git, gitRepo, type FakeCall, type FakeRule } from './fixture.js';
import { FEATURE } from './greeter.js';

export interface FakeClaude {
  /** The executable to give as SUPERVISOR_AGENT_COMMAND. */
  command: string;
  /** Every run in `cwd` so far, oldest first. */
  calls(cwd: string): Promise<FakeCall[]>;
  /** Sets what the next runs do (and starts the attempt counts again). */
  script(rules: FakeRule[]): Promise<void>;
  remove(): Promise<void>;
}

export async function fakeClaude(rules: FakeRule[] = []): Promise<FakeClaude> {
  const dir = await mkdtemp(join(tmpdir(), 'supervisor-fake-claude-'));
  const scriptFile = join(dir, 'script.json');
  const log = join(dir, 'calls.jsonl');
  const command = join(dir, 'claude');
  const script = async (next: FakeRule[]) => {
    await rm(`${scriptFile}.state.json`, { force: true });
    await writeFile(scriptFile, JSON.stringify({ log, rules: next }));
  };
  await script(rules);
  await writeFile(command, `#!/bin/sh\nFAKE_AGENT_SCRIPT='${scriptFile}' exec '${process.execPath}' '${FAKE_AGENT}' "$@"\n`);
  await chmod(command, 0o755);
  const calls = async (cwd: string) =>
    existsSync(log)
      ? (await readFile(log, 'utf8'))
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as FakeCall)
          .filter((c) => c.cwd === cwd)
      : [];
  return { command, calls, script, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A git repository with its own committer identity, as a project's checkout. */
export async function projectRepo(t: TestContext, files: Record<string, string>): Promise<string> {
  const dir = await gitRepo(t, files);
  await git(dir, 'config', 'user.name', 'PIV Test');
  await git(dir, 'config', 'user.email', 'piv-test@example.invalid');
  return dir;
}

/** The owner of a loop whose daemon ran on this host and is gone: its pid is now another process's (this one's, started at another time). */
export const GONE_DAEMON_HERE = `${hostname()}:${process.pid}:0`;

/** A loop of `project` as a daemon `owner` left it in the database, without a state; its id. */
export async function insertRun(db: Queryable, run: { project: string; status: 'queued' | 'running'; phase: string; owner: string }): Promise<string> {
  const id = randomUUID();
  await db.query(
    `INSERT INTO piv_runs (id, project, feature, status, phase, owner, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'test', now(), now())`,
    [id, run.project, FEATURE, run.status, run.phase, run.owner],
  );
  return id;
}
