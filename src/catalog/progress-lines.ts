import { isErrorCode, SupervisorError } from '../core/errors.js';
import type { Progress } from './operation.js';

type Line = { progress?: Progress; result?: Record<string, unknown>; error?: { code?: string; message?: string; details?: Record<string, unknown> } };

/**
 * Reads a call answered as JSON lines (see PROGRESS_LINES): text is fed as it comes; each
 * `{"progress"}` line goes to onProgress, the `{"result"}` line is returned once whole, and
 * the `{"error"}` line is thrown. Shared by the CLI's node:http invoker and the fetch one.
 */
export class ProgressLines {
  private buffered = '';

  constructor(private readonly onProgress: (step: Progress) => void) {}

  /** The result when this text completes its line; undefined while it has not come. */
  feed(text: string): Record<string, unknown> | undefined {
    this.buffered += text;
    let end: number;
    while ((end = this.buffered.indexOf('\n')) >= 0) {
      const line = JSON.parse(this.buffered.slice(0, end)) as Line;
      this.buffered = this.buffered.slice(end + 1);
      if (line.progress) this.onProgress(line.progress);
      else if (line.result) return line.result;
      else if (line.error?.code && isErrorCode(line.error.code)) throw new SupervisorError(line.error.code, line.error.message ?? 'error', line.error.details ?? {});
    }
    return undefined;
  }
}

/** The answer ended without its result line: the daemon stopped midway. */
export const endedEarly = () => new SupervisorError('unavailable', 'the daemon ended the answer before its result; the operation may or may not have finished');
