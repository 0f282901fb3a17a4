import { readFile } from 'node:fs/promises';
import { coerceText, fieldTypes } from '../catalog/json-schema.js';
import type { Operation } from '../catalog/operation.js';
import { UsageError } from './usage-error.js';

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
export const kebab = (field: string) => field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Builds an operation's input from the words after `supervisor <group> <verb>`:
 * positional args in the order the operation names them, `--field value`,
 * `--flag` / `--no-flag` for booleans, repeated or comma-separated lists, and
 * `--input '<json>'` for anything structured. Types come from the input schema.
 */
export async function parseOperationArgs(op: Operation, argv: string[], stdin: { isTTY: boolean; read(): Promise<string> } = { isTTY: Boolean(process.stdin.isTTY), read: readStdin }): Promise<Record<string, unknown>> {
  const types = fieldTypes(op);
  const input: Record<string, unknown> = {};
  const positional: string[] = [];
  const set = (field: string, text: string) => {
    const type = types.get(field)!;
    if (type === 'array') input[field] = [...((input[field] as unknown[]) ?? []), ...text.split(',').filter((v) => v !== '')];
    else input[field] = coerceText(type, text);
  };

  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith('--') || word === '--') {
      positional.push(word);
      continue;
    }
    const [rawName, inline] = word.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (rawName === 'input') {
      Object.assign(input, parseJsonInput(inline ?? argv[++i]));
      continue;
    }
    const alias = op.cli.flags?.[rawName];
    if (alias !== undefined && inline === undefined) {
      input[alias] = true;
      continue;
    }
    const negated = rawName.startsWith('no-') && types.get(camel(rawName.slice(3))) === 'boolean';
    const field = camel(negated ? rawName.slice(3) : rawName);
    const type = types.get(field);
    if (!type) throw new UsageError(`unknown option --${rawName} for ${op.cli.command.join(' ')}; see --help`);
    if (type === 'boolean' && inline === undefined) {
      input[field] = !negated;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${rawName} needs a value`);
    set(field, value);
  }

  const names = op.cli.args ?? [];
  if (positional.length > names.length) throw new UsageError(`too many arguments for ${op.cli.command.join(' ')}: expected ${names.map((n) => `<${kebab(n)}>`).join(' ') || 'none'}`);
  // A positional word for a file field names the file; the same field given as --field or in --input is the text itself.
  for (const [i, word] of positional.entries()) {
    const field = names[i]!;
    input[field] = (op.cli.files ?? []).includes(field) ? await readTextFile(word, stdin) : coerceText(types.get(field)!, word);
  }
  const fromStdin = op.cli.stdin;
  if (fromStdin && input[fromStdin] === undefined && !stdin.isTTY) {
    // `echo value | supervisor secrets set path` keeps the value out of shell history; drop echo's newline.
    input[fromStdin] = (await stdin.read()).replace(/\r?\n$/, '');
  }
  return input;
}

async function readTextFile(path: string, stdin: { read(): Promise<string> }): Promise<string> {
  if (path === '-') return stdin.read();
  return readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${path}: ${err.code ?? err.message}`);
  });
}

function parseJsonInput(text: string | undefined): Record<string, unknown> {
  if (text === undefined) throw new UsageError('--input needs a JSON object');
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new UsageError(`--input must be a JSON object (${(err as Error).message})`);
  }
}
