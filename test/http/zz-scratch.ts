import { Client, StreamableHTTPClientTransport, SdkHttpError } from '@modelcontextprotocol/client';
import { startTestDaemon } from '../helpers/daemon.js';

const d = await startTestDaemon('pglite');
const H = { Authorization: `Bearer ${d.adminToken}`, 'content-type': 'application/json' };
try {
  let t = Date.now();
  const big = 'x'.repeat(10 * 1024 * 1024);
  const res = await fetch(`${d.url}/api/v1/secret`, { method: 'PUT', headers: H, body: JSON.stringify({ path: 'project/x/big', value: big }) });
  console.log('rest big', res.status, (await res.text()).slice(0, 300), Date.now() - t);
  const client = new Client({ name: 't', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${d.url}/mcp/meta`), { requestInit: { headers: { Authorization: `Bearer ${d.adminToken}` } } }));
  t = Date.now();
  console.log('mcp big', JSON.stringify(await client.callTool({ name: 'set_secret', arguments: { path: 'project/x/big', value: big } })).slice(0, 300), Date.now() - t);
  console.log('mcp args string', JSON.stringify(await client.callTool({ name: 'set_secret', arguments: 'LEAK' as unknown as Record<string, unknown> }).catch((e: Error) => e.message)));
  await client.close();
  const odin = await d.projectToken('odin');
  for (const p of ['consilio', 'meta']) {
    const c = new Client({ name: 't', version: '1' });
    try { await c.connect(new StreamableHTTPClientTransport(new URL(`${d.url}/mcp/${p}`), { requestInit: { headers: { Authorization: `Bearer ${odin}` } } })); console.log('connected?!'); }
    catch (e) { console.log(p, e instanceof SdkHttpError, e instanceof SdkHttpError ? e.status : '', (e as SdkHttpError).data); }
  }
  console.log((await d.services.audit.list({ limit: 10 })).map((r) => [r.action, r.target, r.outcome, JSON.stringify(r.detail)]));
} finally { await d.close(); }
