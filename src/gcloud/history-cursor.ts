// The auto-scaler history's cursor: the last evaluation shown, by when it began and its id (the
// order the history is read in), sealed as every list's cursor is (core/page.ts).
import { z } from 'zod';
import { badCursor, decodeCursor, encodeCursor } from '../core/page.js';
import type { EvaluationRow, HistoryKey } from './policies.js';

const KEY = z.tuple([z.iso.datetime(), z.number().int().positive()]);

export const historyCursor = (last: Pick<EvaluationRow, 'at' | 'id'>): string => encodeCursor(JSON.stringify([last.at.toISOString(), last.id]));

/** The history page a cursor ends at; one this list did not issue is refused. */
export function historyKey(cursor: string): HistoryKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodeCursor(cursor));
  } catch {
    throw badCursor();
  }
  const key = KEY.safeParse(parsed);
  if (!key.success) throw badCursor();
  return { at: new Date(key.data[0]), id: key.data[1] };
}
