import type { Progress } from './operation.js';

/**
 * What every adapter calls. In-process (`LocalInvoker`) or through the daemon's
 * REST API (`RemoteInvoker`): same inputs, same outputs, same errors.
 */
export interface Invoker {
  invoke(operation: string, input: unknown, options?: InvokeOptions): Promise<Record<string, unknown>>;
}

export interface InvokeOptions {
  /** Steps of long work as they happen: in process, or sent by the daemon as JSON lines (PROGRESS_LINES). */
  onProgress?(step: Progress): void;
}

/** The media type of a call answered as JSON lines: progress steps as they happen, then the result or the error. */
export const PROGRESS_LINES = 'application/x-ndjson';
