// HTTP plumbing: call log, injected faults, routing, auth, rate limit, JSON bodies, envelopes.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { authenticate, authorize, type TokenStore } from './auth.js';
import { ApiError, errorAnswer, fail, routeError, type Answer } from './envelope.js';
import { faultAnswer, type FaultInjector } from './faults.js';
import type { RateLimiter } from './ratelimit.js';
import { matchRoute, type Route } from './router.js';
import type { CallRecord } from './types.js';
import { looseJson, readBody, sendAnswer } from '../http-common.js';

export const API_PREFIX = '/client/v4';

export interface ServerDeps {
  routes: Route[];
  tokens: TokenStore;
  limiter: RateLimiter;
  faults: FaultInjector;
  calls: CallRecord[];
}

export function createFakeServer(deps: ServerDeps): Server {
  return createServer((req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      // A bug in the fake itself: answer loudly rather than hang the client.
      if (!res.headersSent) sendAnswer(res, errorAnswer(fail(500, 10001, `fake cloudflare: ${String(err)}`)), 'application/json');
    });
  });
}

async function handle(deps: ServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = await readBody(req);
  const url = new URL(req.url ?? '/', 'http://fake.invalid');
  const method = req.method ?? 'GET';
  const query = Object.fromEntries(url.searchParams);
  const call: CallRecord = { method, path: relativePath(url.pathname) ?? url.pathname, query, body: looseJson(raw), status: 0 };
  deps.calls.push(call);

  const fault = deps.faults.take(url.pathname);
  if (fault && 'drop' in fault) {
    req.socket.destroy(); // No answer at all: the client sees a network error.
    return;
  }
  if (fault && 'delayMs' in fault) await sleep(fault.delayMs);
  const answer = fault && 'status' in fault ? faultAnswer(fault) : dispatch(deps, method, url.pathname, query, req.headers.authorization, raw);
  call.status = answer.status;
  sendAnswer(res, answer, 'application/json');
}

function dispatch(
  deps: ServerDeps,
  method: string,
  fullPath: string,
  query: Record<string, string>,
  authorization: string | undefined,
  raw: string,
): Answer {
  let rateHeaders: Record<string, string> = {};
  try {
    // Routing comes first: an unroutable path answers 7003 even without credentials.
    const relative = relativePath(fullPath);
    const match = relative === undefined ? undefined : matchRoute(deps.routes, method, relative);
    if (!match) throw routeError(fullPath);
    const token = authenticate(authorization, deps.tokens, match.route.access);
    const rate = deps.limiter.take(token.value);
    rateHeaders = rate.headers;
    if (!rate.allowed) throw fail(429, 971, 'Please wait and consider throttling your request speed');
    authorize(token, match.route.access, method);
    const body = parseJson(raw);
    const answer = match.route.handle({ method, fullPath, params: match.params, query, body, token });
    return { ...answer, headers: { ...rateHeaders, ...answer.headers } };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    const answer = errorAnswer(err);
    return { ...answer, headers: { ...rateHeaders, ...answer.headers } };
  }
}

function relativePath(pathname: string): string | undefined {
  if (pathname !== API_PREFIX && !pathname.startsWith(`${API_PREFIX}/`)) return undefined;
  return pathname.slice(API_PREFIX.length) || '/';
}

function parseJson(raw: string): unknown {
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw fail(400, 6007, 'Malformed JSON in request body');
  }
}

