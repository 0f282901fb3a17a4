/**
 * The minimal dashboard: a static page (no data in it, so it is served without a
 * token) that asks for a token once, keeps it in localStorage, and reads the REST
 * API with it. Values are never fetched: it shows secret metadata and the audit log.
 */
/** The dashboard's icon, served without a token (and unaudited) as /favicon.svg and /favicon.ico, which browsers ask for on their own. */
export const faviconSvg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#234"/><path d="M4 11.5c1 .8 2.3 1.2 3.8 1.2 2 0 3.2-.9 3.2-2.3 0-1.3-.9-1.9-2.9-2.4-1.5-.4-1.9-.7-1.9-1.3 0-.6.6-1 1.6-1 1 0 1.9.3 2.6.8l.8-1.4c-.9-.6-2-1-3.4-1-1.9 0-3.2 1-3.2 2.5 0 1.4 1 2 2.9 2.5 1.4.3 1.9.7 1.9 1.3 0 .6-.6 1-1.6 1-1.2 0-2.3-.4-3.1-1.1z" fill="#fff"/></svg>
`;

export const dashboardHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Supervisor</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #222; }
  h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
  table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #ddd; }
  th { background: #f4f4f4; } #error { color: #b00; } .muted { color: #777; }
</style>
</head>
<body>
<h1>Supervisor</h1>
<form id="login"><label>Bearer token <input id="token" type="password" size="60" autocomplete="off"></label> <button>Connect</button></form>
<p id="who" class="muted"></p>
<p id="error" role="alert"></p>
<h2>Secrets <span class="muted">(metadata only)</span></h2>
<table id="secrets"><thead><tr><th>Path</th><th>Version</th><th>Description</th><th>Expires</th><th>Reads</th><th>Last read</th></tr></thead><tbody></tbody></table>
<h2>Audit log</h2>
<table id="audit"><thead><tr><th>When</th><th>Actor</th><th>Action</th><th>Target</th><th>Outcome</th></tr></thead><tbody></tbody></table>
<script>
const api = async (path) => {
  const res = await fetch('/api/v1' + path, { headers: { authorization: 'Bearer ' + localStorage.getItem('supervisor-token') } });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ? body.error.code + ': ' + body.error.message : res.statusText);
  return body;
};
const fill = (id, rows) => {
  const tbody = document.querySelector('#' + id + ' tbody');
  tbody.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement('tr');
    for (const cell of cells) { const td = document.createElement('td'); td.textContent = cell ?? ''; tr.append(td); }
    return tr;
  }));
};
async function load() {
  document.getElementById('error').textContent = '';
  try {
    const me = await api('/whoami');
    document.getElementById('who').textContent = 'Signed in as ' + me.actor + ' (' + me.role + ', ' + me.project + ')';
    const secrets = await api('/secrets?limit=200');
    fill('secrets', secrets.items.map((s) => [s.path, String(s.version), s.description, s.expiresAt, String(s.readCount), s.lastReadAt]));
    if (me.role === 'admin') {
      const audit = await api('/audit?limit=50');
      fill('audit', audit.items.map((a) => [a.at, a.actor, a.action, a.target, a.outcome]));
    }
  } catch (err) { document.getElementById('error').textContent = err.message; }
}
document.getElementById('login').addEventListener('submit', (e) => {
  e.preventDefault();
  localStorage.setItem('supervisor-token', document.getElementById('token').value.trim());
  load();
});
if (localStorage.getItem('supervisor-token')) load();
</script>
</body>
</html>
`;
