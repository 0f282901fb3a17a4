// The dashboard in a real browser (Debian's chromium driven by playwright-core): what each
// token sees, that nothing of one token's view stays under another or after an error, that a
// refused token is not kept, sign-out, and that the page runs under its own Content-Security-Policy.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { adminPrincipal } from '../../src/core/principal.js';
import { daemonBackend } from '../cli/run-cli.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

const CHROMIUM = '/usr/bin/chromium';
// Under CI a missing browser fails the launch (.ci/run installs it); elsewhere the skip says why.
const skip = existsSync(CHROMIUM) || process.env.CI ? false : `${CHROMIUM} is not installed (apt-get install chromium; .ci/run does it)`;
const CANARY = 'DASHBOARD-BROWSER-CANARY';

describe('the dashboard in a browser', { skip }, () => {
  let daemon: TestDaemon;
  let browser: Browser;
  let page: Page;
  let alphaToken: string;
  const errors: string[] = [];

  const rows = (table: string) => page.locator(`#${table} tbody tr`).allTextContents();
  const paths = () => page.locator('#secrets tbody tr td:first-child').allTextContents();
  const signIn = async (token: string) => {
    await page.fill('#token', token);
    await page.click('#login button');
  };

  before(async () => {
    daemon = await startTestDaemon(await daemonBackend());
    const admin = adminPrincipal('t');
    alphaToken = await daemon.projectToken('alpha');
    await daemon.services.secrets.set(admin, { path: 'project/alpha/db_url', value: CANARY, description: 'alpha database' });
    await daemon.services.secrets.set(admin, { path: 'meta/cloudflare/api_token', value: CANARY });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage();
    // A violated Content-Security-Policy shows as a console error; none may appear.
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(daemon.url);
  });
  after(async () => {
    await browser?.close();
    await daemon?.close();
  });

  test('an admin token shows every secret\'s metadata and the audit log, never a value', async () => {
    await signIn(daemon.adminToken);
    await page.waitForSelector('#audit tbody tr');
    assert.match(await page.textContent('#who') ?? '', /^Signed in as .* \(admin, meta\)$/);
    assert.deepEqual((await paths()).sort(), ['meta/cloudflare/api_token', 'project/alpha/db_url']);
    assert.ok(!(await page.content()).includes(CANARY), 'no secret value on the page');
    assert.equal(await page.inputValue('#token'), '', 'the token is not left in the field');
  });

  test('a project token then: its own secrets only, and no audit rows left from the admin', async () => {
    await signIn(alphaToken);
    await page.locator('#who', { hasText: '(project, alpha)' }).waitFor();
    await page.waitForSelector('#secrets tbody tr');
    assert.deepEqual(await paths(), ['project/alpha/db_url']);
    assert.deepEqual(await rows('audit'), []);
    assert.equal(await page.textContent('#audit-note'), 'The audit log is shown to admin tokens only.');
  });

  test('a mistyped token: an error a person can act on, and the session there was stays as it was', async () => {
    await signIn('svt_not-a-real-token');
    await page.locator('#error', { hasText: /./ }).waitFor();
    assert.equal(await page.textContent('#error'), 'this token is unknown or revoked; paste a valid one');
    assert.match(await page.textContent('#who') ?? '', /\(project, alpha\)/);
    assert.deepEqual(await paths(), ['project/alpha/db_url']);
    assert.equal(await page.isVisible('#signout'), true, 'the session can still be ended');
    await signIn('');
    assert.equal(await page.textContent('#error'), 'paste a bearer token first (svt_…)');
    // A reload signs in with the last accepted token, not the refused one.
    await page.reload();
    await page.locator('#who', { hasText: '(project, alpha)' }).waitFor();
  });

  test('answers still on their way are dropped: nothing shows after Sign out, and the last token entered wins', async () => {
    // The admin's requests are slow; the project token's are not.
    await page.route('**/api/v1/**', async (route) => {
      if ((route.request().headers().authorization ?? '') === `Bearer ${daemon.adminToken}`) await new Promise((r) => setTimeout(r, 800));
      await route.continue();
    });
    try {
      await signIn(daemon.adminToken);
      await page.click('#signout');
      await new Promise((r) => setTimeout(r, 1500));
      assert.deepEqual([await page.textContent('#who'), await rows('secrets'), await rows('audit')], ['', [], []], 'nothing after Sign out');
      assert.equal(await page.evaluate('localStorage.getItem("supervisor-token")'), null);

      await signIn(daemon.adminToken);
      await signIn(alphaToken);
      await new Promise((r) => setTimeout(r, 1500));
      assert.match(await page.textContent('#who') ?? '', /\(project, alpha\)/);
      assert.deepEqual([await paths(), await rows('audit')], [['project/alpha/db_url'], []]);
      assert.equal(await page.evaluate('localStorage.getItem("supervisor-token")'), alphaToken, 'the token entered last is the one kept');
    } finally {
      await page.unroute('**/api/v1/**');
    }
  });

  test('sign out forgets the token: a reload shows nothing', async () => {
    assert.equal(await page.isVisible('#signout'), true);
    await page.click('#signout');
    assert.deepEqual([await page.textContent('#who'), await rows('secrets')], ['', []]);
    await page.reload();
    await page.waitForLoadState('networkidle');
    assert.deepEqual([await page.textContent('#who'), await rows('secrets'), await page.isVisible('#signout')], ['', [], false]);
  });

  test("times are in the reader's zone and locale, and a long audit log says it shows the latest entries only", async () => {
    const admin = adminPrincipal('t');
    for (let i = 0; i < 60; i++) await daemon.services.secrets.set(admin, { path: `project/alpha/many_${i}`, value: CANARY });
    const context = await browser.newContext({ timezoneId: 'Asia/Tokyo', locale: 'en-GB' });
    try {
      const tokyo = await context.newPage();
      await tokyo.goto(daemon.url);
      await tokyo.fill('#token', daemon.adminToken);
      await tokyo.click('#login button');
      await tokyo.locator('#audit-note', { hasText: 'The latest' }).waitFor();
      assert.equal(await tokyo.textContent('#audit-note'), 'The latest 50 entries; supervisor audit list --all shows every one.');
      const latest = (await daemon.services.audit.list({ limit: 1 }))[0]!;
      const shown = await tokyo.locator('#audit tbody tr:first-child td:first-child').textContent();
      assert.equal(shown, latest.at.toLocaleString('en-GB', { timeZone: 'Asia/Tokyo' }), 'the newest entry, at Tokyo time');
    } finally {
      await context.close();
    }
  });

  test('the page runs under its Content-Security-Policy with no violation, and may not be framed', async () => {
    const res = await fetch(`${daemon.url}/`);
    assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'sha256-[^']+'; .*frame-ancestors 'none'/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.deepEqual(errors.filter((e) => !/401 \(Unauthorized\)/.test(e)), []);
  });
});
