import { spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { CLI_BIN, shellWord } from '../core/cli-path.js';
import { dataDir, daemonTarget, openCliConnection } from './connection.js';
import { commandFound } from '../core/executable.js';
import type { CliSource } from './manifest.js';
import type { Output } from './program.js';
import { takeOption, takeSwitch } from './program.js';
import { UsageError } from './usage-error.js';

const USAGE = 'supervisor connect claude [--project <name>] [--toolsets a,b] [--stdio] [--run]';
const PROJECT = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * The `claude mcp add` arguments for stdio: node and this checkout's entry by absolute path, so it
 * works from any directory, and the data dir (and config file) named, so a Claude Code started
 * with another environment opens this install rather than making a new, empty one.
 */
export function stdioArgs(project: string, env: NodeJS.ProcessEnv = process.env, toolsets?: string): string[] {
  const vars = [`SUPERVISOR_HOME=${dataDir(env)}`, ...(env.SUPERVISOR_CONFIG ? [`SUPERVISOR_CONFIG=${resolve(env.SUPERVISOR_CONFIG)}`] : [])];
  return ['mcp', 'add', project, ...vars.flatMap((v) => ['-e', v]), '--', process.execPath, CLI_BIN, 'mcp', '--project', project, ...(toolsets ? ['--toolsets', toolsets] : [])];
}

/**
 * The toolsets asked for, checked against the catalog now: a misspelt one would otherwise be
 * refused only when Claude Code connects, where the person who typed it does not look.
 */
async function checkedToolsets(text: string | undefined): Promise<string | undefined> {
  if (text === undefined) return undefined;
  const [{ catalog }, { checkToolsets, parseToolsets }] = await Promise.all([import('../app.js'), import('../mcp/toolsets.js')]);
  const toolsets = parseToolsets(text);
  try {
    checkToolsets(catalog, toolsets);
  } catch (err) {
    throw new UsageError(`connect claude: --toolsets ${text}: ${(err as Error).message}`, USAGE);
  }
  return Array.isArray(toolsets) ? toolsets.join(',') : toolsets;
}

/**
 * `supervisor connect claude`: prints the exact `claude mcp add …` line for this
 * install, or with --run runs it (the token then reaches Claude Code's config
 * only through its own command). HTTP needs the daemon and makes a token for the
 * project (an admin token for meta); --stdio needs no token.
 */
export async function connectClaude(words: string[], source: CliSource, out: Output, errOut: Output): Promise<number> {
  const project = takeOption(words, 'project') ?? 'meta';
  const stdio = takeSwitch(words, 'stdio');
  const run = takeSwitch(words, 'run');
  const toolsets = await checkedToolsets(takeOption(words, 'toolsets'));
  if (words.length > 0) throw new UsageError(`connect claude: unexpected arguments: ${words.join(' ')}`, USAGE);
  if (!PROJECT.test(project)) throw new UsageError(`connect claude: --project ${project}: a project name is 1-40 characters: lowercase letters, digits and -, starting with a letter`, USAGE);

  // claude is checked before a token is made that nobody would receive.
  if (run && !commandFound('claude')) {
    errOut.write('supervisor: connect claude: claude: command not found; install Claude Code, or run without --run and paste the line\n');
    return 127;
  }
  let args: string[];
  if (stdio) {
    // The project must exist, as the HTTP form checks when it makes the token.
    await (await openCliConnection(source, { project })).close();
    args = stdioArgs(project, process.env, toolsets);
  } else {
    const daemon = await daemonTarget();
    if (!daemon) throw new UsageError('connect claude: the daemon is not running; start it (`supervisor daemon`), or use --stdio', USAGE);
    const connection = await openCliConnection(source);
    const name = `claude-${project}-${userInfo().username}-${new Date().toISOString().slice(0, 10)}`.replace(/[^a-zA-Z0-9._-]/g, '-');
    const token = (await connection.invoker.invoke('create_token', project === 'meta' ? { name, admin: true } : { name, project })) as { token: string };
    await connection.close();
    const choice = toolsets === undefined ? [] : ['--header', `X-Supervisor-Toolsets: ${toolsets}`];
    args = ['mcp', 'add', '--transport', 'http', project, `${daemon.url}/mcp/${project}`, '--header', `Authorization: Bearer ${token.token}`, ...choice];
  }
  if (!run) {
    out.write(`claude ${args.map(shellWord).join(' ')}\n`);
    return 0;
  }
  return new Promise((resolve) => {
    const child = spawn('claude', args, { stdio: 'inherit' });
    child.on('error', (err: NodeJS.ErrnoException) => {
      errOut.write(`supervisor: connect claude: claude: ${err.code === 'ENOENT' ? 'command not found; install Claude Code, or run without --run and paste the line' : err.message}\n`);
      resolve(err.code === 'ENOENT' ? 127 : 126);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
