import type { z } from 'zod';
import { invalidInput, SupervisorError } from '../core/errors.js';

/** Describes the received value's type without echoing it (it may be a secret). */
function received(issue: z.core.$ZodIssue): string {
  return issue.code === 'invalid_type' ? issue.message.replace(/^Invalid input: /, '') : issue.message;
}

/** Parses input, turning zod issues into one `invalid_input` error that names every bad field. */
export function parseInput(schema: z.ZodType, raw: unknown, operation: string): unknown {
  if (raw === null || raw === undefined) raw = {};
  const nul = findNul(raw, []);
  if (nul) {
    const field = nul.join('.') || '(input)';
    throwInvalid(`invalid input for ${operation}: ${field}: must not contain NUL bytes`, [{ field, message: 'must not contain NUL bytes' }]);
  }
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const fields = result.error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join('.') : '(input)',
    message: received(issue),
  }));
  const summary = fields.map((f) => `${f.field}: ${f.message}`).join('; ');
  return throwInvalid(`invalid input for ${operation}: ${summary}`, fields);
}

/** Text with NUL cannot be stored or used as a path or variable anywhere, so no field accepts it. */
function findNul(value: unknown, path: Array<string | number>): Array<string | number> | undefined {
  if (typeof value === 'string') return value.includes('\0') ? path : undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findNul(item, [...path, i]);
      if (found) return found;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const found = findNul(item, [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}

function throwInvalid(message: string, fields: Array<{ field: string; message: string }>): never {
  throw invalidInput(message, { fields });
}

/** Dates become ISO strings so every interface returns the same JSON. */
export function toJsonValue(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJsonValue(v);
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
