import type { Catalog } from '../catalog/catalog.js';
import { schemasOf, type JsonSchema } from '../catalog/json-schema.js';
import { ERROR_CODES } from '../core/errors.js';
import { VERSION } from '../version.js';
import { API_PREFIX } from '../catalog/operation.js';

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string', enum: Object.keys(ERROR_CODES) }, message: { type: 'string' }, details: { type: 'object' } },
    },
  },
};

/** OpenAPI 3.1 for the REST API, generated from the same schemas as the MCP tools. */
export function openApiDocument(catalog: Catalog): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of catalog.all()) {
    const { input, output } = schemasOf(op);
    const method = op.rest.method.toLowerCase();
    const inQuery = method === 'get' || method === 'delete';
    const properties = (input.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((input.required ?? []) as string[]);
    paths[`${API_PREFIX}${op.rest.path}`] ??= {};
    paths[`${API_PREFIX}${op.rest.path}`]![method] = {
      operationId: op.name,
      summary: op.title,
      description: `${op.description}${op.access === 'admin' ? ' (admin token required)' : ''}`,
      tags: [op.domain],
      ...(inQuery
        ? { parameters: Object.entries(properties).map(([name, schema]) => ({ name, in: 'query', required: required.has(name), schema, description: schema.description })) }
        : { requestBody: { required: true, content: { 'application/json': { schema: input } } } }),
      responses: {
        200: { description: 'OK', content: { 'application/json': { schema: output } } },
        default: { description: 'Error (code says which: invalid_input 400, unauthorized 401, forbidden 403, not_found 404, conflict 409, …)', content: { 'application/json': { schema: errorSchema } } },
      },
    };
  }
  paths[`${API_PREFIX}/call/{operation}`] = {
    post: {
      operationId: 'call_operation',
      summary: 'Call any operation with a JSON body',
      description: 'Calls the operation named in the path with its input as a JSON body, typed as over MCP (the per-operation routes above read GET and DELETE input from the query string, where every value is text). The answer is that operation\'s answer.',
      parameters: [{ name: 'operation', in: 'path', required: true, schema: { type: 'string', enum: catalog.all().map((op) => op.name) } }],
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
      responses: {
        200: { description: 'The operation\'s answer', content: { 'application/json': { schema: { type: 'object' } } } },
        default: { description: 'Error', content: { 'application/json': { schema: errorSchema } } },
      },
    },
  };
  return {
    openapi: '3.1.0',
    info: { title: 'Supervisor API', version: VERSION, description: 'Secrets, ports, DNS and tunnels, VMs and agent instructions for many projects. Every operation is also an MCP tool and a CLI command.' },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
