// Route table: method + path pattern (":name" segments) → handler and required access.
import type { Access, Token } from './auth.js';
import type { Answer } from './envelope.js';

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
    const params = matchPattern(route.pattern.split('/').filter(Boolean), parts);
    if (params) return { route, params };
  }
  return undefined;
}

function matchPattern(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, segment] of pattern.entries()) {
    const part = parts[i] ?? '';
    if (segment.startsWith(':')) params[segment.slice(1)] = decodeURIComponent(part);
    else if (segment !== part) return undefined;
  }
  return params;
}

/** Reads the body as a JSON object (or undefined when absent), as every write endpoint expects. */
export function bodyObject(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}
