import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { invalidInput, SupervisorError, toSupervisorError } from '../core/errors.js';
import type { AppCore } from '../catalog/wire.js';
import type { Principal } from '../core/principal.js';
import type { SchemaProblem } from '../core/schema-watch.js';
import { authenticate, localTokenOf } from './auth.js';
import { DenialLog } from './denials.js';
import { dashboardHeaders, dashboardHtml, faviconSvg } from './dashboard.js';
import { jsonRpcError, jsonRpcParseError, registerMcpRoutes } from './mcp.js';
import { openApiDocument } from './openapi.js';
import { API_PREFIX } from '../catalog/operation.js';
import { registerRestRoutes } from './rest.js';
import { refuseWhileClosing } from './closing.js';
import { isUnreadableBody, registerGuards } from './guards.js';

/** Large enough that an oversized secret reaches validation and gets an error naming the field. */
const BODY_LIMIT = 16 * 1024 * 1024;

/** Static assets: served without a token, and never audited (a browser asks for /favicon.ico on every dashboard load). */
const STATIC = ['/favicon.ico', '/favicon.svg'];
/** Paths served without a token: they reveal no data. */
const PUBLIC = new Set(['/', '/healthz', '/readyz', `${API_PREFIX}/openapi.json`, ...STATIC]);

/** Fastify's own errors (bad JSON, body too large, wrong content type) in our error shape. */
function fromFastifyError(err: FastifyError): SupervisorError {
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new SupervisorError('too_large', `request body is larger than ${BODY_LIMIT} bytes`);
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new SupervisorError('invalid_input', 'send the body as application/json');
  if (err.statusCode === 400) return new SupervisorError('invalid_input', `request body is not valid JSON: ${err.message}`);
  if (err.statusCode === 404) return new SupervisorError('not_found', err.message);
  return toSupervisorError(err);
}

/** Errors fastify's router answers before any handler (a bad %-escape, an overlong name in the path), in our error format. */
function frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const message = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? `a name in the URL path is longer than ${MAX_PARAM_LENGTH} characters` : 'the URL path is not valid: a %-escape in it does not decode';
  void reply.status(400).send(invalidInput(message).toJSON());
}

/** fastify's limit on one name in a path (`/api/v1/call/<operation>`, `/mcp/<project>`). */
const MAX_PARAM_LENGTH = 100;

/**
 * Requests Node refuses before fastify sees them (headers too large, not arriving in time, not
 * HTTP), answered in our error format with the status that says why, then the connection closed.
 */
function clientError(requestTimeoutMs: number) {
  return (err: NodeJS.ErrnoException, socket: Duplex): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, error] =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, invalidInput(`the request did not arrive whole within ${requestTimeoutMs / 1000} s`)]
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? [431, new SupervisorError('too_large', `the request line and headers are too large: together at most ${maxHeaderSize / 1024} KiB (a long query string counts; send long input as a JSON body)`, { limitBytes: maxHeaderSize })]
          : [400, invalidInput('the request is not valid HTTP')];
    if (socket.writable) {
      const body = JSON.stringify(error.toJSON());
      socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    }
    socket.destroy();
  };
}

/** The methods each registered path takes (`:name` segments match any one segment), for a 405's Allow. */
class RouteMethods {
  private readonly routes: Array<{ pattern: RegExp; methods: Set<string> }> = [];

  add(url: string, method: string | string[]): void {
    const pattern = new RegExp(`^${url.split('/').map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')}$`);
    // HEAD is listed where a route answers it (fastify adds it beside a GET unless the route opts out).
    const methods = Array.isArray(method) ? method : [method];
    this.routes.push({ pattern, methods: new Set(methods) });
  }

  of(path: string): string[] {
    const allowed = new Set<string>();
    for (const route of this.routes) if (route.pattern.test(path)) for (const m of route.methods) allowed.add(m);
    return [...allowed].sort();
  }
}

export interface HttpOptions {
  /** The daemon's per-run credential for the CLI and stdio adapters on this host. */
  localToken: string;
  /** The auth domain's token check. */
  verifyToken(token: string): Promise<Principal | undefined>;
  /** How long a client may take to send a whole request (tests shorten it). */
  requestTimeoutMs?: number;
}

/**
 * A request must arrive whole within this: a client that sends its headers and then a body more
 * slowly than that (or never) is answered 408 and its connection closed, instead of being held
 * open for as long as it likes. Answers may take longer; streams of progress lines are answers.
 */
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * How long /readyz waits for the database: a probe (a load balancer's, `daemon status`) gives up
 * after a few seconds, and a silent database would otherwise hold it for the connect timeout.
 */
const READY_LIMIT_MS = 2_000;

/** Whether `work` settled well within `ms`: 'ok', 'failed', or 'late' (it goes on, unawaited). */
async function answerWithin(ms: number, work: Promise<unknown>): Promise<'ok' | 'failed' | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  try {
    return await Promise.race([work.then(() => 'ok' as const, () => 'failed' as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Seconds a client is told to wait before retrying an `unavailable` answer (a database reconnecting, a daemon restarting). */
const UNAVAILABLE_RETRY_AFTER_S = 5;

export async function buildHttpServer(services: AppCore, options: HttpOptions): Promise<FastifyInstance> {
  const requestTimeout = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  // Node looks for late requests this often (30 s by default): a short timeout needs a shorter look.
  // Its headers timeout (60 s) must not exceed the request timeout, or it decides alone.
  const http = { connectionsCheckingInterval: Math.min(30_000, Math.max(50, requestTimeout / 2)), headersTimeout: Math.min(60_000, requestTimeout) };
  const app = Fastify({ bodyLimit: BODY_LIMIT, routerOptions: { maxParamLength: MAX_PARAM_LENGTH }, logger: false, requestTimeout, http, frameworkErrors, clientErrorHandler: clientError(requestTimeout), return503OnClosing: false });
  refuseWhileClosing(app);
  registerGuards(app, { host: services.config.host, allowedHosts: services.config.allowedHosts });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (request.url.startsWith('/mcp/') && (isUnreadableBody(err) || (!(err instanceof SupervisorError) && err.statusCode === 400))) {
      return reply.status(400).send(jsonRpcParseError(err.message));
    }
    // As the MCP SDK answers it (415, a JSON-RPC error), not in the REST shape an MCP client cannot read.
    if (request.url.startsWith('/mcp/') && err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.status(415).send(jsonRpcError(-32000, 'Unsupported Media Type: send the body as application/json'));
    }
    const error = err instanceof SupervisorError ? err : fromFastifyError(err);
    // Errors from operations were logged by the invoker; log only what failed outside one, and a
    // caller's mistake (4xx) is not the daemon's error.
    if (!(err instanceof SupervisorError)) {
      const level = error.httpStatus < 500 ? 'info' : 'error';
      services.log[level]({ err, url: request.url.split('?')[0]?.slice(0, 200) }, 'request failed');
    }
    if (error.code === 'rate_limited') void reply.header('retry-after', String(error.details.retryAfterSeconds ?? 1));
    // The database gone or the daemon stopping is for now (RFC 9110 §10.2.3): clients that retry know when. Not not_configured, which waits for a person.
    // An operation may know better (a retried VM resize stops the VM again).
    else if (error.code === 'unavailable') void reply.header('retry-after', String(error.details.retryAfterSeconds ?? UNAVAILABLE_RETRY_AFTER_S));
    // RFC 9110 §15.5.2: a 401 names its scheme. RFC 6750 §3.1: invalid_token when a token was sent and refused.
    if (error.httpStatus === 401) void reply.header('www-authenticate', error.details.credential === 'refused' ? 'Bearer realm="supervisor", error="invalid_token"' : 'Bearer realm="supervisor"');
    return reply.status(error.httpStatus).send(error.toJSON());
  });
  const routes = new RouteMethods();
  app.addHook('onRoute', (route) => routes.add(route.url, route.method));
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!.slice(0, 200);
    // A path that exists under other methods is 405 with Allow (RFC 9110 §15.5.6), not a missing route.
    const allow = routes.of(path);
    if (allow.length > 0) {
      return reply
        .status(405)
        .header('allow', allow.join(', '))
        .send(new SupervisorError('method_not_allowed', `${path} takes ${allow.join(', ')}, not ${request.method}; see ${API_PREFIX}/openapi.json`, { allow }).toJSON());
    }
    return reply.status(404).send(new SupervisorError('not_found', `no route ${request.method} ${path}; see ${API_PREFIX}/openapi.json`).toJSON());
  });
  const localToken = localTokenOf(options.localToken);
  const authenticator = { verifyToken: options.verifyToken, audit: services.audit, denials: new DenialLog(services.audit, services.clock) };
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0]!;
    // Answers carry secret values, tokens and project data: no browser or proxy keeps a copy (Vault
    // says the same on every answer), and no browser takes one for anything but its declared type
    // (a value that looks like HTML or script). Set first, so refusals carry them too.
    if (path.startsWith(`${API_PREFIX}/`) || path.startsWith('/mcp/')) void reply.headers({ 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    // /.well-known/ is where an MCP client looks for OAuth metadata after a 401: a 404 there tells it
    // this server takes no OAuth (its tokens are configured), where a 401 sent it round again.
    if (PUBLIC.has(path) || path.startsWith('/.well-known/')) return;
    try {
      await authenticate(request, authenticator, localToken);
    } catch (err) {
      if (err instanceof SupervisorError) services.metrics.refused(err.code === 'rate_limited' ? 'rate_limited' : err.details.credential === 'refused' ? 'refused' : 'missing');
      throw err;
    }
  });
  app.addHook('onClose', () => authenticator.denials.flush());
  app.addHook('onResponse', async (request, reply) => {
    if (!services.log.isLevelEnabled('debug')) return;
    services.log.debug({ method: request.method, url: request.url.split('?')[0], status: reply.statusCode, ms: reply.elapsedTime }, 'request');
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async () => {
    // Reading the applied migrations is the database's answer, and says whether a newer Supervisor migrated it.
    let problem: SchemaProblem | undefined;
    const answer = await answerWithin(READY_LIMIT_MS, services.schema.problem().then((found) => (problem = found)));
    const database = services.db.kind;
    if (answer === 'ok' && !problem) return { status: 'ready', database };
    // Thrown, so the answer is every `unavailable` answer's (Retry-After too).
    if (problem) throw new SupervisorError('unavailable', problem.message, { database, unknown: problem.unknown });
    throw new SupervisorError('unavailable', answer === 'late' ? `database did not answer within ${READY_LIMIT_MS / 1000} s` : 'database not reachable', { database });
  });
  // Any token may read it (a project token made for the scraper reads nothing else): counts and times per operation, no data.
  app.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(services.metrics.render()));
  const openapi = openApiDocument(services.catalog);
  app.get(`${API_PREFIX}/openapi.json`, async () => openapi);
  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').headers(dashboardHeaders).send(dashboardHtml));
  for (const path of STATIC) {
    app.get(path, async (_request, reply) => reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(faviconSvg));
  }

  registerRestRoutes(app, services);
  registerMcpRoutes(app, services);
  return app;
}
