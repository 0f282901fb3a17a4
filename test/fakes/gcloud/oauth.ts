// The token endpoint (https://oauth2.googleapis.com/token) for the JWT-bearer grant: checks
// the assertion as Google does (RS256 signature by a live key of the issuing account, aud,
// iat/exp within an hour, known scopes) and answers in RFC 6749's error shape.
import { createVerify } from 'node:crypto';
import type { AccountStore, FakeAccount, FakeKey } from './accounts.js';
import { htmlNotFound, type Answer, type Request } from './http.js';
import type { TokenStore } from './tokens.js';
import type { OAuthGrant } from './types.js';

export const TOKEN_PATH = '/token';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Allowed clock difference between the signer and us, both ways. */
const SKEW_SECONDS = 300;

/** Scopes this fake knows; Google refuses unknown ones with invalid_scope. */
export const KNOWN_SCOPES = new Set([
  'https://www.googleapis.com/auth/cloud-platform',
  'https://www.googleapis.com/auth/cloud-platform.read-only',
  'https://www.googleapis.com/auth/compute',
  'https://www.googleapis.com/auth/compute.readonly',
  'https://www.googleapis.com/auth/monitoring',
  'https://www.googleapis.com/auth/monitoring.read',
]);

export interface OAuthDeps {
  accounts: AccountStore;
  tokens: TokenStore;
  grants: OAuthGrant[];
  now: () => number;
  tokenUri: () => string;
  lifetimeSeconds: number;
}

class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
  ) {
    super(description);
  }
}

const badJwt = () => new OAuthError('invalid_grant', 'Invalid JWT Signature.');
const badTime = () =>
  new OAuthError(
    'invalid_grant',
    'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
  );

export function oauthHandler(deps: OAuthDeps) {
  return (req: Request): Answer => {
    if (req.path !== TOKEN_PATH) return htmlNotFound(req.path);
    try {
      if (req.method !== 'POST') throw new OAuthError('invalid_request', `Method ${req.method} is not allowed on the token endpoint`, 405);
      const grant = exchange(deps, req);
      req.call.account = grant.account;
      return grant.answer;
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      return { status: err.status, body: { error: err.error, error_description: err.description } };
    }
  };
}

function exchange(deps: OAuthDeps, req: Request): { account: string; answer: Answer } {
  if (!req.contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    throw new OAuthError('invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
  }
  const form = new URLSearchParams(req.raw);
  const grantType = form.get('grant_type');
  if (!grantType) throw new OAuthError('unsupported_grant_type', 'Invalid grant_type: ');
  if (grantType !== JWT_BEARER) throw new OAuthError('unsupported_grant_type', `Invalid grant_type: ${grantType}`);
  const assertion = form.get('assertion');
  if (!assertion) throw new OAuthError('invalid_request', 'Missing required parameter: assertion');

  const jwt = parseJwt(assertion);
  const account = typeof jwt.claims.iss === 'string' ? deps.accounts.find(jwt.claims.iss) : undefined;
  if (!account) throw new OAuthError('invalid_grant', 'Invalid grant: account not found');
  const key = verifyingKey(account, jwt);
  checkClaims(deps, jwt.claims);
  const scopes = checkScopes(jwt.claims.scope);

  const token = deps.tokens.issue(account.email, scopes, deps.lifetimeSeconds);
  deps.grants.push({ account: account.email, kid: key.id, scope: scopes.join(' '), at: deps.now() });
  return {
    account: account.email,
    answer: { status: 200, body: { access_token: token.value, expires_in: deps.lifetimeSeconds, token_type: 'Bearer' } },
  };
}

interface Jwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  signedPart: string;
  signature: Buffer;
}

function parseJwt(assertion: string): Jwt {
  const parts = assertion.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) throw new OAuthError('invalid_grant', 'Invalid JWT: malformed assertion');
  const [h, c, s] = parts as [string, string, string];
  const header = decodeJson(h);
  const claims = decodeJson(c);
  if (header.alg !== 'RS256') throw new OAuthError('invalid_grant', `Invalid JWT: unsupported algorithm ${String(header.alg)}`);
  return { header, claims, signedPart: `${h}.${c}`, signature: Buffer.from(s, 'base64url') };
}

function decodeJson(part: string): Record<string, unknown> {
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new OAuthError('invalid_grant', 'Invalid JWT: malformed assertion');
}

/**
 * With a kid, only that key may have signed; without one, any live key of the account. A
 * revoked (deleted) key reads to Google as an unknown key, hence the same "Invalid JWT
 * Signature." as a forged one.
 */
function verifyingKey(account: FakeAccount, jwt: Jwt): FakeKey {
  const live = account.keys.filter((k) => !k.revoked);
  const candidates = jwt.header.kid === undefined ? live : live.filter((k) => k.id === jwt.header.kid);
  const key = candidates.find((k) => createVerify('RSA-SHA256').update(jwt.signedPart).verify(k.publicKey, jwt.signature));
  if (!key) throw badJwt();
  return key;
}

function checkClaims(deps: OAuthDeps, claims: Record<string, unknown>): void {
  if (claims.aud !== deps.tokenUri()) {
    throw new OAuthError('invalid_grant', `Invalid JWT: Failed audience check. The right audience is ${deps.tokenUri()}`);
  }
  const { iat, exp } = claims;
  if (typeof iat !== 'number' || typeof exp !== 'number') throw badTime();
  const now = deps.now() / 1000;
  if (exp - iat > 3600 || exp <= iat || iat > now + SKEW_SECONDS || exp < now - SKEW_SECONDS) throw badTime();
}

function checkScopes(scope: unknown): string[] {
  const scopes = typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
  if (scopes.length === 0 || scopes.some((s) => !KNOWN_SCOPES.has(s))) {
    throw new OAuthError('invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
  }
  return scopes;
}
