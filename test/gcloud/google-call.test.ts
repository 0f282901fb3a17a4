// callGoogle's rules with a stub token provider and scripted attempts: one refresh per 401,
// backoff (or Retry-After) on 429/5xx/network, refusals mapped to codes; and page tokens.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SupervisorError } from '../../src/core/errors.js';
import type { AccessTokenProvider } from '../../src/gcloud/auth.js';
import { callGoogle, envelopeFailure, GoogleHttpError, nextPage, type GoogleFailure } from '../../src/gcloud/google-call.js';

function stubTokens(): AccessTokenProvider & { refreshes: number } {
  let n = 1;
  const stub = {
    account: 'svc@p.iam.gserviceaccount.com',
    refreshes: 0,
    token: async () => `token-${n}`,
    refresh: async () => {
      stub.refreshes += 1;
      n += 1;
      return `token-${n}`;
    },
  };
  return stub;
}

/** Attempts that fail with the given failures, then answer with the token they were given. */
function script(...failures: GoogleFailure[]) {
  const tokensSeen: string[] = [];
  return {
    tokensSeen,
    attempt: async (token: string) => {
      tokensSeen.push(token);
      const next = failures.shift();
      if (next) throw new GoogleHttpError(next);
      return token;
    },
  };
}

describe('callGoogle', () => {
  test('a 401 refreshes once and retries with the new token, without counting as a retry', async () => {
    const tokens = stubTokens();
    const s = script({ status: 401, message: 'expired' });
    const sleeps: number[] = [];
    assert.equal(await callGoogle('x', tokens, s.attempt, { sleep: async (ms) => void sleeps.push(ms) }), 'token-2');
    assert.deepEqual(s.tokensSeen, ['token-1', 'token-2']);
    assert.equal(tokens.refreshes, 1);
    assert.deepEqual(sleeps, []);
  });

  test('retryable failures back off (Retry-After wins), then give up as unavailable', async () => {
    const sleeps: number[] = [];
    const s = script({ status: 429, message: 'slow down', retryAfterMs: 7000 }, { message: 'network error: ECONNRESET' }, { status: 503, message: 'down' });
    const err = await callGoogle('compute x', stubTokens(), s.attempt, { maxRetries: 2, sleep: async (ms) => void sleeps.push(ms) }).catch((e: unknown) => e);
    assert.ok(err instanceof SupervisorError);
    assert.equal(err.code, 'unavailable');
    assert.match(err.message, /compute x failed after 3 attempts \(HTTP 503: down\)/);
    assert.equal(sleeps[0], 7000);
    assert.ok((sleeps[1] ?? 0) >= 500 && (sleeps[1] ?? 0) <= 1000, 'second wait is the jittered backoff');
  });

  test('refusals map to codes and are not retried', async () => {
    for (const [status, code] of [[400, 'invalid_input'], [403, 'forbidden'], [404, 'not_found'], [409, 'conflict']] as const) {
      const s = script({ status, reason: 'r', message: 'no' });
      const err = await callGoogle('y', stubTokens(), s.attempt).catch((e: unknown) => e);
      assert.ok(err instanceof SupervisorError);
      assert.equal(err.code, code);
      assert.equal(s.tokensSeen.length, 1);
    }
  });

  test('a 403 rate limit is backed off and retried like a 429; a used-up quota is not retried, and is not called a missing permission', async () => {
    const sleeps: number[] = [];
    const limited = script({ status: 403, reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded' }, { status: 403, reason: 'userRateLimitExceeded', message: 'slow' });
    assert.equal(await callGoogle('x', stubTokens(), limited.attempt, { sleep: async (ms) => void sleeps.push(ms) }), 'token-1');
    assert.equal(limited.tokensSeen.length, 3);
    assert.equal(sleeps.length, 2);
    const quota = script({ status: 403, reason: 'quotaExceeded', message: "Quota 'CPUS' exceeded" });
    const err = await callGoogle('compute instances.insert', stubTokens(), quota.attempt).catch((e: unknown) => e);
    assert.ok(err instanceof SupervisorError);
    assert.equal(quota.tokensSeen.length, 1);
    assert.match(err.message, /refused \(HTTP 403 quotaExceeded: Quota 'CPUS' exceeded\); the project's quota for it is used up: free some .* Quotas page$/);
    assert.doesNotMatch(err.message, /lacks that permission/);
  });

  test('errors other than HTTP failures pass through untouched', async () => {
    const boom = new SupervisorError('not_configured', 'token endpoint said no');
    await assert.rejects(callGoogle('z', stubTokens(), async () => Promise.reject(boom)), (e) => e === boom);
  });
});

describe('envelopes and pages', () => {
  test("reads the classic reason, or the canonical status when there is no errors[]", () => {
    assert.deepEqual(envelopeFailure(404, { error: { code: 404, message: 'gone', errors: [{ reason: 'notFound' }], status: 'NOT_FOUND' } }), { status: 404, reason: 'notFound', message: 'gone', retryAfterMs: undefined });
    assert.equal(envelopeFailure(403, { error: { code: 403, message: 'no', status: 'PERMISSION_DENIED' } }).reason, 'PERMISSION_DENIED');
    assert.equal(envelopeFailure(502, '<html>').message, 'HTTP 502 without an error envelope');
    assert.equal(envelopeFailure(429, {}, '3').retryAfterMs, 3000);
  });

  test('a repeated page token stops the walk with an error instead of a loop', () => {
    const seen = new Set<string>();
    assert.equal(nextPage('list', seen, 'a'), 'a');
    assert.equal(nextPage('list', seen, ''), undefined);
    assert.equal(nextPage('list', seen, null), undefined);
    assert.throws(() => nextPage('list', seen, 'a'), /returned a page token it had returned before/);
  });
});
