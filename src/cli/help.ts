import type { Catalog } from '../catalog/catalog.js';
import { schemasOf, type JsonSchema } from '../catalog/json-schema.js';
import type { Operation } from '../catalog/operation.js';
import { kebab } from './args.js';

const GLOBAL = `Global options:
  --json            print machine-readable JSON
  --help, -h        show help
Exit codes: 0 ok, 1 the operation failed, 2 the command line is wrong.
Environment: SUPERVISOR_HOME, SUPERVISOR_URL + SUPERVISOR_TOKEN (use a remote daemon); see README for all settings.`;

/** The commands that are not catalog operations; the first line is the summary in the main help. */
export const BUILTIN_HELP: Record<string, string> = {
  daemon: 'daemon                          start the daemon (REST, MCP over HTTP, dashboard); `npm start` runs this\n\nRuns until SIGINT/SIGTERM. On first start it creates the data dir, the master key file and an admin token, printed once.',
  mcp: 'mcp --project <name>            MCP server over stdio for Claude Code (meta = admin scope)\n\nOptions: --toolsets a,b (or all; default: the endpoint\'s default toolsets), --readonly (read-only tools only). Only protocol messages go to stdout. Uses the daemon when it runs, else opens the data dir under its lock.',
  run: 'run --project <name> -- <cmd>   run a command with the project\'s secrets as environment variables\n\nOptions: --prefix <path> (default project/<name>/); --service <name> also sets PORT to that service\'s port (reserved on first use) and <SERVICE>_PORT for each service of the project; --allow NAME,... lets secrets set protected variables (PATH, LD_*, NODE_OPTIONS, …). Names are the last path segment upper-cased; signals are forwarded and the command\'s exit code returned.',
};

export function mainHelp(catalog: Catalog): string {
  const groups = new Map<string, Operation[]>();
  for (const op of catalog.all()) groups.set(op.cli.command[0], [...(groups.get(op.cli.command[0]) ?? []), op]);
  const lines = [
    'supervisor — secrets, ports, DNS and tunnels, VMs and agent instructions for many projects',
    '',
    'Usage: supervisor <command> [args] [options]',
    '',
    'Commands:',
    ...Object.entries(BUILTIN_HELP).map(([, text]) => `  ${text.split('\n')[0]}`),
  ];
  const usages = [...groups.values()].flat().map((op) => [`${op.cli.command.join(' ')}${(op.cli.args ?? []).map((a) => ` <${kebab(a)}>`).join('')}`, op.title] as const);
  const width = Math.max(...usages.map(([usage]) => usage.length)) + 2;
  for (const [usage, title] of usages) lines.push(`  ${usage.padEnd(width)}${title}`);
  lines.push('', 'Run `supervisor <group> <verb> --help` for a command\'s options.', '', GLOBAL);
  return lines.join('\n');
}

export function operationHelp(op: Operation): string {
  const input = schemasOf(op).input;
  const properties = (input.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((input.required ?? []) as string[]);
  const args = op.cli.args ?? [];
  const lines = [`supervisor ${op.cli.command.join(' ')}${args.map((a) => (required.has(a) ? ` <${kebab(a)}>` : ` [${kebab(a)}]`)).join('')} [options]`, '', op.description, ''];
  if (op.access === 'admin') lines.push('Needs admin scope.', '');
  lines.push('Options:');
  for (const [name, schema] of Object.entries(properties)) {
    const type = schema.type ?? (schema.anyOf as JsonSchema[] | undefined)?.map((s) => s.type).join('|') ?? 'value';
    const dflt = schema.default !== undefined ? ` (default ${JSON.stringify(schema.default)})` : required.has(name) ? ' (required)' : '';
    lines.push(`  --${kebab(name)} <${String(type)}>`.padEnd(34) + `${(schema.description as string | undefined) ?? ''}${dflt}`);
  }
  for (const [flag, field] of Object.entries(op.cli.flags ?? {})) lines.push(`  --${flag}`.padEnd(34) + `same as --${kebab(field)}`);
  if (op.cli.stdin) lines.push('', `${kebab(op.cli.stdin)} is read from stdin when not given.`);
  lines.push(`  --input <json>`.padEnd(34) + 'all fields as one JSON object', '', `MCP tool: ${op.name}    REST: ${op.rest.method} /api/v1${op.rest.path}`, '', GLOBAL);
  return lines.join('\n');
}
