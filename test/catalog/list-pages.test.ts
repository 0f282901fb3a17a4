/**
 * The README promises that list tools page: every read whose answer is a list of `items`
 * takes `limit` and `cursor` and answers `nextCursor`, so no answer floods an agent's context.
 * The exceptions are named here and in the README, each with why it answers whole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { z } from 'zod';
import { catalog } from '../../src/app.js';

const WHOLE = [
  // No room in the meta tool list for limit and cursor (test/mcp/budget.test.ts); the README names them.
  'gcloud_get_autoscale_policy',
  'gcloud_list_accounts',
  'gcloud_list_vms',
  // A series bounded by its own `points` (at most 1,440 buckets), not a list.
  'gcloud_health_history',
];

const fieldsOf = (schema: z.ZodType): string[] => Object.keys((schema as z.ZodObject).shape ?? {});

test('every list read takes limit and cursor and answers nextCursor, but the named exceptions', () => {
  const lists = catalog.all().filter((op) => op.annotations.readOnlyHint && fieldsOf(op.output).includes('items'));
  assert.ok(lists.length > 15, `only ${lists.length} list reads seen: is the walk reading the schemas?`);
  const unpaged = lists.filter((op) => !['limit', 'cursor'].every((f) => fieldsOf(op.input).includes(f)) || !fieldsOf(op.output).includes('nextCursor')).map((op) => op.name);
  assert.deepEqual(unpaged.sort(), [...WHOLE].sort());
});
