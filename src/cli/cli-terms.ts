import type { CommandSpec } from './commands.js';

/** A field's flag spelling: `ifVersion` → `if-version`. */
export const kebab = (field: string) => field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * An error message as a person at the command line reads it: the operations it names
 * (`list_secrets`, release_port) become the commands that run them (`supervisor secrets
 * list`), in a person's line and in --json's error alike. REST and MCP callers get the
 * message as the operation wrote it.
 */
export function inCliTerms(message: string, commands: readonly CommandSpec[]): string {
  return cliTerms(commands)(message);
}

/** inCliTerms for many messages: the names of the commands, switches and fields are gathered once. */
function cliTerms(commands: readonly CommandSpec[]): (message: string) => string {
  const byName = new Map(commands.map((c) => [c.name, `supervisor ${c.cli.command.join(' ')}`]));
  // A switch as the operation spells it (`confirm: true`, `dns: false`) is the flag that sets it.
  const switches = new Set(commands.flatMap((c) => c.input.filter((f) => f.type === 'boolean').map((f) => f.name)));
  const fields = new Set(commands.flatMap((c) => c.input.map((f) => f.name)));
  // Fields never given as an argument, so a message naming one names its flag whichever command it came from.
  const positional = new Set(commands.flatMap((c) => c.cli.args ?? []));
  const flagsOnly = new Set([...fields].filter((name) => !positional.has(name)));
  // A choice as the operation spells it (`deletedSecrets: discard`) is the flag with that value.
  const choices = new Map<string, Set<string>>();
  for (const f of commands.flatMap((c) => c.input)) if (f.enum) choices.set(f.name, new Set([...(choices.get(f.name) ?? []), ...f.enum]));
  return (message) => message
    // "rotationIntervalDays: must be at least 1" (a value refused, named by its field): "--rotation-interval-days: …"; an item of a list by its place.
    // ("agentsMd: false" is a switch given a value, below.)
    .replace(/(^|: |; )([a-z][a-zA-Z0-9]*)(?:\.(\d+))?: (?!(?:true|false)\b)/g, (whole, before: string, name: string, index?: string) => (flagsOnly.has(name) ? `${before}--${kebab(name)}${index === undefined ? '' : ` (item ${Number(index) + 1})`}: ` : whole))
    // "pass force to replace it": the switch given on its own.
    .replace(/\bpass ([a-z][a-zA-Z0-9]*)\b(?!:)/g, (whole, name: string) => (switches.has(name) ? `pass --${kebab(name)}` : whole))
    // "then regenerate_instructions with all.": a switch ending the sentence is its flag.
    .replace(/\bwith ([a-z][a-zA-Z0-9]*)(?=[.;]|$)/g, (whole, name: string) => (switches.has(name) ? `with --${kebab(name)}` : whole))
    // "pass its command (command)": a field named in parentheses is its flag.
    .replace(/\(([a-z][a-zA-Z0-9]*)\)/g, (whole, name: string) => (fields.has(name) ? `(--${kebab(name)})` : whole))
    // "retry with ifVersion 3": a field given a number is its flag with that number.
    .replace(/\bwith ([a-z][a-z0-9]*[A-Z][a-zA-Z0-9]*) (\d+)\b/g, (whole, name: string, value: string) => (fields.has(name) ? `with --${kebab(name)} ${value}` : whole))
    .replace(/`?\b([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\b`?/g, (whole, name: string) => {
      const command = byName.get(name);
      return command ? `\`${command}\`` : whole;
    })
    .replace(/\b([a-z][a-zA-Z0-9]*): (true|false)\b/g, (whole, name: string, value: string) => (switches.has(name) ? `${value === 'true' ? '--' : '--no-'}${kebab(name)}` : whole))
    .replace(/\b([a-z][a-zA-Z0-9]*): ([a-z][a-z0-9_-]*)\b/g, (whole, name: string, value: string) => (choices.get(name)?.has(value) ? `--${kebab(name)} ${value}` : whole))
    // "`supervisor config set x` (set_setting over MCP)": the MCP aside, now naming the same command, goes.
    .replace(/ \(`supervisor [^`]+` over MCP\)/g, '')
    // "run `supervisor cloudflare verify` (verify_cloudflare)": the operation's name, now that command, goes.
    .replace(/(`supervisor [^`]+`) \(\1\)/g, '$1');
}

/** Answer fields that advise a person, whose operation and field names become commands and flags at the command line. */
const ADVICE_FIELDS = new Set(['reason', 'reasons', 'warnings', 'note', 'notes', 'message', 'problems']);

/** A patch's `# ` lines are notes to a person (why a project has no diff); a line of a diff never starts so. */
const PATCH_NOTE = /^# .*$/gm;

type TextKind = 'plain' | 'advice' | 'patch';
const kindOf = (field: string): TextKind => (field === 'patch' ? 'patch' : ADVICE_FIELDS.has(field) ? 'advice' : 'plain');

/** The answer with inCliTerms applied to the text of its advice fields, at any depth; --json keeps the answer as it is. */
export function adviceInCliTerms(value: Record<string, unknown>, commands: readonly CommandSpec[]): Record<string, unknown> {
  const translate = cliTerms(commands);
  const walk = (v: unknown, kind: TextKind): unknown => {
    if (typeof v === 'string') return kind === 'patch' ? v.replace(PATCH_NOTE, translate) : kind === 'advice' ? translate(v) : v;
    if (Array.isArray(v)) return v.map((item) => walk(item, kind));
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, walk(inner, kindOf(k))]));
    return v;
  };
  return walk(value, 'plain') as Record<string, unknown>;
}
