// HTTP plumbing shared by the three fake servers: one listener each, a call log, injected
// faults, JSON answers, and a bug in the fake surfacing as a loud 500 instead of a hang.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultInjector } from './faults.js';
import type { CallRecord, Service } from './types.js';
import { looseJson, matchSegments, readBody, sendAnswer, type Answer } from '../http-common.js';

export type { Answer };

export interface Request {
  method: string;
  path: string;
  query: URLSearchParams;
  raw: string;
  contentType: string;
  authorization?: string;
  /** Filled in by handlers so the call log can say who called and for which project. */
  call: CallRecord;
  /** Aborts when the caller hangs up, so a call held open (operations.wait) stops holding. */
  gone: AbortSignal;
}

export type Handler = (req: Request) => Promise<Answer> | Answer;

export interface ServiceServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function startServiceServer(
  service: Service,
  handler: Handler,
  deps: { calls: CallRecord[]; faults: FaultInjector },
  port = 0,
): Promise<ServiceServer> {
  const server = createServer((req, res) => {
    serve(service, handler, deps, req, res).catch((err: unknown) => {
      if (!res.headersSent) sendAnswer(res, { status: 500, body: { error: { code: 500, message: `fake google ${service}: ${String(err)}` } } }, 'application/json; charset=UTF-8');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function serve(
  service: Service,
  handler: Handler,
  deps: { calls: CallRecord[]; faults: FaultInjector },
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const raw = await readBody(req);
  const url = new URL(req.url ?? '/', 'http://fake.invalid');
  const method = req.method ?? 'GET';
  const call: CallRecord = { service, method, path: url.pathname, query: Object.fromEntries(url.searchParams), body: looseJson(raw), status: 0 };
  deps.calls.push(call);
  const hangUp = new AbortController();
  res.once('close', () => hangUp.abort());
  const request: Request = {
    method,
    path: url.pathname,
    query: url.searchParams,
    raw,
    contentType: req.headers['content-type'] ?? '',
    authorization: req.headers.authorization,
    call,
    gone: hangUp.signal,
  };

  const fault = deps.faults.take(service, method, url.pathname);
  if (fault && 'drop' in fault) {
    req.socket.destroy();
    return;
  }
  if (fault && 'delayMs' in fault) await sleep(fault.delayMs);
  if (fault && 'heldUntil' in fault) await fault.heldUntil;
  let answer: Answer;
  if (fault && 'status' in fault) {
    // afterApply: the change happens but its answer is lost, as when a connection fails late.
    if (fault.afterApply) await handler(request);
    answer = faultAnswer(service, fault.status);
  } else {
    answer = await handler(request);
  }
  call.status = answer.status;
  sendAnswer(res, answer, 'application/json; charset=UTF-8');
}

/** What Google's front ends answer when throttling or failing, in each product's envelope. */
function faultAnswer(service: Service, status: 429 | 500 | 503): Answer {
  const texts = {
    429: { text: 'Rate Limit Exceeded', reason: 'rateLimitExceeded', domain: 'usageLimits', status: 'RESOURCE_EXHAUSTED' },
    500: { text: 'Internal error. Please try again or contact Google Support.', reason: 'backendError', domain: 'global', status: 'INTERNAL' },
    503: { text: 'The service is currently unavailable.', reason: 'backendError', domain: 'global', status: 'UNAVAILABLE' },
  }[status];
  if (service === 'oauth') return { status, body: { error: 'internal_failure', error_description: texts.text } };
  const error: Record<string, unknown> = { code: status, message: texts.text };
  if (service === 'compute') error.errors = [{ message: texts.text, domain: texts.domain, reason: texts.reason }];
  error.status = texts.status;
  return { status, body: { error } };
}

/** Google's front end answers unknown paths with an HTML page, not a JSON envelope. */
export function htmlNotFound(path: string): Answer {
  return {
    status: 404,
    contentType: 'text/html; charset=UTF-8',
    body: `<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error 404 (Not Found)!!1</title>\n  <p><b>404.</b> <ins>That’s an error.</ins>\n  <p>The requested URL <code>${path}</code> was not found on this server.  <ins>That’s all we know.</ins>\n`,
  };
}

/** Path segments matched against a pattern with ":name" placeholders. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  return matchSegments(pattern.split('/').filter(Boolean), path.split('/').filter(Boolean));
}
