#!/usr/bin/env node
import { stringify } from 'yaml';
import { catalog } from '../catalog/index.js';
import { loadConfig } from '../core/config.js';
import { SupervisorError } from '../core/errors.js';
import { META, projectName } from '../core/names.js';
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

function print(output: Record<string, unknown>, json: boolean, rawField?: string): void {
  if (json) process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
  else if (rawField && typeof output[rawField] === 'string') process.stdout.write(output[rawField] as string);
  else process.stdout.write(stringify(output));
}

async function main(argv: string[]): Promise<number> {
  const { json, help, rest } = splitGlobals(argv);
  const [command, verb, ...args] = rest;
  if (!command || command === 'help' || (help && !verb && !(command in BUILTIN_HELP))) {
    process.stdout.write(`${mainHelp(catalog)}\n`);
    return 0;
  }

  if (help && command in BUILTIN_HELP) {
    process.stdout.write(`supervisor ${BUILTIN_HELP[command]!.replace(/ {2,}/, '\n\n')}\n`);
    return 0;
  }
  const config = loadConfig();
  if (command === 'daemon') {
    const { runDaemonCommand } = await import('./daemon-command.js');
    return runDaemonCommand(config);
  }
  if (command === 'mcp') {
    const words = rest.slice(1);
    const project = requireProject(words);
    if (words.length > 0) throw new UsageError(`unexpected arguments: ${words.join(' ')}`);
    const { serveMcpOverStdio } = await import('../mcp/stdio.js');
    await serveMcpOverStdio(config, project);
    return -1;
  }
  if (command === 'run') return runCommand(config, rest.slice(1));

  const op = catalog.all().find((o) => o.cli.command[0] === command && o.cli.command[1] === verb);
  if (!op) throw new UsageError(`unknown command "${[command, verb].filter(Boolean).join(' ')}"; run \`supervisor --help\``);
  if (help) {
    process.stdout.write(`${operationHelp(op)}\n`);
    return 0;
  }
  const input = await parseOperationArgs(op, args);
  const connection = await connect(config, { via: 'cli' });
  try {
    print(await connection.invoker.invoke(op.name, input), json, op.cli.print);
    return 0;
  } finally {
    await connection.close();
  }
}

async function runCommand(config: ReturnType<typeof loadConfig>, words: string[]): Promise<number> {
  const separator = words.indexOf('--');
  if (separator === -1 || separator === words.length - 1) throw new UsageError('usage: supervisor run --project <name> [--service <name>] [--prefix <path>] -- <command> [args...]');
  const options = words.slice(0, separator);
  const [cmd, ...cmdArgs] = words.slice(separator + 1) as [string, ...string[]];
  const project = requireProject(options);
  const prefix = takeOption(options, 'prefix') ?? (project === META ? 'meta/' : `project/${project}/`);
  const service = takeOption(options, 'service');
  if (options.length > 0) throw new UsageError(`unexpected options before --: ${options.join(' ')}`);
  const { portEnvironment, projectEnvironment, runWithEnvironment } = await import('./run.js');
  const connection = await connect(config, { project, via: 'cli' });
  let env: Record<string, string>;
  try {
    env = await projectEnvironment(connection.invoker, prefix);
    if (service) Object.assign(env, await portEnvironment(connection.invoker, project, service));
  } finally {
    // Released before the command starts, so a long-running command does not hold the data dir.
    await connection.close();
  }
  return runWithEnvironment(cmd, cmdArgs, env);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`supervisor: ${err.message}\n`);
      process.exitCode = 2;
    } else if (err instanceof SupervisorError) {
      process.stderr.write(`supervisor: ${err.code}: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`supervisor: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
