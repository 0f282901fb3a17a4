/**
 * /api/v1/openapi.json is how REST clients discover the API: it must describe
 * every catalog operation, and the answers must match what it promises.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/client/validators/ajv';
import { catalog } from '../../src/app.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { skipReason, testBackends, type Backend } from '../helpers/db.js';
import { expectError, expectOk, Rest, type Json } from './client.js';

const backend: Backend = testBackends().includes('postgres') && !(await skipReason('postgres')) ? 'postgres' : 'pglite';

interface OpenApiOperation {
  operationId: string;
  parameters?: Array<{ name: string; in: string; required: boolean; schema?: Json }>;
  requestBody?: { content: { 'application/json': { schema: Json } } };
  responses: Record<string, { content: { 'application/json': { schema: Json } } }>;
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
}

const validator = new AjvJsonSchemaValidator();

/** Asserts `value` matches `schema`, naming what did not. */
function assertMatches(schema: Json, value: unknown, what: string): void {
  const result = validator.getValidator(schema)(value);
  assert.ok(result.valid, `${what} does not match its schema: ${result.errorMessage}`);
}

describe(`OpenAPI document [${backend}]`, () => {
  let daemon: TestDaemon;
  let rest: Rest;
  let doc: OpenApiDocument;

  const operation = (path: string, method: string): OpenApiOperation => {
    const op = doc.paths[`/api/v1${path}`]?.[method.toLowerCase()];
    assert.ok(op, `openapi.json has no ${method} /api/v1${path}`);
    return op;
  };
  const okSchema = (path: string, method: string) => operation(path, method).responses['200']!.content['application/json'].schema;

  before(async () => {
    daemon = await startTestDaemon(backend);
    rest = new Rest(daemon.url, daemon.adminToken);
    doc = expectOk(await rest.as(undefined).get('openapi.json')) as unknown as OpenApiDocument;
  });
  after(() => daemon?.close());

  test('is OpenAPI 3.1 and served without a token', () => {
    assert.equal(doc.openapi, '3.1.0');
  });

  test('has a path and method for every catalog operation, with operationId = the operation name', () => {
    for (const op of catalog.all()) {
      assert.equal(operation(op.rest.path, op.rest.method).operationId, op.name, `${op.rest.method} ${op.rest.path}`);
    }
  });

  test('describes nothing else: one entry per operation and the JSON call route, no two on the same path and method', () => {
    const ids = Object.values(doc.paths).flatMap((methods) => Object.values(methods).map((m) => m.operationId));
    assert.deepEqual([...ids].sort(), [...catalog.all().map((op) => op.name), 'call_operation'].sort());
  });

  test('the JSON call route types input as MCP does: a string where a number belongs is refused, as over MCP', async () => {
    const call = (operation: string, body: unknown) =>
      fetch(new URL(`/api/v1/call/${operation}`, daemon.url), { method: 'POST', headers: { authorization: `Bearer ${daemon.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const refused = await call('check_port', { port: '3200' });
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as { error: { message: string } }).error.message, /port: a port is a whole number from 1 to 65535/);
    assert.equal((await call('check_port', { port: 3200 })).status, 200);
    assert.equal((await call('no_such_tool', {})).status, 404);
  });

  test("a VM's name, zone and account carry their patterns here, which the MCP tool list leaves out", () => {
    const params = new Map((operation('/gcloud/vm', 'GET').parameters ?? []).map((p) => [p.name, p.schema ?? {}]));
    for (const name of ['project', 'zone', 'instanceName']) assert.equal(typeof params.get(name)?.pattern, 'string', name);
    const body = operation('/gcloud/vm/resize', 'POST').requestBody!.content['application/json'].schema as { properties: Record<string, Json> };
    assert.equal(typeof body.properties.newMachineType?.pattern, 'string');
  });

  test('GET and DELETE take their inputs as query parameters, PUT and POST as a JSON body', () => {
    for (const op of catalog.all()) {
      const described = operation(op.rest.path, op.rest.method);
      const inputs = Object.keys(op.input.shape);
      if (op.rest.method === 'GET' || op.rest.method === 'DELETE') {
        assert.deepEqual(described.parameters?.map((p) => p.name).sort(), [...inputs].sort(), op.name);
        assert.ok(described.parameters?.every((p) => p.in === 'query'), op.name);
      } else {
        assert.ok(described.requestBody, `${op.name} has no requestBody`);
      }
    }
    const path = operation('/secret', 'GET').parameters?.find((p) => p.name === 'path');
    assert.equal(path?.required, true);
  });

  test("a secret path's pattern and length are listed, and the pattern says yes and no where the daemon does", async () => {
    const schema = (operation('/secret', 'GET').parameters?.find((p) => p.name === 'path') as { schema?: { pattern?: string; maxLength?: number } } | undefined)?.schema;
    assert.equal(schema?.maxLength, 256);
    const pattern = new RegExp(schema?.pattern ?? '(?!)');
    const paths = ['project/a/b', 'meta/cloudflare/api_token', 'service/x/y.z', 'project/a/b/c/d/e/f/g', 'project/a', 'project/a/b/c/d/e/f/g/h', 'project/.env/x', 'Project/a/b', 'project//b', 'project/a/b/', 'other/a/b', 'project/a b/c'];
    for (const p of paths) {
      const answer = await rest.get('secret', { path: p });
      const refusedAsInput = answer.status === 400;
      assert.equal(pattern.test(p), !refusedAsInput, `${p}: pattern ${pattern.test(p)}, daemon ${answer.status}`);
    }
  });

  test('set_secret then get_secret answer what the document promises', async () => {
    const setSchema = okSchema('/secret', 'PUT');
    assertMatches(operation('/secret', 'PUT').requestBody!.content['application/json'].schema, { path: 'project/consilio/api_key', value: 's3cret' }, 'the request');

    const written = expectOk(await rest.put('secret', { path: 'project/consilio/api_key', value: 's3cret', description: 'API key', tags: ['prod'] }));
    assertMatches(setSchema, written, 'the set_secret answer');
    assert.equal(written.created, true);

    const read = expectOk(await rest.get('secret', { path: 'project/consilio/api_key' }));
    assertMatches(okSchema('/secret', 'GET'), read, 'the get_secret answer');
    assert.equal(read.value, 's3cret');
    assert.equal(read.description, 'API key');
  });

  test('list, history and whoami answers match their schemas too', async () => {
    assertMatches(okSchema('/secrets', 'GET'), expectOk(await rest.get('secrets', { prefix: 'project/consilio/' })), 'the list_secrets answer');
    assertMatches(okSchema('/secret/history', 'GET'), expectOk(await rest.get('secret/history', { path: 'project/consilio/api_key' })), 'the secret_history answer');
    assertMatches(okSchema('/whoami', 'GET'), expectOk(await rest.get('whoami')), 'the whoami answer');
  });

  test('an error answer matches the documented error schema', async () => {
    const answer = await rest.get('secret', { path: 'project/consilio/missing' });
    expectError(answer, 404, 'not_found');
    assertMatches(operation('/secret', 'GET').responses.default!.content['application/json'].schema, answer.body, 'the error answer');
  });
});
