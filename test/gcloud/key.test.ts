// The service-account key schema: what it accepts, what each refusal says, and that no
// refusal quotes the key.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { SupervisorError } from '../../src/core/errors.js';
import { parseServiceAccountKey } from '../../src/gcloud/key.js';
import { startFakeGoogle, type FakeGoogle, type ServiceAccountKeyJson } from '../fakes/gcloud/index.js';
import { assertNoSecrets } from './secrets.js';

let fake: FakeGoogle;
let key: ServiceAccountKeyJson;
const seen: SupervisorError[] = [];

function refused(input: unknown, field?: string): SupervisorError {
  try {
    parseServiceAccountKey(input, 'meta/gcloud/alpha');
  } catch (err) {
    assert.ok(err instanceof SupervisorError);
    assert.equal(err.code, 'invalid_input');
    assert.match(err.message, /^meta\/gcloud\/alpha is not a usable service-account key: /);
    if (field) assert.ok((err.details.fields as Array<{ field: string }>).some((f) => f.field === field), `${field} not named in ${err.message}`);
    seen.push(err);
    return err;
  }
  assert.fail('expected a refusal');
}

before(async () => {
  fake = await startFakeGoogle();
  key = fake.addServiceAccount({ projectId: 'alpha-project' }).key;
});

after(async () => {
  await fake.close();
  assertNoSecrets(seen.flatMap((e) => [e.message, JSON.stringify(e.toJSON())]), [key], []);
});

describe('service-account key', () => {
  test('a key file as downloaded parses, from text or object; extra fields are kept', () => {
    const parsed = parseServiceAccountKey(JSON.stringify(key));
    assert.equal(parsed.client_email, key.client_email);
    assert.equal(parsed.token_uri, fake.tokenUri);
    assert.equal((parsed as Record<string, unknown>).client_id, key.client_id);
    assert.deepEqual(parseServiceAccountKey({ ...key, token_uri: 'https://oauth2.googleapis.com/token' }).token_uri, 'https://oauth2.googleapis.com/token');
  });

  test('every missing field is named in one message', () => {
    const err = refused({ type: 'service_account' });
    for (const field of ['project_id', 'private_key_id', 'private_key', 'client_email', 'token_uri']) assert.match(err.message, new RegExp(`${field} is missing`));
  });

  test('another kind of credential is named as such', () => {
    assert.match(refused({ ...key, type: 'authorized_user' }, 'type').message, /type must be "service_account"/);
  });

  test('bad values are described without being quoted', () => {
    assert.match(refused({ ...key, project_id: 'Alpha Project!' }, 'project_id').message, /Google Cloud project id/);
    assert.match(refused({ ...key, private_key_id: 'xyz' }, 'private_key_id').message, /40 hexadecimal/);
    assert.match(refused({ ...key, client_email: 'not-an-email' }, 'client_email').message, /e-mail/);
    assert.doesNotMatch(refused({ ...key, client_email: 'not-an-email' }).message, /not-an-email/);
    assert.match(refused({ ...key, token_uri: 'http://oauth.example.com/token' }, 'token_uri').message, /https URL/);
    assert.match(refused({ ...key, token_uri: 42 }, 'token_uri').message, /must be a string/);
  });

  test('the private key must be a readable RSA PEM; the refusal never quotes it', () => {
    const body = key.private_key.split('\n').slice(1, -2).join('\n');
    const garbled = key.private_key.replace(body.slice(100, 140), 'A'.repeat(40));
    assert.match(refused({ ...key, private_key: garbled }, 'private_key').message, /RSA private key that can be read/);
    assert.match(refused({ ...key, private_key: 'hunter2' }, 'private_key').message, /PEM private key/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.match(refused({ ...key, private_key: ec }, 'private_key').message, /RSA private key/);
  });

  test('a key pasted into the wrong field is not echoed', () => {
    refused({ ...key, client_email: key.private_key }, 'client_email');
    refused({ ...key, token_uri: key.private_key }, 'token_uri');
  });

  test('text that is not JSON is refused without quoting it (JSON.parse would)', () => {
    const broken = JSON.stringify(key).replace('"private_key_id"', 'private_key_id');
    const err = refused(broken, 'the key');
    assert.match(err.message, /not valid JSON/);
    refused('[]', 'the key');
  });
});
