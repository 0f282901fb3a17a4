// Google's error envelopes. Compute Engine still sends the classic shape with `errors[]`
// (message, domain, reason) beside the canonical `status`; Cloud Monitoring sends only
// code, message and status; both add `details` (ErrorInfo) to some. Handlers throw GoogleError;
// the service turns it into JSON.
import type { Answer } from './http.js';

const CANONICAL: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

export class GoogleError extends Error {
  constructor(
    readonly code: number,
    message: string,
    /** Classic reason (compute): notFound, alreadyExists, invalid, forbidden, authError, … */
    readonly reason: string,
    readonly extra: { location?: string; locationType?: string; headers?: Record<string, string>; domain?: string; details?: unknown[] } = {},
  ) {
    super(message);
  }
}

export const invalid = (message: string) => new GoogleError(400, message, 'invalid');
export const notFound = (resource: string) => new GoogleError(404, `The resource '${resource}' was not found`, 'notFound');

/** Recorded wording of the 401 every Google API answers for a missing, unknown or expired token. */
export function unauthenticated(): GoogleError {
  return new GoogleError(
    401,
    'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
    'authError',
    { location: 'Authorization', locationType: 'header', headers: { 'WWW-Authenticate': 'Bearer realm="https://accounts.google.com/"' } },
  );
}

export function insufficientScopes(): GoogleError {
  return new GoogleError(403, 'Request had insufficient authentication scopes.', 'insufficientPermissions', {
    headers: { 'WWW-Authenticate': 'Bearer realm="https://accounts.google.com/", error="insufficient_scope"' },
  });
}

/** The names the API answers a disabled service with, by the fake's service. */
const SERVICES = { compute: { title: 'Compute Engine API', host: 'compute.googleapis.com' }, monitoring: { title: 'Cloud Monitoring API', host: 'monitoring.googleapis.com' } };

/**
 * A project that never enabled the API (new projects have Compute Engine off): 403 with the
 * classic reason accessNotConfigured where the API sends errors[], and an ErrorInfo detail
 * SERVICE_DISABLED naming the service, as recorded from both APIs.
 */
export function serviceDisabled(service: keyof typeof SERVICES, project: string): GoogleError {
  const { title, host } = SERVICES[service];
  const link = `https://console.developers.google.com/apis/api/${host}/overview?project=${project}`;
  return new GoogleError(
    403,
    `${title} has not been used in project ${project} before or it is disabled. Enable it by visiting ${link} then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.`,
    'accessNotConfigured',
    {
      domain: 'usageLimits',
      details: [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'SERVICE_DISABLED', domain: 'googleapis.com', metadata: { service: host, consumer: `projects/${project}` } },
        { '@type': 'type.googleapis.com/google.rpc.Help', links: [{ description: 'Google developers console API activation', url: link }] },
      ],
    },
  );
}

export function computeErrorAnswer(err: GoogleError): Answer {
  const item: Record<string, string> = { message: err.message, domain: err.extra.domain ?? 'global', reason: err.reason };
  if (err.extra.location) item.location = err.extra.location;
  if (err.extra.locationType) item.locationType = err.extra.locationType;
  return {
    status: err.code,
    headers: err.extra.headers,
    body: { error: { code: err.code, message: err.message, errors: [item], status: CANONICAL[err.code] ?? 'UNKNOWN', ...detailsOf(err) } },
  };
}

export function monitoringErrorAnswer(err: GoogleError): Answer {
  return { status: err.code, headers: err.extra.headers, body: { error: { code: err.code, message: err.message, status: CANONICAL[err.code] ?? 'UNKNOWN', ...detailsOf(err) } } };
}

const detailsOf = (err: GoogleError) => (err.extra.details ? { details: err.extra.details } : {});

/** Query parameters every Google REST API accepts besides the method's own. */
export const SYSTEM_PARAMETERS = new Set(['$.xgafv', 'access_token', 'alt', 'callback', 'fields', 'key', 'oauth_token', 'prettyPrint', 'quotaUser', 'upload_protocol', 'uploadType', 'userIp']);

/** Unknown query parameters are refused, never ignored, so a misspelt option fails loudly. */
export function rejectUnknownParameters(query: URLSearchParams, allowed: readonly string[]): void {
  for (const name of query.keys()) {
    if (SYSTEM_PARAMETERS.has(name) || allowed.includes(name)) continue;
    throw new GoogleError(400, `Invalid JSON payload received. Unknown name "${name}": Cannot bind query parameter. Field '${name}' could not be found in request message.`, 'invalid');
  }
}
