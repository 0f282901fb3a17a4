import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { TEST_DATABASE_URL } from '../test/helpers/db.js';
import { DAEMON_NODE_FLAGS } from '../src/cli/entry.js';

export const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
/** The installed command (package.json bin): what people and Claude Code start. */
export const BIN = new URL('../dist/cli/supervisor.cjs', import.meta.url).pathname;

export interface ChildDaemon {
  pid: number;
  url: string;
  adminToken: string;
  home: string;
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/**
 * The built daemon in its own process (so load generators do not share its event
 * loop), on a fresh PostgreSQL schema and a temp data dir — or, with `embedded`, on
 * the embedded database in `home` (kept on close, so a second start is a restart).
 */
export async function startChildDaemon(options: { embedded?: { home: string } } = {}): Promise<ChildDaemon> {
  const home = options.embedded?.home ?? (await mkdtemp(join(tmpdir(), 'supervisor-bench-')));
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const admin = options.embedded ? undefined : new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin?.connect();
  await admin?.query(`CREATE SCHEMA ${schema}`);
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const env: NodeJS.ProcessEnv = { ...process.env, SUPERVISOR_HOME: home, SUPERVISOR_PORT: '0', SUPERVISOR_LOG_LEVEL: 'warn', DATABASE_URL: url.toString() };
  if (options.embedded) delete env.DATABASE_URL;
  const child: ChildProcess = spawn(process.execPath, [...DAEMON_NODE_FLAGS, CLI, 'daemon'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const ready = await new Promise<{ url: string; token: string }>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const u = /Supervisor daemon on (\S+)/.exec(out);
      const t = /^\s+(svt_\S+)$/m.exec(out);
      if (u && t) resolve({ url: u[1]!, token: t[1]! });
      // An embedded restart prints no admin token (it was shown at the first start); its banner ends with MCP.
      else if (u && options.embedded && /^\s+MCP\s/m.test(out)) resolve({ url: u[1]!, token: '' });
    });
    child.once('exit', (code) => reject(new Error(`daemon exited with ${code}: ${out}`)));
  });
  return {
    pid: child.pid!,
    url: ready.url,
    adminToken: ready.token,
    home,
    env,
    async close() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      if (!admin) return;
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
      await rm(home, { recursive: true, force: true });
    },
  };
}
