import { z } from 'zod';
import type { Operation } from './operation.js';
import { invalidInput } from '../core/errors.js';

export type JsonSchema = Record<string, unknown>;

const cache = new WeakMap<Operation, { input: JsonSchema; output: JsonSchema }>();

/**
 * Drops what says nothing a client needs, because tool lists cost agents context:
 * the regular expression zod adds beside `format` (date-time says it), and the
 * bounds zod puts on every integer (±2^53-1).
 */
function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compact);
  if (value === null || typeof value !== 'object') return value;
  const out: JsonSchema = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === 'pattern' && 'format' in value) continue;
    if ((key === 'maximum' || key === 'minimum') && Math.abs(item as number) === Number.MAX_SAFE_INTEGER) continue;
    out[key] = compact(item);
  }
  return out;
}

function convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _drop, ...json } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return compact(json) as JsonSchema;
}

/** JSON Schemas of an operation's input and output, as MCP, OpenAPI and the CLI publish them. */
export function schemasOf(op: Operation): { input: JsonSchema; output: JsonSchema } {
  let schemas = cache.get(op);
  if (!schemas) {
    schemas = { input: convert(op.input, 'input'), output: convert(op.output, 'output') };
    cache.set(op, schemas);
  }
  return schemas;
}

/** The JSON type of each top-level input field, used to read strings from query strings and argv. */
export function fieldTypes(op: Operation): ReadonlyMap<string, string> {
  let types = fieldTypeCache.get(op);
  if (!types) {
    const properties = (schemasOf(op).input.properties ?? {}) as Record<string, JsonSchema>;
    types = new Map(Object.entries(properties).map(([name, prop]) => [name, typeOf(prop)]));
    fieldTypeCache.set(op, types);
  }
  return types;
}

/** Every REST GET reads its query through fieldTypes: computed once per operation. */
const fieldTypeCache = new WeakMap<Operation, ReadonlyMap<string, string>>();

function typeOf(prop: JsonSchema): string {
  if (typeof prop.type === 'string') return prop.type;
  const variants = (prop.anyOf ?? prop.oneOf) as JsonSchema[] | undefined;
  const concrete = variants?.map(typeOf).find((t) => t !== 'null');
  return concrete ?? 'string';
}

const DECIMAL = /^-?\d+(\.\d+)?$/;

/**
 * Turns text (from a query string or the command line) into the type the schema
 * wants. Text that does not convert is passed through, so validation names the field.
 */
export function coerceText(type: string, value: string): unknown {
  switch (type) {
    case 'integer':
    case 'number':
      // Decimal as written, nothing else Number() would also take: `port=0x10` is not 16, ` 3105` not 3105.
      return DECIMAL.test(value) ? Number(value) : value;
    case 'boolean':
      return value === 'true' ? true : value === 'false' ? false : value;
    case 'null':
      return value === 'null' ? null : value;
    default:
      return value;
  }
}

/** Reads a flat record of text values (query string, argv flags) into typed input. */
export function coerceRecord(op: Operation, raw: Record<string, string | string[] | undefined>): Record<string, unknown> {
  const types = fieldTypes(op);
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const type = types.get(name) ?? 'string';
    if (type === 'array') out[name] = (Array.isArray(value) ? value : value.split(',')).filter((v) => v !== '');
    // One value given twice (?port=1&port=2) would be refused as a list, a shape the caller never chose.
    else if (Array.isArray(value)) throw invalidInput(`${name}: given ${value.length} times; give it once`, { field: name });
    else out[name] = coerceText(type, value);
  }
  return out;
}
