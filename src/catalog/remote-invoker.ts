import { isErrorCode, SupervisorError } from '../core/errors.js';
import type { Invoker } from './invoker.js';
import { API_PREFIX, type Via } from './operation.js';

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

  /** Progress is not relayed: a REST call answers once. */
  async invoke(name: string, input: unknown): Promise<Record<string, unknown>> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.token}`, 'x-supervisor-via': this.options.via, 'content-type': 'application/json' };
    if (this.options.project) headers['x-supervisor-project'] = this.options.project;
    let response: Response;
    try {
      response = await fetch(`${this.options.baseUrl}${API_PREFIX}/call/${encodeURIComponent(name)}`, { method: 'POST', headers, body: JSON.stringify(input ?? {}) });
    } catch (err) {
      throw new SupervisorError('unavailable', `the daemon at ${this.options.baseUrl} is not answering (${(err as Error).message}); is it running?`);
    }
    const payload = (await response.json().catch(() => undefined)) as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined;
    if (response.ok && payload) return payload as Record<string, unknown>;
    const error = payload?.error;
    if (error?.code && isErrorCode(error.code)) throw new SupervisorError(error.code, error.message ?? 'error', error.details ?? {});
    throw new SupervisorError('unavailable', `the daemon answered HTTP ${response.status} without an error body`);
  }
}
