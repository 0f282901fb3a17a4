// Wire checks of the fake token endpoint: it must refuse every assertion Google refuses.
// Assertions here are signed by hand (not with src/gcloud/auth.ts) so the fake is judged on
// its own.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { startFakeGoogle, type FakeGoogle, type ServiceAccountKeyJson } from '../fakes/gcloud/index.js';

const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

let fake: FakeGoogle;
let key: ServiceAccountKeyJson;

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function jwt(claims: Record<string, unknown>, opts: { pem?: string; kid?: string | null; alg?: string } = {}): string {
  const header: Record<string, unknown> = { alg: opts.alg ?? 'RS256', typ: 'JWT' };
  if (opts.kid !== null) header.kid = opts.kid ?? key.private_key_id;
  const unsigned = `${b64(header)}.${b64(claims)}`;
  return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), opts.pem ?? key.private_key).toString('base64url')}`;
}

function claims(over: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = Math.floor(Date.now() / 1000);
  return { iss: key.client_email, scope: SCOPE, aud: fake.tokenUri, iat, exp: iat + 3600, ...over };
}

async function grant(assertion: string, opts: { grantType?: string; json?: boolean; method?: string } = {}) {
  const form = new URLSearchParams({ grant_type: opts.grantType ?? GRANT, assertion });
  const res = await fetch(fake.tokenUri, {
    method: opts.method ?? 'POST',
    headers: { 'Content-Type': opts.json ? 'application/json' : 'application/x-www-form-urlencoded' },
    body: opts.method === 'GET' ? undefined : opts.json ? JSON.stringify(Object.fromEntries(form)) : form.toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

before(async () => {
  fake = await startFakeGoogle();
  key = fake.addServiceAccount({ projectId: 'alpha-project', email: 'runner@alpha-project.iam.gserviceaccount.com' }).key;
});

after(() => fake.close());

describe('the JWT-bearer grant', () => {
  test('a well-formed assertion signed by the registered key gets a Bearer token for an hour', async () => {
    const before = fake.grantCount(key.client_email);
    const r = await grant(jwt(claims()));
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body).sort(), ['access_token', 'expires_in', 'token_type']);
    assert.equal(r.body.token_type, 'Bearer');
    assert.equal(r.body.expires_in, 3599);
    assert.match(String(r.body.access_token), /^ya29\./);
    assert.equal(fake.grantCount(key.client_email), before + 1);
    assert.equal(fake.grants.at(-1)?.kid, key.private_key_id);
  });

  test('an assertion without kid is checked against every live key of the account', async () => {
    assert.equal((await grant(jwt(claims(), { kid: null }))).status, 200);
  });

  test('a JWT signed with another key, or altered after signing, is refused as an invalid signature', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    for (const assertion of [jwt(claims(), { pem: other }), jwt(claims(), { pem: other, kid: null })]) {
      const r = await grant(assertion);
      assert.equal(r.status, 400);
      assert.deepEqual(r.body, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
    }
    const [h, , s] = jwt(claims()).split('.');
    const forged = `${h}.${b64(claims({ scope: 'https://www.googleapis.com/auth/compute' }))}.${s}`;
    assert.equal((await grant(forged)).body.error_description, 'Invalid JWT Signature.');
  });

  test('only RS256 is accepted', async () => {
    const r = await grant(jwt(claims(), { alg: 'HS256' }));
    assert.equal(r.body.error, 'invalid_grant');
  });

  test('iat and exp must describe a token of at most an hour, issued about now', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const bad of [{ exp: now + 3601 }, { iat: now + 3600, exp: now + 7200 }, { iat: now - 7200, exp: now - 3600 }, { iat: 'now' }]) {
      const r = await grant(jwt(claims(bad)));
      assert.equal(r.status, 400, JSON.stringify(bad));
      assert.equal(r.body.error, 'invalid_grant');
      assert.match(String(r.body.error_description), /short-lived token \(60 minutes\)/);
    }
  });

  test('aud must be this token endpoint; the default Google URL does not do for a key whose token_uri is elsewhere', async () => {
    const r = await grant(jwt(claims({ aud: 'https://oauth2.googleapis.com/token' })));
    assert.equal(r.body.error, 'invalid_grant');
    assert.match(String(r.body.error_description), /audience/);
  });

  test('an unknown issuer is "account not found"', async () => {
    const r = await grant(jwt(claims({ iss: 'ghost@alpha-project.iam.gserviceaccount.com' })));
    assert.deepEqual(r.body, { error: 'invalid_grant', error_description: 'Invalid grant: account not found' });
  });

  test('a missing or unknown scope is invalid_scope', async () => {
    for (const scope of [undefined, '', 'https://www.googleapis.com/auth/nonsense']) {
      const r = await grant(jwt(claims({ scope })));
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'invalid_scope');
    }
  });

  test('the grant type, the form encoding and the method are checked', async () => {
    assert.equal((await grant(jwt(claims()), { grantType: 'client_credentials' })).body.error, 'unsupported_grant_type');
    assert.equal((await grant(jwt(claims()), { json: true })).body.error, 'invalid_request');
    assert.equal((await grant('', {})).body.error, 'invalid_request');
    assert.equal((await grant(jwt(claims()), { method: 'GET' })).status, 405);
    const res = await fetch(fake.tokenUri.replace(/token$/, 'oauth2/v4/token'), { method: 'POST' });
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  });

  test('a revoked key stops working at once; another key of the account still does', async () => {
    const second = fake.addKey(key.client_email);
    fake.revokeKey(key.private_key_id);
    const refused = await grant(jwt(claims()));
    assert.deepEqual(refused.body, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
    const ok = await grant(jwt(claims(), { pem: second.private_key, kid: second.private_key_id }));
    assert.equal(ok.status, 200);
  });
});
