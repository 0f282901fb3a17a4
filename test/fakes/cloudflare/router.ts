// Route table: method + path pattern (":name" segments) → handler and required access.
import type { Access, Token } from './auth.js';
import type { Answer } from './envelope.js';
import { matchSegments } from '../http-common.js';

export interface RequestContext {
  method: string;
  /** Full request path, /client/v4 included, as the API quotes it in 7003 errors. */
  fullPath: string;
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
  token: Token;
}

export interface Route {
  method: string;
  pattern: string;
  access: Access;
  handle(ctx: RequestContext): Answer;
}

/** First route whose method and pattern fit; patterns are relative to /client/v4. */
export function matchRoute(routes: Route[], method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
  const parts = path.split('/').filter(Boolean);
  for (const route of routes) {
    if (route.method !== method) continue;
    const params = matchSegments(route.pattern.split('/').filter(Boolean), parts);
    if (params) return { route, params };
  }
  return undefined;
}

/** Reads the body as a JSON object (or undefined when absent), as every write endpoint expects. */
export function bodyObject(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}
