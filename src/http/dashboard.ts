/**
 * The minimal dashboard: a static page (no data in it, so it is served without a
 * token) that asks for a token, keeps it in localStorage once the daemon has accepted
 * it, and reads the REST API with it. Values are never fetched: it shows secret
 * metadata and, for an admin, the audit log.
 */
import { createHash } from 'node:crypto';

/** The dashboard's icon, served without a token (and unaudited) as /favicon.svg and /favicon.ico, which browsers ask for on their own. */
export const faviconSvg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#234"/><path d="M4 11.5c1 .8 2.3 1.2 3.8 1.2 2 0 3.2-.9 3.2-2.3 0-1.3-.9-1.9-2.9-2.4-1.5-.4-1.9-.7-1.9-1.3 0-.6.6-1 1.6-1 1 0 1.9.3 2.6.8l.8-1.4c-.9-.6-2-1-3.4-1-1.9 0-3.2 1-3.2 2.5 0 1.4 1 2 2.9 2.5 1.4.3 1.9.7 1.9 1.3 0 .6-.6 1-1.6 1-1.2 0-2.3-.4-3.1-1.1z" fill="#fff"/></svg>
`;

const STYLE = `
  body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #222; }
  h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
  table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #ddd; }
  th { background: #f4f4f4; } #error { color: #b00; } .muted { color: #777; } [hidden] { display: none; }
`;

/** Shown as secrets in one page at most; the CLI and the API page through the rest. */
const SECRETS_SHOWN = 200;
/** The latest audit entries shown; the CLI pages through the rest. */
const AUDIT_SHOWN = 50;

const SCRIPT = `
const KEY = 'supervisor-token';
const $ = (id) => document.getElementById(id);
class Refused extends Error {}
const api = async (path, token) => {
  const res = await fetch('/api/v1' + path, { headers: { authorization: 'Bearer ' + token } });
  const body = await res.json();
  // A browser user has no header to fix: say what is wrong with the token itself.
  if (res.status === 401) throw new Refused('this token is unknown or revoked; paste a valid one');
  if (!res.ok) throw new Error(body.error ? body.error.code + ': ' + body.error.message : res.statusText);
  return body;
};
// Times in the reader's own zone and locale (the API's are UTC, ISO 8601).
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
const fill = (id, rows) => {
  $(id).querySelector('tbody').replaceChildren(...rows.map((cells) => {
    const tr = document.createElement('tr');
    for (const cell of cells) { const td = document.createElement('td'); td.textContent = cell ?? ''; tr.append(td); }
    return tr;
  }));
};
// Nothing of one token's view may stay on screen under another token, or after an error.
const clear = () => {
  $('who').textContent = '';
  $('signout').hidden = true;
  $('secrets-note').textContent = '';
  $('audit-note').textContent = '';
  fill('secrets', []);
  fill('audit', []);
};
// Each sign-in, sign-out or reload starts a new view; answers that come back for an older one are
// dropped, so a slow request can never fill the page after Sign out or under another token.
let view = 0;
async function load(token, typed) {
  const mine = ++view;
  const current = () => mine === view;
  $('error').textContent = '';
  try {
    const me = await api('/whoami', token);
    if (!current()) return;
    // Only a token the daemon accepted replaces the session (and its view).
    localStorage.setItem(KEY, token);
    clear();
    $('who').textContent = 'Signed in as ' + me.actor + ' (' + me.role + ', ' + me.project + ')';
    $('signout').hidden = false;
    const secrets = await api('/secrets?limit=${SECRETS_SHOWN}', token);
    if (!current()) return;
    fill('secrets', secrets.items.map((s) => [s.path, String(s.version), s.description, when(s.expiresAt), String(s.readCount), when(s.lastReadAt)]));
    if (secrets.nextCursor) $('secrets-note').textContent = 'The first ${SECRETS_SHOWN} secrets; supervisor secrets list --all shows every one.';
    if (me.role === 'admin') {
      const audit = await api('/audit?limit=${AUDIT_SHOWN}', token);
      if (!current()) return;
      fill('audit', audit.items.map((a) => [when(a.at), a.actor, a.action, a.target, a.outcome]));
      if (audit.nextCursor) $('audit-note').textContent = 'The latest ${AUDIT_SHOWN} entries; supervisor audit list --all shows every one.';
    } else {
      $('audit-note').textContent = 'The audit log is shown to admin tokens only.';
    }
  } catch (err) {
    if (!current()) return;
    // A mistyped token leaves the session there was as it was; a stored one refused (revoked) ends it.
    if (!typed) {
      clear();
      if (err instanceof Refused) localStorage.removeItem(KEY);
    }
    $('error').textContent = err.message;
  }
}
$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  const token = $('token').value.trim();
  $('token').value = '';
  if (token === '') { $('error').textContent = 'paste a bearer token first (svt_…)'; return; }
  load(token, true);
});
$('signout').addEventListener('click', () => {
  view++;
  localStorage.removeItem(KEY);
  clear();
  $('error').textContent = '';
});
if (localStorage.getItem(KEY)) load(localStorage.getItem(KEY), false);
`;

export const dashboardHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Supervisor</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${STYLE}</style>
</head>
<body>
<h1>Supervisor</h1>
<form id="login"><label>Bearer token <input id="token" type="password" size="60" autocomplete="off"></label> <button>Connect</button></form>
<p><span id="who" class="muted"></span> <button id="signout" type="button" hidden>Sign out</button></p>
<p id="error" role="alert"></p>
<h2>Secrets <span class="muted">(metadata only)</span></h2>
<table id="secrets"><thead><tr><th>Path</th><th>Version</th><th>Description</th><th>Expires</th><th>Reads</th><th>Last read</th></tr></thead><tbody></tbody></table>
<p id="secrets-note" class="muted"></p>
<h2>Audit log</h2>
<table id="audit"><thead><tr><th>When</th><th>Actor</th><th>Action</th><th>Target</th><th>Outcome</th></tr></thead><tbody></tbody></table>
<p id="audit-note" class="muted"></p>
<script>${SCRIPT}</script>
</body>
</html>
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * Headers for the page: only its own inline script and style run (by hash), it talks only to
 * this daemon, and no other site may frame it (a framed page could be made to click Sign out,
 * or to show a token pasted into it).
 */
export const dashboardHeaders: Record<string, string> = {
  'content-security-policy': `default-src 'none'; script-src ${sha256(SCRIPT)}; style-src ${sha256(STYLE)}; connect-src 'self'; img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'`,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};
