// Input validation's errors stay readable and small whatever the input: a few problems named,
// the rest counted; suggestions for typos, none for names nothing like a field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { parseInput } from '../../src/catalog/validate.js';
import { SupervisorError } from '../../src/core/errors.js';
import { suggest } from '../../src/core/suggest.js';

const refusal = (schema: z.ZodType, raw: unknown): SupervisorError => {
  try {
    parseInput(schema, raw, 'toy_op');
  } catch (err) {
    assert.ok(err instanceof SupervisorError);
    return err;
  }
  assert.fail('the input was taken');
};

test('fifty thousand bad items: ten named, the rest counted', () => {
  const err = refusal(z.object({ ports: z.array(z.number()) }), { ports: Array.from({ length: 50_000 }, (_, i) => String(i)) });
  assert.match(err.message, /^invalid input for toy_op: ports\.0: expected a number, without quotes in JSON \(in a query string, decimal digits\); .*ports\.9: .*; and 49990 more problems$/);
  assert.equal((err.details.fields as unknown[]).length, 10);
});

test('text where a query string gives numbers and switches: only decimal digits are a number, only true and false a switch, and the error says so', async () => {
  const { coerceText } = await import('../../src/catalog/json-schema.js');
  assert.deepEqual(['3105', '-2', '2.5', '007'].map((v) => coerceText('integer', v)), [3105, -2, 2.5, 7]);
  for (const text of ['0x10', '1e3', ' 3105', '3105 ', 'Infinity', '', '+1', '0b11']) assert.equal(coerceText('number', text), text, JSON.stringify(text));
  assert.equal(coerceText('boolean', 'yes'), 'yes');
  const schema = z.object({ port: z.number().int(), includeDeleted: z.boolean() });
  const err = refusal(schema, { port: coerceText('integer', '0x10'), includeDeleted: coerceText('boolean', 'yes') });
  assert.equal(err.message, 'invalid input for toy_op: port: expected a number, without quotes in JSON (in a query string, decimal digits); includeDeleted: expected true or false, without quotes in JSON (in a query string, true or false: text such as "yes" is not a boolean)');
});

test('suggestions: a typo gets the field, a name far longer or shorter than every field gets none', () => {
  assert.deepEqual(suggest('expires_at', ['path', 'value', 'expiresAt']), ['expiresAt']);
  assert.deepEqual(suggest('vaule', ['path', 'value']), ['value']);
  assert.deepEqual(suggest('pathh', ['path', 'value']), ['path']);
  assert.deepEqual(suggest('x'.repeat(600_000), ['path', 'value']), []);
  assert.deepEqual(suggest('q', ['path', 'value']), []);
  // Case aside, and the end of a longer field: rollback_secret's version is its toVersion.
  assert.deepEqual(suggest('version', ['path', 'toVersion', 'ifVersion']), ['ifVersion', 'toVersion']);
  assert.deepEqual(suggest('EXPIRESAT', ['path', 'expiresAt']), ['expiresAt']);
});

test('a field left out is named as required, with the kind it takes', () => {
  const err = refusal(z.object({ path: z.string(), limit: z.number().optional() }), {});
  assert.equal(err.message, 'invalid input for toy_op: path: is required (expected string)');
});

test('a port, a time and a setting value: left out is required, text for a number is said, a day that does not exist is not called a missing offset, null is not a value', async () => {
  const { portNumber } = await import('../../src/ports/range.js');
  assert.equal(refusal(z.object({ port: portNumber }), {}).message, 'invalid input for toy_op: port: is required (expected number)');
  assert.equal(refusal(z.object({ port: portNumber }), { port: '3105' }).message, 'invalid input for toy_op: port: a port is a whole number from 1 to 65535 (in JSON a number, not text; in a query string, decimal digits)');
  const { secretOperations } = await import('../../src/secrets/operations.js');
  const setSecret = secretOperations.find((op) => op.name === 'set_secret')!;
  assert.match(refusal(setSecret.input, { path: 'project/x/y', value: 'v', expiresAt: '2030-02-29T00:00:00Z' }).message, /expiresAt: is not a time on the calendar/);
  assert.match(refusal(setSecret.input, { path: 'project/x/y', value: 'v', expiresAt: '2030-02-28' }).message, /expiresAt: expected a time with its offset, not a date alone: 2030-02-28T00:00:00Z for midnight UTC/);
  assert.match(refusal(setSecret.input, { path: 'project/x/y', value: 'v', expiresAt: 'next tuesday' }).message, /expiresAt: expected an ISO 8601 time with its offset, e\.g\. 2030-01-01T00:00:00Z/);
  const { configOperations } = await import('../../src/settings/operations.js');
  const setSetting = configOperations.find((op) => op.name === 'set_setting')!;
  assert.match(refusal(setSetting.input, { name: 'logLevel', value: null }).message, /value: expected text, a number or true\/false \(null is not a value; unset: true goes back to the default\)/);
});

test('two checks of one field that fail alike are one line, not the same sentence twice', () => {
  const port = z.number().int('a port is a whole number from 1 to 65535').min(1, 'a port is a whole number from 1 to 65535').max(65535, 'a port is a whole number from 1 to 65535');
  const err = refusal(z.object({ port }), { port: 1e308 });
  assert.equal(err.message, 'invalid input for toy_op: port: a port is a whole number from 1 to 65535');
});

test("a bound is said in words, not in zod's notation; a schema's own message is kept", () => {
  const schema = z.object({
    limit: z.number().int().min(1).max(500),
    ratio: z.number().gt(0).lt(1),
    name: z.string().min(1).max(5),
    code: z.string().min(3),
    tags: z.array(z.string()).min(1).max(2),
    size: z.number().min(10, 'size: give 10 or more'),
    whole: z.number().int(),
  });
  const low = refusal(schema, { limit: 0, ratio: 0, name: '', code: 'ab', tags: [], size: 1, whole: 1.5 });
  assert.equal(
    low.message,
    'invalid input for toy_op: limit: must be at least 1; ratio: must be more than 0; name: must not be empty; code: must be at least 3 characters long; tags: must not be empty; size: size: give 10 or more; whole: must be a whole number',
  );
  const high = refusal(schema, { limit: 501, ratio: 1, name: 'toolong', code: 'abc', tags: ['a', 'b', 'c'], size: 10, whole: 1 });
  assert.equal(high.message, 'invalid input for toy_op: limit: must be at most 500; ratio: must be less than 1; name: must be at most 5 characters long; tags: must have at most 2 items');
});

test('every invalid_input that names fields lists them as { field, message }, whichever check refused', async () => {
  const { invalidInput } = await import('../../src/core/errors.js');
  const schemaErr = refusal(z.object({ port: z.number() }), { port: 'x' });
  assert.deepEqual((schemaErr.details.fields as Array<{ field: string }>).map((f) => f.field), ['port']);
  // A handler's one field, and its fields given as names.
  assert.deepEqual(invalidInput('address must be an IP address', { field: 'address' }).details, { field: 'address', fields: [{ field: 'address', message: 'address must be an IP address' }] });
  assert.deepEqual(invalidInput('give size or range', { fields: ['size', 'range'] }).details.fields, [
    { field: 'size', message: 'give size or range' },
    { field: 'range', message: 'give size or range' },
  ]);
  assert.deepEqual(invalidInput('no field named').details, {});
});
