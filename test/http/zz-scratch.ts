import { startTestDaemon } from '../helpers/daemon.js';
import { capturedLogLines } from '../helpers/services.js';

const d = await startTestDaemon('pglite');
const H = { Authorization: `Bearer ${d.adminToken}`, 'content-type': 'application/json' };
async function show(label: string, r: Promise<Response>) { const res = await r; console.log(label, res.status, res.headers.get('content-type'), (await res.text()).slice(0, 400)); }
try {
  await show('nojson', fetch(`${d.url}/api/v1/secret`, { method: 'PUT', headers: H, body: '{"path":"project/x/y","value": LEAK-CANARY-123}' }));
  await show('trunc', fetch(`${d.url}/api/v1/secret`, { method: 'PUT', headers: H, body: '{"path":"project/x/y","value":"LEAK-CANARY-123' }));
  await show('plain', fetch(`${d.url}/api/v1/secret`, { method: 'PUT', headers: { Authorization: H.Authorization, 'content-type': 'text/plain' }, body: 'LEAK' }));
  await show('nobody', fetch(`${d.url}/api/v1/secret`, { method: 'PUT', headers: { Authorization: H.Authorization } }));
  await show('nul', fetch(`${d.url}/api/v1/secret?path=project/x/a%00b`, { headers: H }));
  await show('missing', fetch(`${d.url}/api/v1/secret`, { headers: H }));
  await show('unknown', fetch(`${d.url}/api/v1/nope`, { headers: H }));
  await show('unknownnoauth', fetch(`${d.url}/api/v1/nope`));
  await show('version str', fetch(`${d.url}/api/v1/secret?path=project/x/y&version=abc`, { headers: H }));
  await show('array', fetch(`${d.url}/api/v1/secret?path=project/x/y&path=project/x/z`, { headers: H }));
  const M = { ...H, accept: 'application/json, text/event-stream' };
  await show('mcp nojson', fetch(`${d.url}/mcp/meta`, { method: 'POST', headers: M, body: 'LEAK-CANARY-456 not json' }));
  await show('mcp badrpc', fetch(`${d.url}/mcp/meta`, { method: 'POST', headers: M, body: JSON.stringify({ jsonrpc: '2.0', id: { x: 1 }, method: 'tools/call', params: { name: 'set_secret', arguments: { path: 'project/x/y', value: 'LEAK-CANARY-789' } } }) }));
  await show('mcp badrpc2', fetch(`${d.url}/mcp/meta`, { method: 'POST', headers: M, body: JSON.stringify({ jsonrpc: '1.0', id: 1, method: 'tools/call', params: { name: 'set_secret', arguments: { path: 'project/x/y', value: 'LEAK-CANARY-790' } } }) }));
  await show('mcp call no init', fetch(`${d.url}/mcp/meta`, { method: 'POST', headers: M, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } }) }));
  await show('mcp GET', fetch(`${d.url}/mcp/meta`, { headers: M }));
  await show('mcp bad project', fetch(`${d.url}/mcp/Bad_Name`, { method: 'POST', headers: M, body: '{}' }));
  await show('healthz', fetch(`${d.url}/healthz`));
  await show('openapi', fetch(`${d.url}/api/v1/openapi.json`));
  await show('readyz', fetch(`${d.url}/readyz`));
  console.log(capturedLogLines.filter((l) => l.includes('LEAK')));
} finally { await d.close(); }
