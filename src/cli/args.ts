import { readFile } from 'node:fs/promises';
import { fsReason } from '../core/fs-errors.js';
import { resolve } from 'node:path';
import type { CommandSpec, FieldSpec } from './commands.js';
import { kebab } from './cli-terms.js';
import { argName, usageLine } from './help.js';
import { SupervisorError } from '../core/errors.js';
import { UsageError } from './usage-error.js';
import { jsonSyntaxReason } from '../core/json-syntax.js';
import { utf8Text } from '../core/utf8.js';

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export interface Stdin {
  isTTY: boolean;
  read(): Promise<string>;
}

/** Bytes as UTF-8 text (see utf8Text), refused when they are not. */
function utf8(bytes: Buffer, where: string): string {
  const text = utf8Text(bytes);
  if (text === undefined) throw new SupervisorError('invalid_input', `${where} is not UTF-8 text; only text is stored (base64-encode binary data)`);
  return text;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return utf8(Buffer.concat(chunks), 'stdin');
}

export const processStdin: Stdin = { isTTY: Boolean(process.stdin.isTTY), read: readStdin };

/** A usage error for one command: the message, then its usage line and where to read more. */
export function usageError(cmd: CommandSpec, message: string): UsageError {
  return new UsageError(`${cmd.cli.command.join(' ')}: ${message}`, usageLine(cmd), `supervisor ${cmd.cli.command.join(' ')} --help`);
}

const WHOLE = /^-?\d+$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** Text from the command line as the type the operation wants, or a usage error naming the flag and what it takes. */
function convert(cmd: CommandSpec, field: FieldSpec, shown: string, text: string): unknown {
  const bad = (what: string) => usageError(cmd, `${shown} must be ${what}, not "${text}"`);
  if (field.nullable && text === 'null') return null;
  // A date alone is the start of that day in UTC; a time needs its offset (Z, +02:00) to mean one moment.
  if (field.format === 'date-time' && DATE_ONLY.test(text)) return `${text}T00:00:00Z`;
  if (field.enum && !field.enum.includes(text)) throw bad(`one of ${field.enum.join(', ')}`);
  switch (field.type) {
    case 'integer':
      if (!WHOLE.test(text.trim()) || !Number.isSafeInteger(Number(text))) throw bad('a whole number');
      return Number(text);
    case 'number':
      if (text.trim() === '' || !Number.isFinite(Number(text))) throw bad('a number');
      return Number(text);
    case 'boolean':
      if (text !== 'true' && text !== 'false') throw bad('true or false');
      return text === 'true';
    case 'object':
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw bad('a JSON object');
      }
    default:
      return text;
  }
}

export interface ParsedArgs {
  input: Record<string, unknown>;
  /** `--input` was given: its JSON goes to the operation as written, which checks how its fields combine. */
  structured: boolean;
  /** Fields given on the command line that are visible to other users (ps): the caller warns. */
  fromArgv: string[];
}

/** One list flag's items: comma-separated, or the value whole for fields the command keeps whole (CliSpec.whole). */
function listItems(cmd: CommandSpec, field: FieldSpec, value: string): string[] {
  // Kept as given, blank too: the operation's schema refuses a blank item, the same for every interface.
  if (cmd.cli.whole?.includes(field.name)) return [value];
  return value.split(',').map((v) => v.trim()).filter((v) => v !== '');
}

/**
 * Builds an operation's input from the words after `supervisor <group> <verb>`:
 * positional args in the order the operation names them, `--field value`,
 * `--flag` / `--no-flag` for booleans, comma-separated lists (repeated flags add to them), and
 * `--input '<json>'` for anything structured. Every mistake is a usage error
 * (exit 2) naming the argument as the command line spells it; values the
 * operation refuses are its own error (exit 1).
 */
export async function parseOperationArgs(cmd: CommandSpec, argv: string[], stdin: Stdin = processStdin): Promise<ParsedArgs> {
  const fields = new Map(cmd.input.map((f) => [f.name, f]));
  const input: Record<string, unknown> = {};
  const positional: string[] = [];
  const fromArgv: string[] = [];
  let fromJson: Record<string, unknown> = {};
  /** How each field was given on the command line, to refuse a second, different value (`--agents-md --no-agents-md`) rather than keep the last. */
  const givenAs = new Map<string, string>();
  const setFlag = (name: string, value: unknown, typed: string) => {
    const earlier = givenAs.get(name);
    if (earlier !== undefined && JSON.stringify(input[name]) !== JSON.stringify(value)) throw usageError(cmd, `${earlier} and ${typed} give ${kebab(name)} two different values; give one`);
    givenAs.set(name, typed);
    input[name] = value;
  };

  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith('--') || word === '--') {
      if (word === '--') positional.push(...argv.slice(i + 1));
      else positional.push(word);
      if (word === '--') break;
      continue;
    }
    const [rawName, inline] = word.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (rawName === 'input') {
      fromJson = { ...fromJson, ...parseJsonInput(cmd, inline ?? argv[++i]) };
      continue;
    }
    const alias = cmd.cli.flags?.[rawName];
    if (alias !== undefined && inline === undefined) {
      setFlag(alias, true, `--${rawName}`);
      continue;
    }
    const negated = rawName.startsWith('no-') && fields.get(camel(rawName.slice(3)))?.type === 'boolean';
    const field = fields.get(camel(negated ? rawName.slice(3) : rawName));
    if (!field || rawName !== kebab(field.name).replace(/^/, negated ? 'no-' : '')) throw usageError(cmd, `unknown flag --${rawName}`);
    const flag = `--${kebab(field.name)}`;
    if (field.type === 'boolean') {
      if (inline !== undefined) {
        if (negated) throw usageError(cmd, `--${rawName} takes no value`);
        setFlag(field.name, convert(cmd, field, flag, inline), word);
        continue;
      }
      const next = argv[i + 1];
      if (next === 'true' || next === 'false') {
        // Named as typed: `--no-overwrite false` is not about a flag the user did not write.
        const instead = negated ? `write --${rawName} alone, or ${flag}` : `write ${flag} or --no-${kebab(field.name)} (or ${flag}=${next})`;
        throw usageError(cmd, `--${rawName} is a switch and takes no value; ${instead}`);
      }
      setFlag(field.name, !negated, `--${rawName}`);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw usageError(cmd, `${flag} needs a value`);
    // The next word may be a flag forgotten a value, or a value such as a PEM key: = tells them apart (never echoed: it may be a secret).
    if (inline === undefined && value.startsWith('--') && value.length > 2) throw usageError(cmd, `${flag} needs a value; a value that starts with -- is written ${flag}=<value> (one word: quote it)`);
    if (field.name === cmd.cli.stdin) fromArgv.push(flag);
    if (field.type === 'array') input[field.name] = [...((input[field.name] as unknown[] | undefined) ?? []), ...listItems(cmd, field, value)];
    else setFlag(field.name, convert(cmd, field, flag, value), flag);
  }

  const names = cmd.cli.args ?? [];
  // Free text as the last argument takes the words left, joined as the shell split them.
  const text = cmd.cli.textArg;
  if (text !== undefined && text === names[names.length - 1] && positional.length > names.length) {
    positional.splice(names.length - 1, positional.length, positional.slice(names.length - 1).join(' '));
  }
  if (positional.length > names.length) {
    if (cmd.cli.stdin && !(cmd.cli.files ?? []).includes(cmd.cli.stdin)) {
      const flag = `--${kebab(cmd.cli.stdin)}`;
      throw usageError(cmd, `too many arguments: the ${kebab(cmd.cli.stdin)} is read from stdin, or asked for on a terminal; ${flag} <${kebab(cmd.cli.stdin)}> puts it on the command line, where other users can see it`);
    }
    const extra = positional.slice(names.length).map((w) => `"${w}"`).join(' ');
    throw usageError(cmd, names.length === 0 ? `takes no arguments, got ${extra}` : `too many arguments: ${extra} (expected ${names.map((n) => `<${argName(cmd, n)}>`).join(' ')})`);
  }
  for (const [i, word] of positional.entries()) {
    const name = names[i]!;
    const field = fields.get(name)!;
    // A positional word for a file field names the file; the same field given as --flag or in --input is the text itself.
    input[name] = (cmd.cli.files ?? []).includes(name) ? await readTextFile(cmd, word, stdin) : convert(cmd, field, `<${argName(cmd, name)}>`, word);
  }
  // A field given twice (an argument or flag, and in --input) is a mistake to point out, not a silent choice of one.
  for (const name of Object.keys(input)) {
    if (Object.hasOwn(fromJson, name) && JSON.stringify(fromJson[name]) !== JSON.stringify(input[name])) {
      const shown = names.includes(name) ? `<${argName(cmd, name)}>` : `--${kebab(name)}`;
      throw usageError(cmd, `${shown} and --input give ${name} two different values; give it once`);
    }
  }
  // The field meant for stdin inside --input's JSON is on the command line just the same.
  if (cmd.cli.stdin && Object.hasOwn(fromJson, cmd.cli.stdin) && !Object.hasOwn(input, cmd.cli.stdin)) fromArgv.push(`--input's ${cmd.cli.stdin}`);
  const merged = { ...fromJson, ...input };
  // A path typed at the shell: relative to where it runs, and tidied as the shell user means it
  // (tab completion's trailing slash, `..`); the API itself takes normalised absolute paths only.
  for (const name of cmd.cli.hostPaths ?? []) {
    const value = merged[name];
    if (typeof value === 'string' && value !== '') merged[name] = resolve(value);
  }
  const fromStdin = cmd.cli.stdin;
  if (fromStdin && merged[fromStdin] === undefined) {
    // A missing argument is said before stdin is read or the value asked for: an open stdin that
    // never ends would hang, and a person would type a secret for a command that cannot run.
    checkRequired(cmd, merged, Object.keys(fromJson).length > 0, fromStdin);
    if (!stdin.isTTY) merged[fromStdin] = oneLineWithoutNewline(await stdin.read());
  }
  return { input: merged, fromArgv, structured: Object.keys(fromJson).length > 0 };
}

/**
 * The first required field still missing, as a usage error naming it the way the command line
 * spells it. `unread`: the field stdin is still to give, not checked yet (nor the choice of one
 * of several, which may be it).
 */
export function checkRequired(cmd: CommandSpec, input: Record<string, unknown>, structured = false, unread?: string): void {
  for (const field of cmd.input) {
    if (!field.required || input[field.name] !== undefined || field.name === unread) continue;
    const positional = (cmd.cli.args ?? []).includes(field.name);
    const shown = positional ? `<${argName(cmd, field.name)}>` : `--${kebab(field.name)}`;
    const viaStdin = field.name === cmd.cli.stdin ? ' (or pipe it on stdin)' : '';
    throw usageError(cmd, `missing ${positional ? 'argument' : 'flag'} ${shown}${viaStdin}`);
  }
  const choice = cmd.cli.exactlyOne;
  if (choice && !structured && unread === undefined && choice.filter((name) => input[name] !== undefined && input[name] !== false).length !== 1) {
    const shown = choice.map((name) => {
      const field = cmd.input.find((f) => f.name === name);
      if ((cmd.cli.args ?? []).includes(name)) return `<${argName(cmd, name)}>`;
      return field?.type === 'boolean' ? `--${kebab(name)}` : `--${kebab(name)} <${kebab(name)}>`;
    });
    throw usageError(cmd, `give exactly one of ${shown.join(' or ')}`);
  }
}

/**
 * `echo value | supervisor secrets set path` keeps the value out of shell history: echo's
 * newline after one line is dropped. Text of several lines (a PEM key, a certificate) is kept
 * exactly, its final newline too.
 */
export function oneLineWithoutNewline(text: string): string {
  const line = text.replace(/\r?\n$/, '');
  return /[\r\n]/.test(line) ? text : line;
}

async function readTextFile(cmd: CommandSpec, path: string, stdin: Stdin): Promise<string> {
  if (path === '-') return stdin.read();
  const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) => {
    throw usageError(cmd, `cannot read ${path}: ${err.code === 'ENOENT' ? 'no such file' : fsReason(err)}`);
  });
  return utf8(bytes, path);
}

function parseJsonInput(cmd: CommandSpec, text: string | undefined): Record<string, unknown> {
  if (text === undefined) throw usageError(cmd, '--input needs a JSON object');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw usageError(cmd, `--input must be a JSON object (${jsonSyntaxReason(err)})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw usageError(cmd, `--input must be a JSON object, such as '{"name":"value"}' (it is ${parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`})`);
  }
  return parsed as Record<string, unknown>;
}
