import type { z } from 'zod';
import { invalidInput, SupervisorError } from '../core/errors.js';
import { describeProblem, findInputProblem } from '../core/input-shape.js';
import { isoString } from '../core/iso-date.js';
import { didYouMean } from '../core/suggest.js';
import { clipped } from '../core/clip.js';

/** Describes the received value's type without echoing it (it may be a secret); a field left out is "required". */
function received(issue: z.core.$ZodIssue): string {
  if (issue.code === 'too_small' || issue.code === 'too_big') return boundWords(issue);
  if (issue.code !== 'invalid_type') return issue.message;
  if (issue.expected === 'int') return 'must be a whole number';
  // Text here is a query string's word that is none of these, or a JSON string where JSON has its own kind: say both.
  if (issue.expected === 'boolean' && !/received undefined$/.test(issue.message)) return 'expected true or false, without quotes in JSON (in a query string, true or false: text such as "yes" is not a boolean)';
  if (issue.expected === 'number' && /received string$/.test(issue.message)) return 'expected a number, without quotes in JSON (in a query string, decimal digits)';
  const described = issue.message.replace(/^Invalid input: /, '');
  return /, received undefined$/.test(described) ? `is required (${described.replace(/, received undefined$/, '')})` : described;
}

/**
 * A bound in words ("must be at least 1") instead of zod's notation ("Too small: expected number
 * to be >=1"); a schema's own message is kept.
 */
function boundWords(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  if (!/^Too (small|big):/.test(issue.message)) return issue.message;
  const small = issue.code === 'too_small';
  const limit = Number(small ? issue.minimum : issue.maximum);
  const inclusive = issue.inclusive !== false;
  const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
  switch (issue.origin) {
    case 'number':
    case 'int':
    case 'bigint':
      return `must be ${small ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than'} ${limit}`;
    case 'string':
      return small && limit === 1 ? 'must not be empty' : `must be ${small ? 'at least' : 'at most'} ${plural(limit, 'character')} long`;
    case 'array':
    case 'set':
      return small && limit === 1 ? 'must not be empty' : `must have ${small ? 'at least' : 'at most'} ${plural(limit, 'item')}`;
    default:
      return issue.message;
  }
}

/** How many unknown field names an error names, and how much of each; how many other problems. */
const UNKNOWN_SHOWN = 5;
const NAME_SHOWN = 64;
const ISSUES_SHOWN = 10;

/** Parses input, turning zod issues into one `invalid_input` error that names every bad field. */
export function parseInput(schema: z.ZodType, raw: unknown, operation: string): unknown {
  if (raw === null || raw === undefined) raw = {};
  // Before zod: it recurses, and text that cannot be stored as given must be refused, not altered.
  const found = findInputProblem(raw);
  if (found) {
    const field = found.path.join('.') || '(input)';
    const message = describeProblem(found.problem);
    throwInvalid(`invalid input for ${operation}: ${field}: ${message}`, [{ field, message }]);
  }
  const unknown = unknownFields(schema, raw);
  if (unknown) {
    // A few names, each cut short, are enough to fix a request; all of them would make an
    // error as large as the body (200,000 unknown names answered 18 MB).
    const shown = unknown.names.slice(0, UNKNOWN_SHOWN).map((name) => clipped(name, NAME_SHOWN + 1));
    const fields = shown.map((field) => ({ field, message: `not a field of ${operation}${didYouMean(field, unknown.known)}` }));
    const more = unknown.names.length - shown.length;
    const summary = fields.map((f) => `${f.field}: ${f.message}`).join('; ') + (more > 0 ? `; and ${more} more unknown field${more === 1 ? '' : 's'}` : '');
    throwInvalid(`invalid input for ${operation}: ${summary} (its fields: ${unknown.known.join(', ') || 'none'})`, fields);
  }
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  // One line per field and message: two checks of one rule (a port's range, its whole-number test) fail alike.
  const seen = new Set<string>();
  const issues = result.error.issues.filter((issue) => {
    const key = `${issue.path.join('.')}\0${received(issue)}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
  const fields = issues.slice(0, ISSUES_SHOWN).map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join('.') : '(input)',
    message: received(issue),
  }));
  const more = issues.length - fields.length;
  const summary = fields.map((f) => `${f.field}: ${f.message}`).join('; ') + (more > 0 ? `; and ${more} more problem${more === 1 ? '' : 's'}` : '');
  return throwInvalid(`invalid input for ${operation}: ${summary}`, fields);
}

/**
 * Top-level fields the operation does not have. They are refused rather than dropped: a
 * misspelt optional field (`expires_at` for `expiresAt`) would otherwise be lost in silence.
 */
function unknownFields(schema: z.ZodType, raw: unknown): { names: string[]; known: string[] } | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !('shape' in schema)) return undefined;
  const shape = (schema as z.ZodObject).shape;
  let names: string[] | undefined;
  for (const key in raw) if (!Object.hasOwn(shape, key)) (names ??= []).push(key);
  return names && { names, known: Object.keys(shape) };
}

function throwInvalid(message: string, fields: Array<{ field: string; message: string }>): never {
  throw invalidInput(message, { fields });
}

/** Dates become ISO strings so every interface returns the same JSON. */
export function toJsonValue(value: unknown): unknown {
  if (value instanceof Date) return isoString(value);
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k in value) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined && Object.hasOwn(value, k)) out[k] = toJsonValue(v);
    }
    return out;
  }
  return value;
}

export function checkOutput(schema: z.ZodType, value: unknown, operation: string): Record<string, unknown> {
  const result = schema.safeParse(toJsonValue(value));
  if (!result.success) {
    throw new SupervisorError('internal', `operation ${operation} produced output that does not match its schema`, {
      issues: result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
    });
  }
  return result.data as Record<string, unknown>;
}
