import { isErrorCode, SupervisorError } from '../core/errors.js';
import type { Catalog } from './catalog.js';
import type { Invoker } from './invoker.js';
import { API_PREFIX, type Via } from './operation.js';

export interface RemoteOptions {
  baseUrl: string;
  token: string;
  via: Via;
  /** Narrow an admin credential to one project (stdio `--project p`). */
  project?: string;
}

function queryString(input: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const v of value) params.append(key, String(v));
    else params.append(key, typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/**
 * Calls operations on a running daemon through its REST routes, so the CLI and the
 * stdio MCP adapter give exactly what an in-process call gives.
 */
export class RemoteInvoker implements Invoker {
  constructor(
    private readonly catalog: Catalog,
    private readonly options: RemoteOptions,
  ) {}

  /** Progress is not relayed: a REST call answers once. */
  async invoke(name: string, input: unknown): Promise<Record<string, unknown>> {
    const op = this.catalog.require(name);
    const body = (input ?? {}) as Record<string, unknown>;
    const inQuery = op.rest.method === 'GET' || op.rest.method === 'DELETE';
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.token}`, 'x-supervisor-via': this.options.via };
    if (this.options.project) headers['x-supervisor-project'] = this.options.project;
    if (!inQuery) headers['content-type'] = 'application/json';
    const url = `${this.options.baseUrl}${API_PREFIX}${op.rest.path}${inQuery && typeof body === 'object' ? queryString(body) : ''}`;
    let response: Response;
    try {
      response = await fetch(url, { method: op.rest.method, headers, body: inQuery ? undefined : JSON.stringify(body) });
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
