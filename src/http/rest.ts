import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Catalog } from '../catalog/catalog.js';
import { coerceRecord } from '../catalog/json-schema.js';
import { LocalInvoker } from '../catalog/local-invoker.js';
import { API_PREFIX, type Operation, type Via } from '../catalog/operation.js';
import type { Services } from '../services.js';
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
export function registerRestRoutes(app: FastifyInstance, catalog: Catalog, services: Services): void {
  for (const op of catalog.all()) {
    app.route({
      method: op.rest.method,
      url: `${API_PREFIX}${op.rest.path}`,
      handler: (request) => new LocalInvoker(catalog, services, principalOf(request), viaOf(request)).invoke(op.name, inputOf(op, request)),
    });
  }
}
