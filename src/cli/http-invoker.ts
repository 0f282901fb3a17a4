import { request, type IncomingMessage } from 'node:http';
import { request as requestTls } from 'node:https';
import { LIVENESS, watchDaemon, type Liveness } from '../core/daemon-liveness.js';
import { isErrorCode, SupervisorError } from '../core/errors.js';
import { PROGRESS_LINES, type InvokeOptions, type Invoker } from '../catalog/invoker.js';
import { endedEarly, ProgressLines } from '../catalog/progress-lines.js';

/**
 * Calls an operation on the daemon (`POST /api/v1/call/<name>`) with node:http:
 * the same wire as RemoteInvoker, without loading fetch, which costs a CLI call
 * more start-up time than the call itself. A call may take minutes (a PIV loop, a VM change),
 * so it has no time limit; a daemon that stops answering /healthz meanwhile ends it (Liveness).
 */
export class HttpInvoker implements Invoker {
  constructor(
    private readonly options: {
      baseUrl: string;
      token: string;
      project?: string;
      liveness?: Liveness;
      /** Whether an operation only reads (asked only when a call goes unanswered): such a call changed nothing, and is said so. */
      readsOnly?: (name: string) => Promise<boolean>;
    },
  ) {}

  /** With onProgress the daemon sends the steps of long work as JSON lines before the answer (a VM resize's stop, type change, start). */
  invoke(name: string, input: unknown, options: InvokeOptions = {}): Promise<Record<string, unknown>> {
    const url = new URL(`${this.options.baseUrl}/api/v1/call/${encodeURIComponent(name)}`);
    const body = JSON.stringify(input ?? {});
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.token}`, 'x-supervisor-via': 'cli', 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
    if (this.options.project) headers['x-supervisor-project'] = this.options.project;
    if (options.onProgress) headers.accept = PROGRESS_LINES;
    const stalled = new AbortController();
    const unwatch = watchDaemon(this.options.baseUrl, this.options.liveness ?? LIVENESS, (reason) => stalled.abort(reason));
    const call = new Promise<Record<string, unknown>>((resolve, reject) => {
      const req = (url.protocol === 'https:' ? requestTls : request)(url, { method: 'POST', headers, signal: stalled.signal }, (response) => {
        if (options.onProgress && response.statusCode === 200 && response.headers['content-type']?.startsWith(PROGRESS_LINES)) {
          streamed(response, new ProgressLines(options.onProgress)).then(resolve, reject);
          return;
        }
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          let payload: { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined;
          try {
            payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof payload;
          } catch {
            payload = undefined;
          }
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300 && payload) return resolve(payload as Record<string, unknown>);
          const error = payload?.error;
          if (error?.code && isErrorCode(error.code)) return reject(new SupervisorError(error.code, error.message ?? 'error', error.details ?? {}));
          reject(new SupervisorError('unavailable', `the daemon answered HTTP ${status} without an error body`));
        });
      });
      req.on('error', (err: NodeJS.ErrnoException) => void this.unanswered(name, err, stalled.signal).then(reject));
      req.end(body);
    });
    return call.finally(unwatch);
  }

  /** Why a call got no answer, and what that means for what it was to do. */
  private async unanswered(name: string, err: NodeJS.ErrnoException, stalled: AbortSignal): Promise<SupervisorError> {
    const daemon = `the daemon at ${this.options.baseUrl}`;
    // Refused, nothing was sent; any other failure came after the connection was made, and the daemon may have carried the call out.
    if (err.code === 'ECONNREFUSED') return new SupervisorError('unavailable', `${daemon} is not answering (${err.message}); is it running?`);
    const what = (await this.options.readsOnly?.(name).catch(() => false))
      ? `${name} only reads, so nothing was changed; try again once it answers (\`supervisor daemon status\`)`
      : `${name} may or may not have been carried out: check before running it again (\`supervisor daemon status\`)`;
    if (stalled.aborted) return new SupervisorError('unavailable', `${daemon} stopped answering (${(stalled.reason as Error).message}); ${what}`);
    return new SupervisorError('unavailable', `${daemon} closed the connection before answering (${err.message}): it may be stopping or restarting; ${what}`);
  }
}

/** The steps as they come, then the result line (or the error line, thrown). */
function streamed(response: IncomingMessage, lines: ProgressLines): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let done = false;
    response.setEncoding('utf8');
    response.on('data', (text: string) => {
      if (done) return;
      try {
        const result = lines.feed(text);
        if (result) {
          done = true;
          resolve(result);
        }
      } catch (err) {
        done = true;
        reject(err);
      }
    });
    response.on('error', reject);
    response.on('end', () => done || reject(endedEarly()));
  });
}
