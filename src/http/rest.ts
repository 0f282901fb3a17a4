import type { FastifyInstance, FastifyRequest } from 'fastify';
import { coerceRecord } from '../catalog/json-schema.js';
import { LocalInvoker } from '../catalog/local-invoker.js';
import { API_PREFIX, type Operation, type Via } from '../catalog/operation.js';
import type { AppCore } from '../catalog/wire.js';
import { principalOf } from './auth.js';

/** Which adapter a request came from, for the call record (the CLI and stdio MCP call through REST). */
function viaOf(request: FastifyRequest): Via {
  const via = request.headers['x-supervisor-via'];
  return via === 'cli' || via === 'mcp' ? via : 'rest';
}

function inputOf(op: Operation, request: FastifyRequest): unknown {
  if (op.rest.method === 'GET' || op.rest.method === 'DELETE') {
    return coerceRecord(op, request.query as Record<string, string | string[] | undefined>);
  }
  return request.body ?? {};
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
      handler: (request) => new LocalInvoker(core, principalOf(request), viaOf(request)).invoke(op.name, inputOf(op, request)),
    });
  }
  app.post(CALL_PATH, (request) => {
    const { operation } = request.params as { operation: string };
    return new LocalInvoker(core, principalOf(request), viaOf(request)).invoke(operation, request.body ?? {});
  });
}
