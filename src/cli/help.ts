import { inCliTerms, kebab } from './cli-terms.js';
import type { CommandManifest, CommandSpec, FieldSpec } from './commands.js';
import { WAIT_TIMED_OUT } from './wait.js';

/** How a positional field is named on the command line: `<file>` for fields read from a file, else the field in kebab case. */
export const argName = (cmd: CommandSpec, field: string) => ((cmd.cli.files ?? []).includes(field) ? 'file' : kebab(field));

export const GLOBAL_FLAGS = `Global flags:
  --json            print JSON (errors too, on stderr)
  -f, --field NAME  print one field of the answer, raw (one line per item for lists)
  --wide            every column of a table
  --all             follow nextCursor to the last page
  --help, -h        show help;  --version, -V  show the version
Exit codes: 0 ok, 1 the operation failed, 2 the command line is wrong (a destructive command not confirmed too).
Environment: SUPERVISOR_HOME, SUPERVISOR_URL (another daemon), SUPERVISOR_TOKEN (act with that token's scope); see README for all settings.`;

/** Commands that are not catalog operations: usage line, one-line summary, and the text of their help. */
export interface Builtin {
  group: string;
  verb?: string;
  usage: string;
  summary: string;
  help: string;
}

export const BUILTINS: Builtin[] = [
  { group: 'daemon', usage: 'daemon', summary: 'start the daemon (REST, MCP over HTTP, dashboard); `npm start` runs this', help: 'Runs in the foreground until SIGINT/SIGTERM/SIGHUP (its terminal closing), then stops accepting, finishes in-flight requests, flushes audit rows, closes the database and removes daemons/<pid>.json. On first start it creates the data dir, the master key file and an admin token, printed once.' },
  { group: 'daemon', verb: 'status', usage: 'daemon status [--field <name>]', summary: 'is the daemon running: pid, uptime, url, database, version, build', help: 'Exits 0 when a daemon of this data dir runs and is ready, 3 when none does, 1 when its process runs but does not answer within 5 s (hung or stopped) or is not ready. currentBuild is false when the daemon runs another build than this command (builtAt says which is the newer): a daemon started before the code was rebuilt (restart it), or a command from an older checkout. notReady says why a daemon that answers is not ready: its database unreachable, or migrated by a newer Supervisor sharing it (stop this daemon and start the new version). A daemon still starting is said so (starting: its pid), exit 3; daemon stop stops it once it has started. --field (-f) prints one field raw: running, starting, pid, uptimeSeconds, url, answering, database, ready, notReady, version, build, builtAt, currentBuild, home, others.' },
  { group: 'daemon', verb: 'stop', usage: 'daemon stop [--timeout <seconds>]', summary: 'stop the daemon of this data dir (SIGTERM, then wait)', help: 'Sends SIGTERM and waits (default 35 s: a daemon still finishing work exits by itself after 30 s) until it has shut down. Exits 0 when it stopped or was not running.' },
  { group: 'mcp', usage: 'mcp --project <name> [--toolsets a,b] [--readonly]', summary: 'MCP server over stdio for Claude Code (meta = admin scope)', help: "--toolsets a,b (or all; default: the endpoint's default toolsets), --readonly (read-only tools only). Only protocol messages go to stdout. Uses the daemon when it runs, else opens the data dir under its lock." },
  { group: 'run', usage: 'run --project <name> [--service <name>] [--prefix <path>] [--allow NAME,...] -- <command> [args...]', summary: "run a command with the project's secrets as environment variables", help: "--prefix <path> (default project/<name>/, meta/ for meta); --service <name> also sets PORT to that service's port (reserved on first use) and <SERVICE>_PORT for each service of the project (a secret of one of those names is refused); --allow NAME,... lets secrets set protected variables (PATH, LD_*, NODE_OPTIONS, …). Names are the last path segment upper-cased; signals are forwarded and the command's exit code returned: 127 when the command is not found, 126 when it cannot be executed." },
  { group: 'connect', verb: 'claude', usage: 'connect claude [--project <name>] [--toolsets a,b] [--stdio] [--run]', summary: 'the `claude mcp add …` line that connects Claude Code to this install', help: 'Prints the command; --run runs it. --toolsets a,b (e.g. default,tasks,knowledge, or all) chooses the tools the session gets instead of the endpoint\'s defaults, checked now. Without --stdio: HTTP to the running daemon, with a new token for the project (admin token for meta), passed to `claude mcp add` only. With --stdio: this checkout\'s CLI by absolute path (no token needed: it runs as you). Default project: meta.' },
  { group: 'service', verb: 'install', usage: 'service install [--print] [--force]', summary: 'write a systemd user unit for the daemon and print the systemctl commands', help: 'Writes ~/.config/systemd/user/supervisor.service (Restart=on-failure, this data dir; no secrets in it). --print writes nothing and prints the unit; --force replaces a different unit.' },
  { group: 'storage', verb: 'copy', usage: 'storage copy (--to <postgres-url> | --from <postgres-url>) [--force] [--no-switch]', summary: 'move everything between the embedded database and PostgreSQL', help: 'Stop the daemon first. --to copies the data dir\'s embedded database into an empty PostgreSQL database (--from the other way) in one consistent snapshot, compares row counts table by table, decrypts every current secret on the target, then sets databaseUrl in the config file (--from unsets it; --no-switch leaves it). A target holding rows is refused unless --force, which replaces them. The master keys stay in the data dir: back them up with the database.' },
  { group: 'completion', usage: 'completion <bash|zsh|fish>', summary: 'shell completion script', help: 'bash: `source <(supervisor completion bash)` (or save it under ~/.local/share/bash-completion/completions/supervisor); zsh: `supervisor completion zsh > "${fpath[1]}/_supervisor"`; fish: `supervisor completion fish > ~/.config/fish/completions/supervisor.fish`.' },
];

export const builtinGroups = (): Set<string> => new Set(BUILTINS.map((b) => b.group));

function placeholder(cmd: CommandSpec, field: FieldSpec): string {
  const flag = `--${kebab(field.name)}`;
  // A list kept whole takes one item per flag: `--validation-commands <…>...` says to repeat it.
  if (field.type === 'array' && cmd.cli.whole?.includes(field.name)) return `${flag} <${kebab(field.name)}>...`;
  if (field.type === 'boolean') return field.default === true ? `--no-${kebab(field.name)}` : flag;
  if (field.enum) return `${flag} <${field.enum.join('|')}>`;
  if (field.type === 'integer' || field.type === 'number') return `${flag} <n>`;
  if (field.type === 'array') return `${flag} a,b`;
  if (field.format === 'date-time') return `${flag} <time>`;
  if (field.type === 'object') return `${flag} <json>`;
  return `${flag} <${kebab(field.name)}>`;
}

/** `supervisor secrets set <path> [--if-version <n>] [--tags a,b] …`: positional args, required flags, then the optional ones. */
export function usageLine(cmd: CommandSpec): string {
  const args = cmd.cli.args ?? [];
  const words = [`supervisor ${cmd.cli.command.join(' ')}`];
  for (const name of args) words.push(argWord(cmd, name));
  const flags = cmd.input.filter((f) => !args.includes(f.name) && f.name !== 'cursor' && f.name !== cmd.cli.stdin);
  for (const f of flags.filter((f) => f.required)) words.push(placeholder(cmd, f));
  for (const f of flags.filter((f) => !f.required)) words.push(`[${placeholder(cmd, f)}]`);
  for (const flag of Object.keys(cmd.cli.flags ?? {})) words.push(`[--${flag}]`);
  if (cmd.cli.everyWithout) words.push('[--all]');
  if (cmd.cli.wait) words.push('[--wait]');
  return words.join(' ');
}

/** `<path>` for an argument the command needs, `[name]` for one it can do without: optional, or read from stdin when omitted. */
function argWord(cmd: CommandSpec, name: string): string {
  const needed = cmd.input.find((f) => f.name === name)?.required === true && cmd.cli.stdin !== name;
  const shown = `${argName(cmd, name)}${cmd.cli.textArg === name ? '…' : ''}`;
  return needed ? `<${shown}>` : `[${shown}]`;
}

function shortUsage(cmd: CommandSpec): string {
  return [cmd.cli.command.join(' '), ...(cmd.cli.args ?? []).map((a) => argWord(cmd, a))].join(' ');
}

function columns(rows: Array<[string, string]>, indent = '  '): string[] {
  const width = Math.min(Math.max(...rows.map(([a]) => a.length)) + 2, 44);
  return rows.map(([a, b]) => (a.length + 2 > width ? `${indent}${a}\n${indent}${' '.repeat(width)}${b}` : `${indent}${a.padEnd(width)}${b}`));
}

export function mainHelp(manifest: CommandManifest): string {
  const lines = ['supervisor — secrets, ports, DNS and tunnels, VMs and agent instructions for many projects', '', 'Usage: supervisor <command> [verb] [args] [flags]', ''];
  const groups = [...new Set(manifest.commands.map((c) => c.cli.command[0]))];
  lines.push('Commands:');
  for (const group of groups) lines.push(...columns(manifest.commands.filter((c) => c.cli.command[0] === group).map((c) => [shortUsage(c), c.title])));
  lines.push('', 'Running the supervisor:');
  lines.push(...columns(BUILTINS.map((b) => [b.usage.replace(/ \[--.*$/, '').replace(/ --project <name>.*$/, ' --project <name>'), b.summary])));
  lines.push('', 'Run `supervisor <command> --help` for its verbs, `supervisor <command> <verb> --help` for its flags.', '', GLOBAL_FLAGS);
  return lines.join('\n');
}

/** `supervisor secrets --help`: what the group is for and its verbs. */
export function groupHelp(manifest: CommandManifest, group: string): string | undefined {
  const commands = manifest.commands.filter((c) => c.cli.command[0] === group);
  const builtins = BUILTINS.filter((b) => b.group === group);
  if (commands.length === 0 && builtins.length === 0) return undefined;
  if (commands.length === 0 && builtins.length === 1 && !builtins[0]!.verb) return builtinHelp(builtins[0]!);
  const about = manifest.groups.find((g) => g.name === group)?.description;
  // Written for MCP clients (tool names): a person here reads the commands that run them.
  const lines = [`supervisor ${group}${about ? ` — ${inCliTerms(about, manifest.commands)}` : ''}`, '', `Usage: supervisor ${group} <verb> [args] [flags]`, '', 'Verbs:'];
  lines.push(...columns([...commands.map((c): [string, string] => [shortUsage(c).slice(group.length + 1), c.title]), ...builtins.map((b): [string, string] => [b.verb ? b.usage.slice(group.length + 1) : `(no verb): supervisor ${b.usage}`, b.summary])]));
  lines.push('', `Run \`supervisor ${group} <verb> --help\` for a verb's flags.`);
  return lines.join('\n');
}

export function builtinHelp(b: Builtin): string {
  return [`Usage: supervisor ${b.usage}`, '', `${b.summary[0]!.toUpperCase()}${b.summary.slice(1)}.`, '', b.help].join('\n');
}

/** `commands`: the manifest's, so the operations a description names read as the commands that run them. */
export function operationHelp(cmd: CommandSpec, commands: readonly CommandSpec[]): string {
  const args = cmd.cli.args ?? [];
  const terms = (text: string) => inCliTerms(text, commands);
  const lines = [`Usage: ${usageLine(cmd)}`, '', terms(cmd.description), ''];
  if (cmd.access === 'admin') lines.push('Needs admin scope.', '');
  if (args.length > 0) {
    lines.push('Arguments:');
    lines.push(...columns(args.map((a) => [`<${argName(cmd, a)}>`, `${terms(cmd.input.find((f) => f.name === a)?.description ?? '')}${(cmd.cli.files ?? []).includes(a) ? ' (a file to read; - for stdin)' : ''}`])));
    lines.push('');
  }
  const flags = cmd.input;
  lines.push('Flags:');
  const wait = cmd.cli.wait;
  const rows: Array<[string, string]> = flags.map((f) => {
    // The operation's own limit per call is not the command line's: it repeats the call (see below).
    if (f.name === wait?.seconds) return [placeholder(cmd, f), `Wait up to n seconds for the end, any n (0: answer now) (default ${JSON.stringify(f.default ?? 0)})`];
    const description = terms(f.description ?? '');
    // A boolean on by default is shown as its --no- flag, which does the opposite of the description: say so first.
    if (f.type === 'boolean' && f.default === true) return [placeholder(cmd, f), `Turns off what is on by default: ${description.charAt(0).toLowerCase()}${description.slice(1)}`];
    const dflt = f.default !== undefined && f.type !== 'boolean' ? ` (default ${JSON.stringify(f.default)})` : f.required && !args.includes(f.name) && f.name !== cmd.cli.stdin ? ' (required)' : '';
    const clears = f.nullable && !/\bnull\b/.test(description) ? '; null clears' : '';
    const when = f.format === 'date-time' ? ' (ISO 8601 with its offset, e.g. 2027-01-31T09:00:00Z; a date alone is midnight UTC)' : '';
    return [placeholder(cmd, f), `${description}${clears}${when}${dflt}`];
  });
  for (const [flag, field] of Object.entries(cmd.cli.flags ?? {})) rows.push([`--${flag}`, `same as --${kebab(field)}`]);
  if (cmd.cli.everyWithout) rows.push(['--all', `every ${cmd.cli.everyWithout}, as when none is given`]);
  // Work the call starts is not started again: what is repeated is the operation that reports on it.
  const repeated = wait?.repeat ? terms(wait.repeat.operation) : 'the call';
  if (wait) rows.push(['--wait', `repeat ${repeated} until ${wait.field} is no longer ${wait.pending.join(' or ')}, however long (Ctrl-C stops waiting)`]);
  rows.push(['--input <json>', 'every field as one JSON object']);
  lines.push(...columns(rows));
  if (cmd.cli.stdin) {
    const name = kebab(cmd.cli.stdin);
    lines.push('', (cmd.cli.files ?? []).includes(cmd.cli.stdin) ? `The ${name} is read from the file, or from stdin when no file is named.` : `The ${name} is read from stdin (one line loses its final newline, several lines are kept exactly), or asked for with echo off on a terminal; --${name} takes it from the command line, where other users of this host can see it.`);
  }
  const fail = cmd.cli.failWhen;
  if (fail) lines.push('', `Exits 1 when ${fail.field} is ${'nonEmpty' in fail ? 'not empty' : fail.values.join(' or ')}, after printing the answer (for CI and cron).`);
  if (wait) {
    const flag = `--${kebab(wait.seconds)}`;
    lines.push('', `${flag} above ${wait.max} repeats ${repeated} (each waiting at most ${wait.max} s, the operation's limit) until n seconds have passed. Waiting (--wait or ${flag}), it exits 1 when ${wait.field} ended ${wait.failed.join(', ')}, ${WAIT_TIMED_OUT} when the time ran out first (as timeout(1) does), else 0, after printing the answer.`);
  }
  lines.push('', `MCP tool: ${cmd.name}    REST: ${cmd.rest.method} /api/v1${cmd.rest.path}`, '', GLOBAL_FLAGS);
  return lines.join('\n');
}
