// Test helpers for refusals and for the scan that no key material or token reaches output.
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { SupervisorError } from '../../src/core/errors.js';
import type { ServiceAccountKeyJson } from '../fakes/gcloud/index.js';

/** Awaits a refusal, checks its code (and message), keeps it for the secret scan. */
export function refusals(seen: SupervisorError[]) {
  return async (call: Promise<unknown>, code: string, message?: RegExp): Promise<SupervisorError> => {
    try {
      const answer = await call;
      assert.fail(`expected ${code}, got an answer: ${JSON.stringify(answer).slice(0, 300)}`);
    } catch (err) {
      if (!(err instanceof SupervisorError)) throw err;
      seen.push(err);
      assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
      if (message) assert.match(err.message, message);
      return err;
    }
  };
}

/**
 * Fails when any text carries private-key material (the PEM, its base64 body or any 32-char
 * run of it) or an access token. Texts are error messages, JSON of error details, log lines.
 */
export function assertNoSecrets(texts: string[], keys: ServiceAccountKeyJson[], tokens: string[]): void {
  const needles: string[] = [...tokens];
  for (const key of keys) {
    const body = key.private_key.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
    for (let i = 0; i + 32 <= body.length; i += 32) needles.push(body.slice(i, i + 32));
  }
  for (const text of texts) {
    assert.doesNotMatch(text, /-----BEGIN [A-Z ]*PRIVATE KEY-----(?:\s|\\n)*[A-Za-z0-9+/]{8}/, `a PEM key in: ${text.slice(0, 200)}`);
    const flat = text.replace(/\\n|\s+/g, '');
    for (const needle of needles) {
      assert.ok(!text.includes(needle) && !flat.includes(needle.replace(/\s+/g, '')), `secret material found in: ${text.slice(0, 200)}`);
    }
  }
}

/** Each error as a caller, a log or a console would see it (inspect shows any `cause` too). */
export const errorTexts = (errors: SupervisorError[]) => errors.flatMap((e) => [e.message, JSON.stringify(e.toJSON()), String(e.stack), inspect(e, { depth: 8 })]);
