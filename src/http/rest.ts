import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { coerceRecord } from '../catalog/json-schema.js';
import { LocalInvoker } from '../catalog/local-invoker.js';
import { API_PREFIX, type Operation, type Via } from '../catalog/operation.js';
import type { AppCore } from '../catalog/wire.js';
import { PROGRESS_LINES } from '../catalog/invoker.js';
import { invalidInput, toSupervisorError } from '../core/errors.js';
import { principalOf } from './auth.js';
import { clipped } from '../core/clip.js';

/** Which adapter a request came from, for the call record (the CLI and stdio MCP call through REST). */
function viaOf(request: FastifyRequest): Via {
  const via = request.headers['x-supervisor-via'];
  return via === 'cli' || via === 'mcp' ? via : 'rest';
}

/** Whether the request came with a body (parsed or not: fastify leaves a GET's unread). */
const hasBody = (request: FastifyRequest) => Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;

function inputOf(op: Operation, request: FastifyRequest): unknown {
  if (op.rest.method === 'GET' || op.rest.method === 'DELETE') {
    // Ignored, a body's fields were lost in silence: a GET /secrets with {"prefix": …} listed every secret.
    if (hasBody(request)) {
      throw invalidInput(`${op.rest.method} ${API_PREFIX}${op.rest.path} takes its input in the query string, not a body; or POST the JSON to ${API_PREFIX}/call/${op.name}`);
    }
    return coerceRecord(op, request.query as Record<string, string | string[] | undefined>);
  }
  refuseQuery(request, `${op.rest.method} ${API_PREFIX}${op.rest.path}`);
  return request.body ?? {};
}

/** How many query names a refusal names, and how much of each. */
const NAMES_SHOWN = 5;
const NAME_CHARS = 40;

/**
 * A route that reads a JSON body refuses a query string rather than ignore it: a field sent
 * there was lost in silence (a PUT stored the body's value, not the query's), and a secret in
 * a URL ends up in proxy logs. The names are said, never the values.
 */
function refuseQuery(request: FastifyRequest, route: string): void {
  const names = Object.keys((request.query as Record<string, unknown> | undefined) ?? {});
  if (names.length === 0) return;
  const shown = names.slice(0, NAMES_SHOWN).map((n) => clipped(n, NAME_CHARS + 1));
  throw invalidInput(`${route} takes its input as a JSON body, not the query string (${shown.join(', ')}${names.length > shown.length ? ', …' : ''} given there); send every field in the body`, { query: shown });
}

/** Where any operation is called with its input as a JSON body: typed as MCP types it, whatever the operation's REST method. */
export const CALL_PATH = `${API_PREFIX}/call/:operation`;

/**
 * One route per operation: GET/DELETE read input from the query string, POST/PUT from
 * a JSON body. And one route for every operation with a JSON body, which the CLI uses
 * through the daemon: a query string carries only text, so `{"port": "3200"}` and
 * `{"port": 3200}` would look the same there, where MCP tells them apart.
 */
export function registerRestRoutes(app: FastifyInstance, core: AppCore): void {
  for (const op of core.catalog.all()) {
    app.route({
      method: op.rest.method,
      url: `${API_PREFIX}${op.rest.path}`,
      // A GET operation may have effects (a secret read is audited and counted, get_run_env reserves a
      // port): HEAD would carry them out and show nothing, so it is not offered (405 with Allow).
      exposeHeadRoute: false,
      handler: (request) => new LocalInvoker(core, principalOf(request), viaOf(request)).invoke(op.name, inputOf(op, request)),
    });
  }
  app.post(CALL_PATH, async (request, reply) => {
    const { operation } = request.params as { operation: string };
    refuseQuery(request, `POST ${API_PREFIX}/call/${operation.slice(0, NAME_CHARS)}`);
    const invoker = new LocalInvoker(core, principalOf(request), viaOf(request));
    // A client that wants the steps of long work (the CLI on a terminal) asks for JSON lines;
    // an operation that does not exist is refused with its status before any line is sent.
    if (request.headers.accept === PROGRESS_LINES && core.catalog.get(operation)) return streamCall(reply, (onProgress) => invoker.invoke(operation, request.body ?? {}, { onProgress }));
    return invoker.invoke(operation, request.body ?? {});
  });
}

/**
 * The call's progress steps as they happen, one JSON object a line (`{"progress": …}`), then
 * one `{"result": …}` or `{"error": …}` line. The status is 200 once the stream has begun, so
 * the last line, not the status, says how the call ended.
 */
function streamCall(reply: FastifyReply, run: (onProgress: (step: unknown) => void) => Promise<unknown>): FastifyReply {
  const lines = new PassThrough();
  const write = (value: unknown) => lines.write(`${JSON.stringify(value)}\n`);
  run((step) => write({ progress: step }))
    .then((result) => write({ result }))
    .catch((err: unknown) => write(toSupervisorError(err).toJSON()))
    .finally(() => lines.end());
  return reply.type(PROGRESS_LINES).send(lines);
}
