// Servers that echo what they were sent — the assertion, the bearer token — into their error
// answers, to show that nothing we throw or log passes a credential on. Every error and log
// line of this file is scanned for key material and tokens at the end.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SupervisorError } from '../../src/core/errors.js';
import { ServiceAccountTokenSource } from '../../src/gcloud/auth.js';
import { ComputeClient } from '../../src/gcloud/compute.js';
import { parseServiceAccountKey } from '../../src/gcloud/key.js';
import { MonitoringClient } from '../../src/gcloud/monitoring.js';
import { ALPHA, openGoogle, ZONE, type GoogleFixture } from './fixture.js';
import { assertNoSecrets, errorTexts, refusals } from './secrets.js';

let g: GoogleFixture;
let echo: Server;
let echoUrl: string;
const seen: SupervisorError[] = [];
const expectRefusal = refusals(seen);
/** Every credential the echo server was sent, whatever form it came in. */
const received: string[] = [];

/** Answers every request with the Google error envelope quoting the request's credentials. */
async function startEcho(): Promise<void> {
  echo = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const auth = req.headers.authorization ?? '';
      const assertion = new URLSearchParams(body).get('assertion') ?? '';
      for (const credential of [auth.replace(/^Bearer /, ''), assertion]) if (credential) received.push(credential);
      const said = `you sent ${auth} ${assertion}`;
      const status = req.url?.startsWith('/token') ? 400 : req.url?.includes('/retry') ? 503 : 403;
      const payload = req.url?.startsWith('/token')
        ? { error: 'invalid_grant', error_description: said }
        : { error: { code: status, message: said, errors: [{ message: said, domain: 'global', reason: `r-${auth}` }], status: 'PERMISSION_DENIED' } };
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(payload));
    });
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
}

before(async () => {
  g = await openGoogle();
  await startEcho();
});

after(async () => {
  const texts = [...errorTexts(seen), ...g.logs];
  assert.ok(received.length >= 3, 'the echo server saw credentials to leak');
  assertNoSecrets(texts, [g.alpha.key, g.beta.key], [...g.fake.issuedTokens(), ...received]);
  await new Promise<void>((resolve) => echo.close(() => resolve()));
  await g.close();
});

describe('nothing we say carries a credential', () => {
  test('a token endpoint that quotes the assertion back', async () => {
    const tokens = new ServiceAccountTokenSource(parseServiceAccountKey({ ...g.alpha.key, token_uri: `${echoUrl}/token` }));
    const err = await expectRefusal(tokens.token(), 'not_configured', /invalid_grant \(you sent {2}\[assertion\]\)/);
    assert.equal(err.details.account, g.alpha.email);
  });

  test('a Compute API that quotes the bearer token back, through Google\'s client', async () => {
    const compute = new ComputeClient({ tokens: g.alpha.tokens, rootUrl: `${echoUrl}/`, log: g.log, sleep: async () => undefined });
    const err = await expectRefusal(compute.get({ project: ALPHA, zone: ZONE, name: 'vm' }), 'forbidden', /you sent Bearer \[redacted\]/);
    assert.equal(err.cause, undefined, "the library's error (whose config holds the token) is not attached");
  });

  test('retries of a Monitoring call whose 503 quotes the token are logged without it', async () => {
    const monitoring = new MonitoringClient({ tokens: g.alpha.tokens, baseUrl: `${echoUrl}/retry`, log: g.log, sleep: async () => undefined, maxRetries: 2 });
    await expectRefusal(monitoring.vmHealth({ project: ALPHA, instanceName: 'vm', minutes: 5 }), 'unavailable', /failed after 3 attempts/);
    assert.ok(g.logs.filter((l) => l.includes('retrying')).length >= 2);
  });

  test('key files refused whole or truncated leave no key in the error', async () => {
    await expectRefusal(Promise.resolve().then(() => parseServiceAccountKey(JSON.stringify(g.beta.key).slice(0, -5))), 'invalid_input');
    await expectRefusal(Promise.resolve().then(() => parseServiceAccountKey({ ...g.beta.key, private_key: g.beta.key.private_key.slice(0, 400) })), 'invalid_input');
  });
});
