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

/** One route per operation: GET/DELETE read input from the query string, POST/PUT from a JSON body. */
export function registerRestRoutes(app: FastifyInstance, core: AppCore): void {
  for (const op of core.catalog.all()) {
    app.route({
      method: op.rest.method,
      url: `${API_PREFIX}${op.rest.path}`,
      handler: (request) => new LocalInvoker(core, principalOf(request), viaOf(request)).invoke(op.name, inputOf(op, request)),
    });
  }
}
