import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { adminPrincipal, localActor, principalForProject, type Principal } from '../core/principal.js';
import { SupervisorError } from '../core/errors.js';
import { projectName } from '../core/names.js';
import type { AuditLog } from '../core/audit.js';
import { boundedTarget } from '../core/audit.js';
import type { DenialLog } from './denials.js';

/** How requests are authenticated: the auth domain's token check, where refusals are audited and counted. */
export interface Authenticator {
  verifyToken(token: string): Promise<Principal | undefined>;
  audit: AuditLog;
  denials: DenialLog;
}

const principals = new WeakMap<FastifyRequest, Principal>();

export function principalOf(request: FastifyRequest): Principal {
  const principal = principals.get(request);
  if (!principal) throw new SupervisorError('unauthorized', 'no principal on this request');
  return principal;
}

/** Tokens are compared by digest so timingSafeEqual gets equal lengths. */
export const tokenDigest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * The daemon's per-run credential for the CLI and stdio adapters on this host (read from the
 * 0600 daemons/<pid>.json), as its digest. Its length is no secret (it is how the daemon makes them),
 * and a presented token of another length (every `svt_` token) skips the hash.
 */
export interface LocalToken {
  digest: Buffer;
  length: number;
}

export const localTokenOf = (token: string): LocalToken => ({ digest: tokenDigest(token), length: token.length });

/**
 * Resolves the bearer token to a principal, or throws 401 after auditing the
 * attempt; the daemon's local token stands for an admin on this host.
 */
export async function authenticate(request: FastifyRequest, services: Authenticator, local: LocalToken): Promise<Principal> {
  const header = request.headers.authorization;
  // The scheme name is case-insensitive (RFC 9110 §11.1).
  const presented = header && /^bearer\s+/i.test(header) ? header.replace(/^bearer\s+/i, '').trim() : undefined;
  let principal: Principal | undefined;
  if (presented && presented.length === local.length && timingSafeEqual(tokenDigest(presented), local.digest)) principal = adminPrincipal(localActor());
  else if (presented) principal = await services.verifyToken(presented);
  if (!principal) {
    const reason = presented ? 'unknown or revoked token' : 'no bearer token';
    const wait = services.denials.note(request.ip, reason, boundedTarget(`${request.method} ${request.url.split('?')[0]}`));
    if (wait > 0) throw new SupervisorError('rate_limited', `too many requests without a valid token from ${request.ip}; wait ${wait} s`, { retryAfterSeconds: wait });
    // `credential` says whether a token was sent and refused, or none sent: the CLI says each in its own words.
    throw new SupervisorError('unauthorized', `${reason}: send "Authorization: Bearer <token>"; an admin creates one with \`supervisor token create <token-name> --project <project>\``, { credential: presented ? 'refused' : 'missing' });
  }
  // Adapters on this host ask for a narrower scope (stdio `--project p`); narrowing only, never widening.
  const asProject = request.headers['x-supervisor-project'];
  if (typeof asProject === 'string' && asProject !== '') {
    const parsed = projectName.safeParse(asProject);
    if (!parsed.success) throw new SupervisorError('invalid_input', 'X-Supervisor-Project: not a project name');
    principal = await narrow(services, principal, parsed.data, request);
  }
  principals.set(request, principal);
  return principal;
}

/** principalForProject, auditing a refusal. */
export async function narrow(services: Pick<Authenticator, 'audit'>, principal: Principal, project: string, request: FastifyRequest): Promise<Principal> {
  try {
    return principalForProject(principal, project);
  } catch (err) {
    await services.audit.record({ actor: principal.actor, action: 'auth.denied', target: `${request.method} ${request.url.split('?')[0]}`, outcome: 'denied', detail: { project } });
    throw err;
  }
}
