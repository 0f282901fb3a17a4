// API tokens: header parsing, token lookup, permission checks and the token detail document.
import { fail, newId, timestamp, type ApiError } from './envelope.js';
import type { Permission, TokenStatus } from './types.js';

export interface Token {
  value: string;
  id: string;
  permissions: ReadonlySet<Permission>;
  status: TokenStatus;
  issuedOn: string;
  /** An account API token (Manage Account → API Tokens) belongs to this account; a user's token has none. */
  account?: string;
}

/** Which permission family a route needs; 'token' = any valid token, 'verify' = a verify endpoint. */
export type Access = 'token' | 'verify' | 'zone' | 'dns' | 'tunnel' | 'tokens';

export class TokenStore {
  private readonly byValue = new Map<string, Token>();
  /** The user every token belongs to (named in the API Tokens Read resource). */
  readonly userId = newId();

  add(value: string, permissions: Permission[], opts: { id?: string; status?: TokenStatus; account?: string } = {}): Token {
    const token: Token = {
      value,
      id: opts.id ?? newId(),
      permissions: new Set(permissions),
      status: opts.status ?? 'active',
      issuedOn: timestamp(),
      ...(opts.account === undefined ? {} : { account: opts.account }),
    };
    this.byValue.set(value, token);
    return token;
  }

  byId(id: string): Token | undefined {
    return [...this.byValue.values()].find((t) => t.id === id);
  }

  find(value: string): Token | undefined {
    return this.byValue.get(value);
  }
}

// Real tokens are 40 characters of [A-Za-z0-9_-]; the length is not enforced so tests can use readable tokens.
const BEARER = /^Bearer ([A-Za-z0-9_-]+)$/;

/**
 * Mirrors the recorded answers: no credentials → 400 9106; a malformed Authorization header →
 * 400 6003 with 6111 in error_chain; a token that is unknown or not active → 403 9109
 * "Invalid access token", except on the verify endpoints, which answer 401 1000 "Invalid API Token".
 */
export function authenticate(header: string | undefined, store: TokenStore, access: Access): Token {
  if (header === undefined || header === '') {
    throw fail(400, 9106, 'Missing X-Auth-Key, X-Auth-Email or Authorization headers');
  }
  const match = BEARER.exec(header);
  if (!match?.[1]) {
    throw fail(400, 6003, 'Invalid request headers', [{ code: 6111, message: 'Invalid format for Authorization header' }]);
  }
  const token = store.find(match[1]);
  if (!token || token.status !== 'active') {
    throw access === 'verify' ? fail(401, 1000, 'Invalid API Token') : fail(403, 9109, 'Invalid access token');
  }
  return token;
}

const READ: Record<'zone' | 'dns' | 'tunnel' | 'tokens', Permission[]> = {
  zone: ['zone:read'],
  dns: ['dns:read', 'dns:edit'],
  tunnel: ['tunnel:read', 'tunnel:edit'],
  tokens: ['tokens:read'],
};
const WRITE: Record<'zone' | 'dns' | 'tunnel' | 'tokens', Permission[]> = {
  zone: [],
  dns: ['dns:edit'],
  tunnel: ['tunnel:edit'],
  tokens: [],
};

/**
 * A valid token without the right permission group gets 403. The wording differs by product,
 * as recorded: zone and token endpoints say 9109 "Unauthorized to access requested resource";
 * DNS and tunnel endpoints say 10000 "Authentication error", or "<METHOD> method not allowed for
 * the api_token authentication scheme" when the token can read but not write.
 */
export function authorize(token: Token, access: Access, method: string): void {
  if (access === 'token' || access === 'verify') return;
  const write = method !== 'GET';
  const needed = write ? WRITE[access] : READ[access];
  if (needed.some((p) => token.permissions.has(p))) return;
  throw denial(token, access, method, write);
}

function denial(token: Token, access: 'zone' | 'dns' | 'tunnel' | 'tokens', method: string, write: boolean): ApiError {
  if (access === 'zone' || access === 'tokens') return fail(403, 9109, 'Unauthorized to access requested resource');
  const canRead = READ[access].some((p) => token.permissions.has(p));
  if (write && canRead) return fail(403, 10000, `${method} method not allowed for the api_token authentication scheme`);
  return fail(403, 10000, 'Authentication error');
}

// Real permission group ids and names ("API Tokens Permissions" reference table; tunnel ids from the
// permission_groups listing). Scope decides the resource key of the policy.
const GROUPS: Record<Permission, { id: string; name: string; scope: 'zone' | 'account' | 'user' }> = {
  'zone:read': { id: 'c8fed203ed3043cba015a93ad1616f1f', name: 'Zone Read', scope: 'zone' },
  'dns:read': { id: '82e64a83756745bbbb1c9c2701bf816b', name: 'DNS Read', scope: 'zone' },
  'dns:edit': { id: '4755a26eedb94da69e1066d98aa820be', name: 'DNS Write', scope: 'zone' },
  'tunnel:read': { id: 'efea2ab8357b47888938f101ae5e053f', name: 'Cloudflare Tunnel Read', scope: 'account' },
  'tunnel:edit': { id: 'c07321b023e944ff818fec44d8203567', name: 'Cloudflare Tunnel Write', scope: 'account' },
  'tokens:read': { id: '0cc3a61731504c89b99ec1be78b77aa0', name: 'API Tokens Read', scope: 'user' },
};

/** The document GET /user/tokens/{id} returns: one allow policy per resource scope. */
export function tokenDetails(token: Token, userId: string): Record<string, unknown> {
  const resources = {
    zone: { 'com.cloudflare.api.account.zone.*': '*' },
    account: { 'com.cloudflare.api.account.*': '*' },
    user: { [`com.cloudflare.api.user.${userId}`]: '*' },
  };
  const policies = (['zone', 'account', 'user'] as const)
    .map((scope) => ({
      scope,
      groups: [...token.permissions].map((p) => GROUPS[p]).filter((g) => g.scope === scope),
    }))
    .filter(({ groups }) => groups.length > 0)
    .map(({ scope, groups }) => ({
      id: newId(),
      effect: 'allow',
      resources: resources[scope],
      permission_groups: groups.map(({ id, name }) => ({ id, name })),
    }));
  return {
    id: token.id,
    name: `token ${token.id.slice(0, 8)}`,
    status: token.status,
    issued_on: token.issuedOn,
    modified_on: token.issuedOn,
    last_used_on: null,
    policies,
    condition: {},
  };
}
