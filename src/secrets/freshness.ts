import type { SecretsService } from './service.js';

type Marks = Pick<SecretsService, 'changeMark'>;

/** When a value was read from a secret: the secret's change mark just before, and the time. */
export interface ReadStamp {
  at: number;
  mark: string | undefined;
}

/** Take it before reading the secret: a write racing the read then moves the mark past it. */
export function readStamp(secrets: Marks, path: string, now: number): ReadStamp {
  return { at: now, mark: secrets.changeMark(path) };
}

/**
 * Whether a value read under `stamp` is still the secret's: its change mark has not moved (a
 * write here or, heard by notification, on another daemon moves it), or, while other daemons'
 * writes cannot be heard, it was read less than `ttlMs` ago.
 */
export function stillCurrent(secrets: Marks, path: string, stamp: ReadStamp, now: number, ttlMs: number): boolean {
  const mark = secrets.changeMark(path);
  if (mark !== undefined && stamp.mark !== undefined) return mark === stamp.mark;
  return now - stamp.at < ttlMs;
}
