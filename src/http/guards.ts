import type { FastifyInstance, FastifyRequest } from 'fastify';
import { forbidden, invalidInput, SupervisorError } from '../core/errors.js';
import { describeProblem, findInputProblem } from '../core/input-shape.js';
import { jsonRpcError } from './mcp.js';

/**
 * The checks every request passes before any work is done for it:
 * - Host and Origin name this daemon (the MCP spec's defence against DNS rebinding:
 *   a page on evil.example resolving to 127.0.0.1 must not reach the API);
 * - a body is UTF-8 JSON without prototype keys, nested at most a few dozen levels,
 *   and a query string decodes as UTF-8 — so nothing is silently altered on the way
 *   in, and nothing recursive runs on hostile nesting.
 */
export function registerGuards(app: FastifyInstance, options: { host: string; allowedHosts: readonly string[] }): void {
  const allowed = new Set(['localhost', '127.0.0.1', '::1', options.host.toLowerCase(), ...options.allowedHosts]);
  allowed.delete('0.0.0.0');
  allowed.delete('::');

  // Host headers already found to name this daemon: clients send the same one on every request.
  const knownHosts = new Set<string>();
  app.addHook('onRequest', async (request) => {
    checkHost(request, allowed, knownHosts);
    checkQuery(request);
  });

  // Bodies are JSON: text/plain would arrive as one string, refused as "expected object, received string".
  app.removeContentTypeParser('text/plain');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    let text: string;
    try {
      text = utf8.decode(body);
    } catch {
      return done(bodyError('request body is not valid UTF-8; send JSON as UTF-8 text'), undefined);
    }
    // A DELETE (or any request) may carry the JSON content type with no body at all.
    if (text.trim() === '') return done(null, undefined);
    parseJson(request, text, (err, parsed) => {
      if (err) return done(jsonProblem(err, text), undefined);
      done(null, parsed);
    });
  });

  app.addHook('preValidation', async (request, reply) => {
    const found = request.body === undefined ? undefined : findInputProblem(request.body);
    if (!found || found.problem !== 'too_deep') return;
    const message = `request body ${describeProblem('too_deep')}`;
    // MCP clients read JSON-RPC errors; REST clients our error shape.
    if (request.url.startsWith('/mcp/')) return reply.status(400).send(jsonRpcError(-32600, `Invalid Request: ${message}`));
    throw invalidInput(message);
  });
}

const hostnameOf = (value: string): string | undefined => {
  try {
    return new URL(value.includes('://') ? value : `http://${value}`).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return undefined;
  }
};

function checkHost(request: FastifyRequest, allowed: ReadonlySet<string>, known: Set<string>): void {
  const raw = request.headers.host ?? '';
  if (!known.has(raw)) {
    const host = hostnameOf(raw);
    if (!host || !allowed.has(host)) {
      throw forbidden(`Host ${JSON.stringify(raw.slice(0, 100))} is not a name of this daemon; use http://127.0.0.1:<port>, or add the name to SUPERVISOR_ALLOWED_HOSTS`);
    }
    // Bounded: the daemon's names with the ports clients reach it on are few.
    if (known.size < 256) known.add(raw);
  }
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== 'null' && !allowed.has(hostnameOf(origin) ?? '')) {
    throw forbidden(`Origin ${JSON.stringify(origin.slice(0, 100))} is not this daemon; requests from other sites are refused`);
  }
}

function checkQuery(request: FastifyRequest): void {
  const at = request.url.indexOf('?');
  if (at === -1) return;
  const query = request.url.slice(at + 1);
  let decoded: string;
  try {
    decoded = decodeURIComponent(query.replace(/\+/g, ' '));
  } catch {
    throw invalidInput('the query string is not valid percent-encoded UTF-8');
  }
  // The query parser drops this key without a word; every other unknown field is refused, so this is too.
  // A key that decodes to it leaves it in the whole query decoded, so only then are the keys looked at.
  if (decoded.includes('__proto__') && query.split('&').some((pair) => /^__proto__(\[\])?$/.test(decodeURIComponent(pair.split('=')[0]!.replace(/\+/g, ' '))))) {
    throw invalidInput('the query string has a "__proto__" field, which is refused (it could alter objects on the server); rename it');
  }
}

/** A body that could not be read at all: MCP answers it as JSON-RPC's parse error, REST as invalid_input. */
const bodyError = (message: string) => new SupervisorError('invalid_input', message, { unreadableBody: true });

export const isUnreadableBody = (err: unknown): err is SupervisorError => err instanceof SupervisorError && err.details.unreadableBody === true;

/** What was wrong with a body fastify's JSON parser refused, in words a caller can act on. */
function jsonProblem(err: Error, text: string): SupervisorError {
  // The parser refuses these keys (prototype poisoning) with the same words as broken JSON.
  if (/"(__proto__|constructor)"\s*:/.test(text)) {
    return bodyError('request body has a "__proto__" or "constructor.prototype" key, which is refused (it could alter objects on the server); rename the key');
  }
  return bodyError(`request body is not valid JSON: ${err.message}`);
}
