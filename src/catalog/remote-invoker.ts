import { isErrorCode, SupervisorError } from '../core/errors.js';
import { PROGRESS_LINES, type InvokeOptions, type Invoker } from './invoker.js';
import { API_PREFIX, type Progress, type Via } from './operation.js';
import { endedEarly, ProgressLines } from './progress-lines.js';

export interface RemoteOptions {
  baseUrl: string;
  token: string;
  via: Via;
  /** Narrow an admin credential to one project (stdio `--project p`). */
  project?: string;
}

/**
 * Calls operations on a running daemon with their input as JSON (`POST /api/v1/call/<name>`),
 * so the CLI through the daemon validates exactly as MCP and an in-process call do.
 */
export class RemoteInvoker implements Invoker {
  constructor(private readonly options: RemoteOptions) {}

  /** With onProgress, the daemon sends the steps as JSON lines before the answer (see streamed()). */
  async invoke(name: string, input: unknown, options: InvokeOptions = {}): Promise<Record<string, unknown>> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.token}`, 'x-supervisor-via': this.options.via, 'content-type': 'application/json' };
    if (this.options.project) headers['x-supervisor-project'] = this.options.project;
    if (options.onProgress) headers.accept = PROGRESS_LINES;
    let response: Response;
    try {
      response = await fetch(`${this.options.baseUrl}${API_PREFIX}/call/${encodeURIComponent(name)}`, { method: 'POST', headers, body: JSON.stringify(input ?? {}) });
    } catch (err) {
      throw new SupervisorError('unavailable', `the daemon at ${this.options.baseUrl} is not answering (${(err as Error).message}); is it running?`);
    }
    if (response.ok && options.onProgress && response.headers.get('content-type')?.startsWith(PROGRESS_LINES)) return streamed(response, options.onProgress);
    const payload = (await response.json().catch(() => undefined)) as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined;
    if (response.ok && payload) return payload as Record<string, unknown>;
    const error = payload?.error;
    if (error?.code && isErrorCode(error.code)) throw new SupervisorError(error.code, error.message ?? 'error', error.details ?? {});
    throw new SupervisorError('unavailable', `the daemon answered HTTP ${response.status} without an error body`);
  }
}

/** Reads the steps as they come, then answers the result or throws the error (ProgressLines). */
async function streamed(response: Response, onProgress: (step: Progress) => void): Promise<Record<string, unknown>> {
  const decoder = new TextDecoder();
  const lines = new ProgressLines(onProgress);
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    const result = lines.feed(decoder.decode(chunk, { stream: true }));
    if (result) return result;
  }
  throw endedEarly();
}
