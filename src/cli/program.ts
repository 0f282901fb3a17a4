import { stringify } from 'yaml';
import type { Progress } from '../catalog/operation.js';
import type { AppDefinition } from '../catalog/wire.js';
import type { Config } from '../core/config.js';
import { projectName } from '../core/names.js';
import { parseOperationArgs } from './args.js';
import { connect } from './connect.js';
import { BUILTIN_HELP, mainHelp, operationHelp } from './help.js';
import { UsageError } from './usage-error.js';

interface Globals {
  json: boolean;
  help: boolean;
  rest: string[];
}

/** Pulls the global flags out; everything after `--` is left alone (it belongs to `run`'s command). */
function splitGlobals(argv: string[]): Globals {
  const end = argv.indexOf('--');
  const head = end === -1 ? argv : argv.slice(0, end);
  const tail = end === -1 ? [] : argv.slice(end);
  return {
    json: head.includes('--json'),
    help: head.includes('--help') || head.includes('-h'),
    rest: [...head.filter((w) => w !== '--json' && w !== '--help' && w !== '-h'), ...tail],
  };
}

function takeOption(words: string[], name: string): string | undefined {
  const i = words.findIndex((w) => w === `--${name}` || w.startsWith(`--${name}=`));
  if (i === -1) return undefined;
  const word = words[i]!;
  const value = word.includes('=') ? word.slice(word.indexOf('=') + 1) : words[i + 1];
  words.splice(i, word.includes('=') ? 1 : 2);
  if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
  return value;
}

function requireProject(words: string[]): string {
  const project = takeOption(words, 'project');
  if (!project) throw new UsageError('--project <name> is required (use meta for the admin scope)');
  const parsed = projectName.safeParse(project);
  if (!parsed.success) throw new UsageError(`--project: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** Where a command's answer goes: stdout, or in tests a buffer. */
export interface Output {
  write(text: string): void;
}

const stdout: Output = { write: (text) => void process.stdout.write(text) };

function print(out: Output, output: Record<string, unknown>, json: boolean, rawField?: string): void {
  if (json) out.write(`${JSON.stringify(output, null, 2)}\n`);
  else if (rawField && typeof output[rawField] === 'string') out.write(output[rawField] as string);
  else out.write(stringify(output));
}

/**
 * Runs one command line against `app` (the supervisor, or in tests an app with
 * more domains) and resolves with the exit code; -1 means the command keeps the
 * process running (stdio MCP). Throws UsageError (exit 2) or the operation's error (exit 1).
 */
export async function runCli(argv: string[], app: AppDefinition, out: Output = stdout): Promise<number> {
  const { catalog } = app;
  const { json, help, rest } = splitGlobals(argv);
  const [command, verb, ...args] = rest;
  if (!command || command === 'help' || (help && !verb && !(command in BUILTIN_HELP))) {
    out.write(`${mainHelp(catalog)}\n`);
    return 0;
  }

  if (help && command in BUILTIN_HELP) {
    out.write(`supervisor ${BUILTIN_HELP[command]!.replace(/ {2,}/, '\n\n')}\n`);
    return 0;
  }
  const config = app.loadConfig();
  if (command === 'daemon') {
    const { runDaemonCommand } = await import('./daemon-command.js');
    return runDaemonCommand(config);
  }
  if (command === 'mcp') {
    const words = rest.slice(1);
    const project = requireProject(words);
    const toolsets = takeOption(words, 'toolsets');
    const readonly = words.includes('--readonly');
    const unexpected = words.filter((w) => w !== '--readonly');
    if (unexpected.length > 0) throw new UsageError(`unexpected arguments: ${unexpected.join(' ')}`);
    const [{ serveMcpOverStdio }, { parseToolsets }] = await Promise.all([import('../mcp/stdio.js'), import('../mcp/toolsets.js')]);
    await serveMcpOverStdio(app, config, project, { toolsets: parseToolsets(toolsets), readonly });
    return -1;
  }
  if (command === 'run') return runCommand(app, config, rest.slice(1));

  const op = catalog.all().find((o) => o.cli.command[0] === command && o.cli.command[1] === verb);
  if (!op) throw new UsageError(`unknown command "${[command, verb].filter(Boolean).join(' ')}"; run \`supervisor --help\``);
  if (help) {
    out.write(`${operationHelp(op)}\n`);
    return 0;
  }
  const input = await parseOperationArgs(op, args);
  const connection = await connect(app, config, { via: 'cli' });
  try {
    // Step lines go to stderr on a terminal only: stdout stays the answer, and scripts see no noise.
    const onProgress = process.stderr.isTTY ? (step: Progress) => process.stderr.write(`… ${step.message}\n`) : undefined;
    const output = await connection.invoker.invoke(op.name, input, { onProgress });
    print(out, output, json, op.cli.print);
    return op.cli.okField && output[op.cli.okField] === false ? 1 : 0;
  } finally {
    await connection.close();
  }
}

async function runCommand(app: AppDefinition, config: Config, words: string[]): Promise<number> {
  const separator = words.indexOf('--');
  if (separator === -1 || separator === words.length - 1) throw new UsageError('usage: supervisor run --project <name> [--service <name>] [--prefix <path>] [--allow NAME,...] -- <command> [args...]');
  const options = words.slice(0, separator);
  const [cmd, ...cmdArgs] = words.slice(separator + 1) as [string, ...string[]];
  const project = requireProject(options);
  const prefix = takeOption(options, 'prefix');
  const service = takeOption(options, 'service');
  const allow = takeOption(options, 'allow')?.split(',').filter((n) => n !== '') ?? [];
  if (options.length > 0) throw new UsageError(`unexpected options before --: ${options.join(' ')}`);
  const { runEnvironment, runWithEnvironment } = await import('./run.js');
  const connection = await connect(app, config, { project, via: 'cli' });
  let env: Record<string, string>;
  try {
    env = await runEnvironment(connection.invoker, { project, service, prefix, allow });
  } finally {
    // Released before the command starts, so a long-running command does not hold the data dir.
    await connection.close();
  }
  return runWithEnvironment(cmd, cmdArgs, env);
}
