// ServiceAccountTokenSource against the fake token endpoint: the key's token_uri is where the
// grant goes, the assertion is what Google expects, tokens are cached and refreshed, and a
// refusal names the account, never the key.
import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { ManualClock } from '../../src/core/clock.js';
import { SupervisorError } from '../../src/core/errors.js';
import { ServiceAccountTokenSource } from '../../src/gcloud/auth.js';
import { parseServiceAccountKey } from '../../src/gcloud/key.js';
import { startFakeGoogle, type FakeGoogle, type ServiceAccountKeyJson } from '../fakes/gcloud/index.js';
import { assertNoSecrets, errorTexts, refusals } from './secrets.js';

let fake: FakeGoogle;
let key: ServiceAccountKeyJson;
let clock: ManualClock;
const seen: SupervisorError[] = [];
const expectRefusal = refusals(seen);

const source = (k: ServiceAccountKeyJson = key) => new ServiceAccountTokenSource(parseServiceAccountKey(k), { clock });
const tokenCalls = () => fake.calls.filter((c) => c.service === 'oauth');
// One RSA pair for the file: each test gets a fresh fake and account, without paying for key generation each time.
const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const keyPair = {
  privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
};
const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

beforeEach(async () => {
  clock = new ManualClock(new Date());
  fake = await startFakeGoogle({ now: () => clock.now().getTime() });
  key = fake.addServiceAccount({ projectId: 'alpha-project', email: 'ci@alpha-project.iam.gserviceaccount.com', keyPair }).key;
});

afterEach(async () => {
  assertNoSecrets(errorTexts(seen), [key], fake.issuedTokens());
  await fake.close();
});

describe('access tokens', () => {
  test("the grant goes to the key's token_uri with an RS256 assertion Google would accept", async () => {
    const token = await source().token();
    assert.match(token, /^ya29\./);
    const [call] = tokenCalls();
    assert.ok(call);
    assert.equal(`http://127.0.0.1:${new URL(fake.tokenUri).port}${call.path}`, fake.tokenUri);
    assert.equal(call.account, key.client_email);
    const form = new URLSearchParams(String(call.body));
    assert.equal(form.get('grant_type'), 'urn:ietf:params:oauth:grant-type:jwt-bearer');
    const [h = '', c = ''] = (form.get('assertion') ?? '').split('.');
    assert.deepEqual(decode(h), { alg: 'RS256', typ: 'JWT', kid: key.private_key_id });
    const claims = decode(c);
    assert.equal(claims.iss, key.client_email);
    assert.equal(claims.aud, key.token_uri);
    assert.equal(claims.scope, 'https://www.googleapis.com/auth/cloud-platform');
    assert.equal(Number(claims.exp) - Number(claims.iat), 3600);
  });

  test('a token is reused until five minutes before it expires', async () => {
    const tokens = source();
    const first = await tokens.token();
    clock.advance(54 * 60_000);
    assert.equal(await tokens.token(), first);
    assert.equal(fake.grantCount(), 1);
    clock.advance(2 * 60_000);
    const second = await tokens.token();
    assert.notEqual(second, first);
    assert.equal(fake.grantCount(), 2);
  });

  test('callers asking at once share one grant', async () => {
    const tokens = source();
    const all = await Promise.all([tokens.token(), tokens.token(), tokens.token()]);
    assert.equal(new Set(all).size, 1);
    assert.equal(fake.grantCount(), 1);
  });

  test('refresh after a 401 gets a new token once, however many callers saw the old one refused', async () => {
    const tokens = source();
    const old = await tokens.token();
    const [a, b] = await Promise.all([tokens.refresh(old), tokens.refresh(old)]);
    assert.equal(a, b);
    assert.notEqual(a, old);
    assert.equal(await tokens.refresh(old), a, 'a late caller with the old token gets the replacement');
    assert.equal(fake.grantCount(), 2);
  });

  test('a revoked key is a clear error naming the account and the next step', async () => {
    const tokens = source();
    await tokens.token();
    fake.revokeKey(key.private_key_id);
    const err = await expectRefusal(tokens.refresh(await tokens.token()), 'not_configured', /service account ci@alpha-project\.iam\.gserviceaccount\.com/);
    assert.match(err.message, /invalid_grant \(Invalid JWT Signature\.\)/);
    // A token source made without the account's name (only the accounts service knows it) says <account>.
    assert.match(err.message, /create a new JSON key .* and store it again with gcloud_add_account <account> <key\.json>$/);
    assert.equal(err.details.account, key.client_email);
  });

  test('an unreachable or failing token endpoint is unavailable, naming the account', async () => {
    fake.failNext(1, { status: 503 }, { service: 'oauth' });
    await expectRefusal(source().token(), 'unavailable', /token endpoint .* failed for service account ci@/);
    const closed = { ...key, token_uri: 'http://127.0.0.1:1/token' };
    await expectRefusal(source(closed).token(), 'unavailable', /could not reach the token endpoint http:\/\/127\.0\.0\.1:1\/token for service account ci@/);
  });
});
