import type { CliSpec, Progress } from '../catalog/operation.js';
import type { AppDefinition } from '../catalog/wire.js';
import { SupervisorError, type ErrorCode } from '../core/errors.js';
import { checkRequired, parseOperationArgs, usageError } from './args.js';
import type { CommandSpec } from './commands.js';
import { openCliConnection } from './connection.js';
import { adviceInCliTerms, inCliTerms, kebab } from './cli-terms.js';
import { BUILTINS, builtinGroups, builtinHelp, groupHelp, mainHelp, operationHelp } from './help.js';
import { appSource, type CliSource } from './manifest.js';
import { checkField, mergePages, moreHint, render, visible } from './output.js';
import { didYouMean } from '../core/suggest.js';
import { FIELD_WITH_JSON, UsageError } from './usage-error.js';
import { waitExitCode, waitForEnd, waitLimit } from './wait.js';

/** Where a command writes: stdout and stderr, or in tests buffers. */
export interface Output {
  write(text: string): void;
}

const stdout: Output = { write: (text) => void process.stdout.write(text) };
const stderr: Output = { write: (text) => void process.stderr.write(text) };

interface Globals {
  json: boolean;
  help: boolean;
  version: boolean;
  rest: string[];
}

/** Pulls out the flags every command takes; everything after `--` is left alone (it belongs to `run`'s command). */
function splitGlobals(argv: string[]): Globals {
  const end = argv.indexOf('--');
  const head = end === -1 ? argv : argv.slice(0, end);
  const tail = end === -1 ? [] : argv.slice(end);
  const globals = new Set(['--json', '--help', '-h']);
  // --version is the program's only before a command: `secrets get <path> --version 2` is the secret's.
  const version = head[0] === '--version' || head[0] === '-V';
  return {
    json: head.includes('--json'),
    help: head.includes('--help') || head.includes('-h'),
    version,
    rest: [...head.filter((w, i) => !globals.has(w) && !(version && i === 0)), ...tail],
  };
}

/** Takes `--name value`, `--name=value` (and `-x value` for a short name) out of words. */
export function takeOption(words: string[], name: string, short?: string): string | undefined {
  const end = words.indexOf('--') === -1 ? words.length : words.indexOf('--');
  const i = words.findIndex((w, at) => at < end && (w === `--${name}` || w.startsWith(`--${name}=`) || (short !== undefined && w === `-${short}`)));
  if (i === -1) return undefined;
  const word = words[i]!;
  const inline = word.startsWith(`--${name}=`);
  const value = inline ? word.slice(name.length + 3) : words[i + 1];
  words.splice(i, inline ? 1 : 2);
  if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
  return value;
}

/** Takes a switch out of words (before `--`); true when it was there. */
export function takeSwitch(words: string[], name: string): boolean {
  const end = words.indexOf('--') === -1 ? words.length : words.indexOf('--');
  const i = words.findIndex((w, at) => at < end && w === `--${name}`);
  if (i === -1) return false;
  words.splice(i, 1);
  return true;
}

/**
 * Warnings for the person or script running the command. On a terminal each is a line on
 * stderr when it arises; with --json they wait, so that stderr stays one JSON document:
 * `{"warnings":[…]}` after a success, or a `warnings` member beside the error.
 */
class Warnings {
  readonly held: string[] = [];
  constructor(
    private readonly json: boolean,
    private readonly errOut: Output,
  ) {}

  add(message: string): void {
    if (this.json) this.held.push(message);
    else this.errOut.write(`supervisor: warning: ${visible(message)}\n`);
  }

  /** With --json, what an error document carries beside `error`. */
  get member(): { warnings?: string[] } {
    return this.held.length > 0 ? { warnings: this.held } : {};
  }

  /** With --json after a success: the held warnings as stderr's one document. */
  flush(): void {
    if (this.held.length > 0) this.errOut.write(`${JSON.stringify(this.member)}\n`);
  }
}

/** How an error reaches the user: one line (and the usage) for people, one JSON document with --json; the exit code. */
async function report(err: unknown, json: boolean, errOut: Output, source: CliSource, warnings: Warnings): Promise<number> {
  if (err instanceof UsageError) {
    if (json) errOut.write(`${JSON.stringify({ error: { code: 'usage', message: err.message, ...(err.usage ? { usage: err.usage } : {}) }, ...warnings.member })}\n`);
    else errOut.write(`supervisor: ${err.message}\n${err.usage ? `usage: ${err.usage}\n` : ''}${err.helpCommand ? `Run \`${err.helpCommand}\`${err.usage ? ' for more' : ' for the commands'}.\n` : ''}`);
    return 2;
  }
  const error = err instanceof SupervisorError ? err : new SupervisorError('internal', (err as Error).message ?? String(err));
  // The message names commands and flags either way: a script's user acts on it at the command line too. Code and details stay the operation's.
  const message = inCliTerms(error.message, (await source.manifest().catch(() => undefined))?.commands ?? []);
  if (json) errOut.write(`${JSON.stringify({ error: { ...error.toJSON().error, message }, ...warnings.member })}\n`);
  else errOut.write(`supervisor: ${error.code}: ${visible(message)}\n`);
  // Ctrl-C at a prompt ends the command as an interrupt would, 128 + SIGINT, so a script sees it as one.
  return error.details.interrupted === true ? 130 : 1;
}

/**
 * Runs one command line and resolves with the exit code; -1 means the command
 * keeps the process running (stdio MCP). `source` gives the commands (the build's
 * manifest for the supervisor, or an app's catalog in tests) and the app to open
 * when there is no daemon.
 */
export async function runCli(argv: string[], source: CliSource | AppDefinition, out: Output = stdout, errOut: Output = stderr): Promise<number> {
  const src = 'catalog' in source ? appSource(source) : source;
  const globals = splitGlobals(argv);
  const warnings = new Warnings(globals.json, errOut);
  try {
    const code = await dispatch(globals, src, out, errOut, warnings);
    warnings.flush();
    return code;
  } catch (err) {
    return report(err, globals.json, errOut, src, warnings);
  }
}

async function dispatch(globals: Globals, source: CliSource, out: Output, errOut: Output, warnings: Warnings): Promise<number> {
  const { help, rest } = globals;
  if (globals.version && rest.length === 0) {
    out.write(`supervisor ${(await import('../version.js')).VERSION}\n`);
    return 0;
  }
  const manifest = await source.manifest();
  const [group, verb, ...args] = rest;
  if (!group || group === 'help') {
    const topic = group === 'help' ? verb : undefined;
    out.write(`${(topic && groupHelp(manifest, topic)) || mainHelp(manifest)}\n`);
    return 0;
  }
  if (group.startsWith('-')) throw new UsageError(`unknown flag ${group}`, undefined, 'supervisor --help');

  const ofGroup = BUILTINS.filter((b) => b.group === group);
  if (ofGroup.length > 0) {
    const bare = ofGroup.find((b) => !b.verb);
    const hasVerbs = ofGroup.some((b) => b.verb);
    const noVerb = verb === undefined || verb.startsWith('-');
    const chosen = ofGroup.find((b) => b.verb !== undefined && b.verb === verb) ?? (!hasVerbs || noVerb ? bare : undefined);
    if (!chosen || (help && !chosen.verb && hasVerbs)) {
      if (noVerb || help) {
        out.write(`${groupHelp(manifest, group)}\n`);
        return 0;
      }
      const hint = misplacedGroup(manifest.commands, verb, args[0]) ?? verbHint(group, verb, ofGroup.flatMap((b) => (b.verb ? [b.verb] : [])));
      throw new UsageError(`unknown command "${group} ${verb}"${hint}`, undefined, `supervisor ${group} --help`);
    }
    if (help) {
      out.write(`${builtinHelp(chosen)}\n`);
      return 0;
    }
    return runBuiltin(`${group}${chosen.verb ? ` ${chosen.verb}` : ''}`, rest.slice(chosen.verb ? 2 : 1), globals, source, out, errOut);
  }

  const groups = new Set(manifest.commands.map((c) => c.cli.command[0]));
  if (!groups.has(group)) throw new UsageError(`unknown command "${group}"${didYouMean(group, [...groups, ...builtinGroups()])}`, undefined, 'supervisor --help');
  if (!verb || verb.startsWith('-')) {
    out.write(`${groupHelp(manifest, group)}\n`);
    return 0;
  }
  const cmd = manifest.commands.find((c) => c.cli.command[0] === group && c.cli.command[1] === verb);
  if (!cmd) {
    const verbs = manifest.commands.filter((c) => c.cli.command[0] === group).map((c) => c.cli.command[1]);
    const hint = misplacedGroup(manifest.commands, verb, args[0]) ?? verbHint(group, verb, verbs);
    throw new UsageError(`unknown command "${group} ${verb}"${hint}`, undefined, `supervisor ${group} --help`);
  }
  if (help) {
    out.write(`${operationHelp(cmd, manifest.commands)}\n`);
    return 0;
  }
  return runOperation(cmd, manifest.commands, args, globals, source, out, errOut, warnings);
}

/** The group's verbs near a mistyped one, each said as the whole command. */
const verbHint = (group: string, verb: string, verbs: readonly string[]): string => didYouMean(verb, verbs).replace(/"([^"]+)"/g, `"${group} $1"`);

/**
 * `gcloud vm list`, `daemon secrets list`: the words after the first group are a command of their
 * own (`vm list`), so that is the one meant; a group was said before it, not a verb misspelt.
 */
function misplacedGroup(commands: readonly CommandSpec[], group: string, verb: string | undefined): string | undefined {
  const meant = commands.find((c) => c.cli.command[0] === group && c.cli.command[1] === verb);
  return meant && `; did you mean "${group} ${verb}"?`;
}

/** `commands`: every command of the manifest `cmd` came from, which advice in the answer may name. */
async function runOperation(cmd: CommandSpec, commands: readonly CommandSpec[], words: string[], globals: Globals, source: CliSource, out: Output, errOut: Output, warnings: Warnings): Promise<number> {
  const owns = (name: string) => cmd.input.some((f) => f.name === name);
  const own = [...words];
  // --all, --wide and --field are the command's own when its operation has such a field (instructions regenerate --all).
  const all = !owns('all') && takeSwitch(own, 'all');
  const wide = !owns('wide') && takeSwitch(own, 'wide');
  const untilEnd = cmd.cli.wait !== undefined && !owns('wait') && takeSwitch(own, 'wait');
  let field: string | undefined;
  try {
    field = owns('field') ? undefined : takeOption(own, 'field', 'f');
  } catch (err) {
    throw usageError(cmd, (err as Error).message);
  }
  if (field !== undefined && globals.json) throw usageError(cmd, FIELD_WITH_JSON);
  checkField(cmd, field);
  const { input, fromArgv, structured } = await parseOperationArgs(cmd, own);
  if (cmd.cli.stdin && input[cmd.cli.stdin] === undefined && process.stdin.isTTY && !(cmd.cli.files ?? []).includes(cmd.cli.stdin)) {
    const { promptHidden } = await import('./prompt.js');
    input[cmd.cli.stdin] = await promptHidden(`${cmd.cli.stdin[0]!.toUpperCase()}${cmd.cli.stdin.slice(1)} for ${String(input[cmd.cli.args?.[0] ?? ''] ?? cmd.cli.command.join(' '))}: `);
  }
  checkRequired(cmd, input, structured);
  for (const flag of fromArgv) warnings.add(`${flag} on the command line is visible to other users of this host (ps, /proc); pipe it on stdin instead`);
  const paged = all && cmd.input.some((f) => f.name === 'cursor') && cmd.output.some((f) => f.name === 'nextCursor');
  const every = cmd.cli.everyWithout;
  if (all && every !== undefined && input[every] !== undefined) throw usageError(cmd, `--all means every ${every}: give one ${every} or --all, not both`);
  if (all && !paged && every === undefined) throw usageError(cmd, '--all: this command answers in one page');
  const secondsField = cmd.cli.wait?.seconds;
  if (untilEnd && secondsField !== undefined && input[secondsField] !== undefined) throw usageError(cmd, `--wait waits for the end, --${kebab(secondsField)} n up to n seconds: give one`);
  const waitSeconds = waitLimit(cmd, input, untilEnd);

  const connection = await openCliConnection(source, { onLog: (line) => warnings.add(line), readOnly: cmd.readOnly });
  let output: Record<string, unknown>;
  /** The waiting form's exit code (CliSpec.wait), which stands instead of failWhen's. */
  let waited: number | undefined;
  // On a terminal: a spinner while the call runs, step lines as they come (on stderr: stdout stays the answer, and scripts see neither).
  const watching = process.stderr.isTTY && !globals.json;
  const spinner = watching ? (await import('./spinner.js')).startSpinner(`${cmd.title}…`) : undefined;
  try {
    const onProgress = watching
      ? (step: Progress) => {
          spinner?.stop();
          errOut.write(`… ${visible(step.message)}\n`);
        }
      : undefined;
    const call = (operation: string, input: Record<string, unknown>) => connection.invoker.invoke(operation, input, { onProgress });
    if (cmd.cli.wait && waitSeconds !== undefined) {
      const ended = await waitForEnd(cmd.name, cmd.cli.wait, input, waitSeconds, call);
      output = ended.output;
      waited = waitExitCode(cmd.cli.wait, ended);
    } else {
      output = await call(cmd.name, input);
    }
    if (paged) {
      const pages = [output];
      while (typeof pages.at(-1)!.nextCursor === 'string') pages.push(await connection.invoker.invoke(cmd.name, { ...input, cursor: pages.at(-1)!.nextCursor }));
      output = mergePages(pages);
    }
  } catch (err) {
    throw unconfirmed(cmd, err, commands) ?? err;
  } finally {
    spinner?.stop();
    await connection.close();
  }
  // Advice in the answer for a person (a refused project's reason, a warning) names commands, as errors do.
  const shown = globals.json || field !== undefined ? output : adviceInCliTerms(output, commands);
  out.write(render(cmd, shown, { json: globals.json, field, wide, tty: Boolean(process.stdout.isTTY), now: new Date() }));
  const more = !globals.json && field === undefined ? moreHint(output) : undefined;
  if (more) errOut.write(`${more}\n`);
  return waited ?? (failed(cmd.cli.failWhen, output) ? 1 : 0);
}

/**
 * A destructive command run without --confirm: the operation refuses it, naming what cannot be
 * undone (after what it must find first, such as the account to remove), but what is wrong is the
 * command line, so it is a usage error (exit 2) with that message, as a bad flag value is.
 */
function unconfirmed(cmd: CommandSpec, err: unknown, commands: readonly CommandSpec[]): UsageError | undefined {
  if (!(err instanceof SupervisorError) || err.code !== 'invalid_input' || err.details.field !== 'confirm') return undefined;
  if (!cmd.input.some((f) => f.name === 'confirm' && f.type === 'boolean')) return undefined;
  return usageError(cmd, inCliTerms(err.message, commands));
}

/** Whether an answer says the work failed (see CliSpec.failWhen). */
function failed(when: CliSpec['failWhen'], output: Record<string, unknown>): boolean {
  if (!when) return false;
  const value = output[when.field];
  return 'nonEmpty' in when ? Array.isArray(value) && value.length > 0 : when.values.includes(value as string | boolean);
}

async function runBuiltin(name: string, words: string[], globals: Globals, source: CliSource, out: Output, errOut: Output): Promise<number> {
  switch (name) {
    case 'daemon': {
      if (words.length > 0) throw new UsageError(`daemon: unexpected arguments: ${words.join(' ')}`, 'supervisor daemon | daemon status | daemon stop');
      const [app, { runDaemonCommand }] = await Promise.all([source.app(), import('./daemon-command.js')]);
      return runDaemonCommand(app.loadConfig());
    }
    case 'daemon status':
    case 'daemon stop': {
      const { daemonStatus, daemonStop } = await import('./daemon-control.js');
      if (name === 'daemon stop') return daemonStop(words, globals.json, out, errOut);
      const field = takeOption(words, 'field', 'f');
      return daemonStatus(words, { json: globals.json, field, tty: Boolean(process.stdout.isTTY) }, out);
    }
    case 'mcp':
      return runMcp(words, source);
    case 'run':
      return runCommand(words, source, globals.json, errOut);
    case 'connect claude': {
      const { connectClaude } = await import('./connect-claude.js');
      return connectClaude(words, source, out, errOut);
    }
    case 'service install': {
      const { serviceInstall } = await import('./service.js');
      return serviceInstall(words, out, errOut);
    }
    case 'storage copy': {
      const [app, { storageCopy }] = await Promise.all([source.app(), import('./storage.js')]);
      return storageCopy(words, app, globals.json, out, errOut);
    }
    case 'completion': {
      const { completion } = await import('./completion.js');
      out.write(completion(words, await source.manifest()));
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${name}"`);
  }
}

const PROJECT = /^[a-z][a-z0-9-]{0,39}$/;

function requireProject(words: string[], usage: string): string {
  const project = takeOption(words, 'project');
  if (!project) throw new UsageError(`${usage.split(' ')[0]}: missing flag --project <name> (meta for the admin scope)`, `supervisor ${usage}`);
  if (!PROJECT.test(project)) throw new UsageError(`--project: a project name is 1-40 characters: lowercase letters, digits and -, starting with a letter (not "${project}")`, `supervisor ${usage}`);
  return project;
}

async function runMcp(words: string[], source: CliSource): Promise<number> {
  const usage = BUILTINS.find((b) => b.group === 'mcp')!.usage;
  const project = requireProject(words, usage);
  const toolsets = takeOption(words, 'toolsets');
  const readonly = takeSwitch(words, 'readonly');
  if (words.length > 0) throw new UsageError(`mcp: unexpected arguments: ${words.join(' ')}`, `supervisor ${usage}`);
  const [app, { serveMcpOverStdio }, { checkToolsets, parseToolsets }] = await Promise.all([source.app(), import('../mcp/stdio.js'), import('../mcp/toolsets.js')]);
  const selection = { toolsets: parseToolsets(toolsets), readonly };
  try {
    checkToolsets(app.catalog, selection.toolsets);
  } catch (err) {
    throw new UsageError(`mcp: --toolsets: ${(err as Error).message}`, `supervisor ${usage}`);
  }
  await serveMcpOverStdio(app, app.loadConfig(), project, selection);
  return -1;
}

/**
 * `supervisor mcp` whose endpoint the running daemon refused (relayIfDaemon): said as the
 * command says it without a daemon, on stderr with its exit code (an unknown toolset is
 * a usage error), before anything reaches stdout, which stays the protocol's.
 */
export function mcpRefusedByDaemon(err: unknown, source: CliSource, errOut: Output = stderr): Promise<number> {
  const usage = BUILTINS.find((b) => b.group === 'mcp')!.usage;
  const toolsets = err instanceof SupervisorError && err.code === 'invalid_input' && Array.isArray(err.details.valid);
  const shown = toolsets ? new UsageError(`mcp: --toolsets: ${err.message}`, `supervisor ${usage}`) : err;
  return report(shown, false, errOut, source, new Warnings(false, errOut));
}

async function runCommand(words: string[], source: CliSource, json: boolean, errOut: Output): Promise<number> {
  const usage = BUILTINS.find((b) => b.group === 'run')!.usage;
  const separator = words.indexOf('--');
  // Without `--` the command's own flags could not be told from run's: it is required, and said so.
  if (separator === -1) throw new UsageError(`run: ${words.length === 0 ? 'missing --project and the command to run' : 'no -- before the command to run'}: write it as supervisor run --project <name> -- <command> [args...]`, `supervisor ${usage}`);
  if (separator === words.length - 1) throw new UsageError('run: missing the command to run after --', `supervisor ${usage}`);
  const options = words.slice(0, separator);
  const [cmd, ...cmdArgs] = words.slice(separator + 1) as [string, ...string[]];
  const project = requireProject(options, usage);
  const prefix = takeOption(options, 'prefix');
  const service = takeOption(options, 'service');
  const allow = takeOption(options, 'allow')?.split(',').filter((n) => n !== '') ?? [];
  if (options.length > 0) throw new UsageError(`run: unknown flag ${options[0]}`, `supervisor ${usage}`);
  const { runEnvironment, runWithEnvironment } = await import('./run.js');
  const connection = await openCliConnection(source, { project, readOnly: true });
  let env: Record<string, string>;
  try {
    env = await runEnvironment(connection.invoker, { project, service, prefix, allow }, (line) => say(line));
  } catch (err) {
    // The person typed `supervisor run`: name it, not the operation behind it (`supervisor secrets env`).
    if (!(err instanceof SupervisorError)) throw err;
    const message = err.message.replace(/^invalid input for get_run_env:/, 'invalid input for `supervisor run`:').replace(/ \(supervisor run, get_run_env\)/, '');
    throw new SupervisorError(err.code, message, err.details);
  } finally {
    // Released before the command starts, so a long-running command does not hold the data dir.
    await connection.close();
  }
  return runWithEnvironment(cmd, cmdArgs, env, say);

  /** run's own lines: for people, prefixed; with --json, each a JSON document (a warning, or the error that stopped the command). */
  function say(line: string, code?: ErrorCode): void {
    if (!json) return void errOut.write(`supervisor: run: ${line}\n`);
    errOut.write(`${JSON.stringify(code ? { error: { code, message: `run: ${line}` } } : { warnings: [`run: ${line}`] })}\n`);
  }
}
