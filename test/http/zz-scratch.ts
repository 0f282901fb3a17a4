import { startTestDaemon } from '../helpers/daemon.js';
import { capturedLogLines } from '../helpers/services.js';

for (const backend of ['pglite', 'postgres'] as const) {
const d = await startTestDaemon(backend);
const H = { Authorization: `Bearer ${d.adminToken}`, 'content-type': 'application/json' };
async function show(label: string, r: Promise<Response>) { const res = await r; console.log(backend, label, res.status, (await res.text()).slice(0, 250)); }
try {
  await fetch(`${d.url}/api/v1/secret`, { method: 'PUT', headers: H, body: JSON.stringify({ path: 'project/x/y', value: 'v' }) });
  await show('hist cursor', fetch(`${d.url}/api/v1/secret/history?path=project/x/y&cursor=abc`, { headers: H }));
  await show('list cursor NUL', fetch(`${d.url}/api/v1/secrets?cursor=AA`, { headers: H }));
  await show('audit cursor', fetch(`${d.url}/api/v1/audit?cursor=abc`, { headers: H }));
  await show('audit target NUL', fetch(`${d.url}/api/v1/audit?target=a%00b`, { headers: H }));
  await show('tokens cursor NUL', fetch(`${d.url}/api/v1/tokens?cursor=AA`, { headers: H }));
  await show('due cursor NUL', fetch(`${d.url}/api/v1/secrets/due?cursor=AA`, { headers: H }));
  await show('bearer lower', fetch(`${d.url}/api/v1/whoami`, { headers: { authorization: `bearer ${d.adminToken}` } }));
  await show('import NUL value', fetch(`${d.url}/api/v1/secrets/import`, { method: 'POST', headers: H, body: JSON.stringify({ prefix: 'project/x/', content: 'A="x\\u0000"\n' }) }));
  await show('desc', fetch(`${d.url}/api/v1/secret`, { method: 'PUT', headers: H, body: JSON.stringify({ path: 'project/x/z', value: 'v', tags: ['a\u0000'] }) }));
  console.log(capturedLogLines.filter((l) => l.includes('"level":50')).map((l) => l.slice(0, 300)));
} finally { await d.close(); }
}
