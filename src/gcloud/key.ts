// The service-account key JSON (what "Create key → JSON" downloads), checked field by field.
//
// Errors name the field and what is wrong with it, never the value: the private key must not
// reach an error message, a log line or an audit row, and neither should anything else in
// the file (a pasted key often lands in the wrong field).
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { invalidInput, type SupervisorError } from '../core/errors.js';

const PEM = /^-----BEGIN (?:RSA )?PRIVATE KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END (?:RSA )?PRIVATE KEY-----\r?\n?$/;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** https, or http to this machine only (tests and local fakes). */
function isTokenUri(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
}

/** Parses as an RSA private key; the parser's own message is dropped because it may quote input. */
function isRsaPrivateKey(pem: string): boolean {
  try {
    return createPrivateKey(pem).asymmetricKeyType === 'rsa';
  } catch {
    return false;
  }
}

export const serviceAccountKeySchema = z
  .object({
    type: z.literal('service_account', { error: 'must be "service_account" (this is not a service-account key file)' }),
    project_id: z
      .string({ error: 'must be a string' })
      .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a Google Cloud project id (6-30 lowercase letters, digits and hyphens)'),
    private_key_id: z.string({ error: 'must be a string' }).regex(/^[0-9a-f]{40}$/, 'must be the 40 hexadecimal characters of the key id'),
    private_key: z.string({ error: 'must be a string' }).superRefine((pem, ctx) => {
      if (!PEM.test(pem)) ctx.addIssue({ code: 'custom', message: 'must be a PEM private key (-----BEGIN PRIVATE KEY----- … -----END PRIVATE KEY-----)' });
      else if (!isRsaPrivateKey(pem)) ctx.addIssue({ code: 'custom', message: 'must be an RSA private key that can be read' });
    }),
    client_email: z.email({ error: 'must be the service account e-mail address' }),
    token_uri: z.string({ error: 'must be a string' }).refine(isTokenUri, 'must be an https URL (http only to this machine)'),
  })
  // Other fields of the file (client_id, auth_uri, universe_domain, …) are kept and unused.
  .loose();

export type ServiceAccountKey = z.infer<typeof serviceAccountKeySchema>;

/**
 * Reads a key from its JSON text or an already parsed object. `source` names it in errors
 * (e.g. the secret path), so a person knows which file to fix.
 */
export function parseServiceAccountKey(input: string | unknown, source = 'service account key'): ServiceAccountKey {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch {
      // JSON.parse quotes the text around the error, which may be the private key.
      throw keyError(source, [{ field: 'the key', message: 'is not valid JSON; give the whole key file as downloaded' }]);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw keyError(source, [{ field: 'the key', message: 'must be a JSON object' }]);
  }
  const fields = value as Record<string, unknown>;
  const result = serviceAccountKeySchema.safeParse(fields);
  if (result.success) return result.data;
  throw keyError(
    source,
    result.error.issues.map((issue) => {
      const field = issue.path.join('.') || 'the key';
      return { field, message: fields[field] === undefined ? 'is missing' : issue.message };
    }),
  );
}

function keyError(source: string, fields: Array<{ field: string; message: string }>): SupervisorError {
  const summary = fields.map((f) => `${f.field} ${f.message}`).join('; ');
  return invalidInput(`${source} is not a usable service-account key: ${summary}`, { fields });
}

/** The signing key as a KeyObject, so the PEM text need not be kept around. */
export function signingKey(key: ServiceAccountKey): KeyObject {
  return createPrivateKey(key.private_key);
}
