/**
 * Every operation gives the same answer through REST, MCP and the CLI.
 *
 * The three interfaces are generated from one catalog, so they should not be
 * able to drift apart; this test holds them to it. Each operation has a case
 * below (the suite fails for an operation without one, so a new operation
 * forces a new case) that calls it through
 *   (a) REST: `fetch` on /api/v1/…,
 *   (b) MCP: a raw JSON-RPC `tools/call` POSTed to /mcp/meta (Streamable HTTP),
 *   (c) the CLI: `supervisor <group> <verb> --input '<json>' --json`,
 * all with the same admin token against one daemon, and compares the answers.
 *
 * Where an operation writes, each interface works in its own folder
 * (…/via-rest/…, …/via-mcp/…, …/via-cli/…) prepared the same way, so the three
 * calls see equivalent state; that folder name is the one difference every
 * comparison removes. The test daemon runs on a frozen clock, so timestamps
 * (createdAt, updatedAt, lastReadAt, …) are equal and are compared, not stripped.
 * Anything else that legitimately differs is normalised in its own case, with
 * the reason next to it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminPrincipal } from '../../src/core/principal.js';
import { catalog } from '../../src/catalog/index.js';
import type { Operation } from '../../src/catalog/operation.js';
import { decodeCursor } from '../../src/core/page.js';
import { desiredRecord } from '../../src/cloudflare/records.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { startFakeCloudflare, type FakeCloudflare } from '../fakes/cloudflare/index.js';
import { assertCliBuilt, cliEnv, daemonBackend, describeResult, parseJson, runCli } from '../cli/run-cli.js';

type Json = Record<string, unknown>;
type Iface = 'rest' | 'mcp' | 'cli';
const IFACES: Iface[] = ['rest', 'mcp', 'cli'];

type Answer = { ok: true; output: Json } | { ok: false; code: string; message: string };

interface ParityCase {
  /** Runs once before the three calls: state that all three read. */
  setup?(): Promise<void>;
  /** Runs just before each interface's call: that interface's own state. Returns the call's input. */
  input(via: Iface): Promise<Json> | Json;
  /** CLI words replacing `<group> <verb> --input <json>`, for inputs the CLI takes differently (files). */
  cliArgs?(input: Json, via: Iface): Promise<string[]>;
  /** Replaces what legitimately differs between calls (checking its shape first). */
  normalise?(output: Json): Json;
  /** Checks across the raw answers, in call order (rest, mcp, cli). */
  check?(outputs: Json[]): void;
}

let daemon: TestDaemon;
let cliEnvironment: Record<string, string>;
let scratch: string;
let cloudflare: FakeCloudflare;
const CF_TOKEN = 'parity-cloudflare-token-0000000000000000';
const TUNNEL_ID = '6ff42ae2-765d-4adf-8112-31c55c1551ef';

const setupActor = adminPrincipal('parity-setup');
/** Each interface's own folder for an operation that writes. */
const folder = (op: string, via: Iface) => `project/parity/${op}/via-${via}`;
/** Stores a secret directly through the services (setup, not under test). */
const put = (path: string, value: string, extra: { expiresAt?: Date; rotationIntervalDays?: number } = {}) =>
  daemon.services.secrets.set(setupActor, { path, value, ...extra });

/** The folder names are the one intended difference between the three calls. */
function withoutInterfaceFolder(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/via-(rest|mcp|cli)/g, 'via-*');
  if (Array.isArray(value)) return value.map(withoutInterfaceFolder);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutInterfaceFolder(v)]));
  return value;
}

/** The ports cases' project; on its own hosts, so nothing listens on its allocations. */
const portsProject = async () => {
  await daemon.services.ports.addProject('parity-setup', { name: 'parity-ports', range: { start: 29100, end: 29199 } });
};
/** A default block's shape, checked, for answers that differ only in where the block is. */
function blockShape(o: Json): string {
  assert.match(String(o.range), /^\d+-\d+$/);
  assert.equal(o.size, 100);
  return '<a block of 100>';
}

const CASES: Record<string, ParityCase> = {
  get_secret: {
    async input(via) {
      const path = `${folder('get_secret', via)}/api_key`;
      await put(path, 'first');
      await put(path, 'second');
      return { path, version: 1 };
    },
  },
  set_secret: {
    input: (via) => ({
      path: `${folder('set_secret', via)}/new_key`,
      value: 'written through every interface',
      ifVersion: 0,
      description: 'made by the parity test',
      tags: ['parity', 'ci'],
      expiresAt: '2027-06-30T00:00:00.000Z',
      rotationIntervalDays: 90,
    }),
  },
  list_secrets: {
    async input(via) {
      const dir = folder('list_secrets', via);
      for (const key of ['a', 'b', 'sub/c']) await put(`${dir}/${key}`, `value-${key}`);
      return { prefix: `${dir}/`, recursive: false, limit: 1 };
    },
    // The cursor is the last path, base64url-encoded, and so holds the interface's folder: compare it decoded.
    normalise: (o) => ({ ...o, nextCursor: typeof o.nextCursor === 'string' ? decodeCursor(o.nextCursor) : o.nextCursor }),
  },
  delete_secret: {
    async input(via) {
      const path = `${folder('delete_secret', via)}/doomed`;
      await put(path, 'x');
      return { path, ifVersion: 1 };
    },
  },
  restore_secret: {
    async input(via) {
      const path = `${folder('restore_secret', via)}/back`;
      await put(path, 'x');
      await daemon.services.secrets.delete(setupActor, { path });
      return { path };
    },
  },
  secret_history: {
    async input(via) {
      const path = `${folder('secret_history', via)}/versions`;
      for (const v of ['one', 'two', 'three']) await put(path, v);
      return { path, limit: 2 };
    },
    // nextCursor encodes a version number, equal for all three: no normalisation needed.
  },
  rollback_secret: {
    async input(via) {
      const path = `${folder('rollback_secret', via)}/rolled`;
      await put(path, 'good');
      await put(path, 'bad');
      return { path, toVersion: 1, ifVersion: 2 };
    },
  },
  secrets_due: {
    async setup() {
      await put('project/parity/secrets_due/expired', 'x', { expiresAt: new Date('2026-01-01T00:00:00Z') });
      await put('project/parity/secrets_due/rotate_weekly', 'y', { rotationIntervalDays: 7 });
    },
    input: () => ({ withinDays: 14 }),
  },
  import_secrets: {
    async input(via) {
      const prefix = `${folder('import_secrets', via)}/`;
      await put(`${prefix}api_key`, 'same');
      await put(`${prefix}db_url`, 'old');
      return { prefix, content: 'API_KEY=same\nDB_URL="postgres://new"\nNEW_ONE=fresh # comment\n', overwrite: true };
    },
    // The CLI reads the .env text from a file named on the command line.
    async cliArgs(input, via) {
      const file = join(scratch, `import-${via}.env`);
      await writeFile(file, String(input.content));
      return ['secrets', 'import', file, '--input', JSON.stringify({ prefix: input.prefix, overwrite: input.overwrite })];
    },
  },
  export_secrets: {
    async input(via) {
      const dir = folder('export_secrets', via);
      await put(`${dir}/api_key`, 'k-123');
      await put(`${dir}/db/url`, 'postgres://u:p w@h/db');
      return { prefix: `${dir}/`, limit: 10 };
    },
  },
  grant_secret_access: {
    // No trailing slash: every interface answers with the normalised folder.
    input: (via) => ({ project: 'parity-grantee', prefix: `service/via-${via}`, access: 'write' }),
  },
  revoke_secret_access: {
    async input(via) {
      const grant = { project: 'parity-grantee', prefix: `service/revoke/via-${via}/` };
      await daemon.services.secrets.grant('parity-setup', { ...grant, access: 'read' });
      return grant;
    },
  },
  list_secret_grants: {
    async setup() {
      await daemon.services.secrets.grant('parity-setup', { project: 'parity-lister', prefix: 'service/penpot/', access: 'read' });
      await daemon.services.secrets.grant('parity-setup', { project: 'parity-lister', prefix: 'service/smtp/', access: 'write' });
    },
    input: () => ({ project: 'parity-lister' }),
  },
  rotate_data_key: {
    input: () => ({}),
    // Each call starts the next key: the ids advance by one per call. Compare the relation, check the chain.
    normalise(o) {
      assert.equal(typeof o.activeKeyId, 'number');
      assert.equal(o.activeKeyId, Number(o.retiredKeyId) + 1);
      return { activeKeyId: '<retiredKeyId + 1>', retiredKeyId: '<previous active key>' };
    },
    check([rest, mcp, cli]) {
      assert.equal(mcp!.retiredKeyId, rest!.activeKeyId, 'MCP retired the key REST started');
      assert.equal(cli!.retiredKeyId, mcp!.activeKeyId, 'the CLI retired the key MCP started');
    },
  },
  rotate_master_key: {
    input: () => ({}),
    // Each call generates a new master key, so its fingerprint differs; rewrapped (every data key) does not.
    normalise(o) {
      assert.match(String(o.masterKeyId), /^[0-9a-f]{16}$/);
      return { ...o, masterKeyId: '<fingerprint>' };
    },
    check(outputs) {
      assert.equal(new Set(outputs.map((o) => o.masterKeyId)).size, 3, 'three rotations, three master keys');
    },
  },
  list_keys: {
    input: () => ({}),
  },
  create_token: {
    input: () => ({ name: 'parity-made', project: 'parity' }),
    // A new token each call: random id and secret. Check the format, compare the rest.
    normalise(o) {
      assert.match(String(o.id), /^[a-f0-9]{12}$/);
      assert.ok(String(o.token).startsWith(`svt_${String(o.id)}_`), 'the token embeds its id');
      return { ...o, id: '<id>', token: '<token>' };
    },
  },
  list_tokens: {
    input: () => ({ includeRevoked: true, limit: 200 }),
  },
  revoke_token: {
    async input() {
      const { id } = await daemon.services.tokens.create({ name: 'parity-revoked', project: 'parity' });
      return { id };
    },
    // Each interface revokes its own token, so the id differs.
    normalise(o) {
      assert.match(String(o.id), /^[a-f0-9]{12}$/);
      return { ...o, id: '<id>' };
    },
  },
  whoami: {
    input: () => ({}),
  },
  list_audit: {
    async setup() {
      await put('project/parity/list_audit/target', 'audited');
      await daemon.services.secrets.get(setupActor, { path: 'project/parity/list_audit/target' });
    },
    input: () => ({ target: 'project/parity/list_audit/target' }),
  },
  // Ports. Allocations go to one project on a host per interface (ports are numbered per
  // host, so the three answers carry the same port numbers); project operations use a
  // project per interface.
  project_add: {
    input: (via) => ({ project: `pa-via-${via}`, description: 'made by the parity test' }),
    // Each call gets the next free default block: compare the size, check the blocks differ.
    normalise: (o) => ({ ...o, range: blockShape(o), start: '<start>', end: '<end>' }),
    check: (outputs) => assert.equal(new Set(outputs.map((o) => o.range)).size, 3, 'three projects, three blocks'),
  },
  project_list: {
    setup: portsProject,
    input: () => ({ limit: 200 }),
  },
  project_remove: {
    async input(via) {
      await daemon.services.ports.addProject('parity-setup', { name: `pr-via-${via}` });
      return { project: `pr-via-${via}` };
    },
  },
  project_resize: {
    async input(via) {
      const start = 30000 + IFACES.indexOf(via) * 1000;
      await daemon.services.ports.addProject('parity-setup', { name: `pz-via-${via}`, range: { start, end: start + 99 } });
      return { project: `pz-via-${via}`, size: 250 };
    },
    // Each project starts elsewhere; the resize keeps its start and gives it 250 ports.
    normalise: (o) => ({ ...o, range: `${Number(o.end) - Number(o.start) + 1} ports`, start: '<start>', end: '<end>' }),
  },
  get_port: {
    setup: portsProject,
    input: (via) => ({ project: 'parity-ports', service: 'api', host: `via-${via}` }),
  },
  allocate_port: {
    setup: portsProject,
    input: (via) => ({ project: 'parity-ports', service: 'web', host: `via-${via}`, protocol: 'tcp', hostname: `web.via-${via}.example.com`, description: 'site', command: 'node web.js' }),
  },
  list_ports: {
    async input(via) {
      await portsProject();
      for (const service of ['one', 'two']) await daemon.services.ports.allocate(setupActor, { project: 'parity-ports', service, host: `list-via-${via}` });
      return { project: 'parity-ports', host: `list-via-${via}`, limit: 1 };
    },
    // The cursor holds the host, so holds the interface's name: compare it decoded.
    normalise: (o) => ({ ...o, nextCursor: typeof o.nextCursor === 'string' ? decodeCursor(o.nextCursor) : o.nextCursor }),
  },
  release_port: {
    async input(via) {
      await portsProject();
      await daemon.services.ports.allocate(setupActor, { project: 'parity-ports', service: 'temp', host: `via-${via}` });
      return { project: 'parity-ports', service: 'temp', host: `via-${via}` };
    },
  },
  port_summary: {
    setup: portsProject,
    input: () => ({ project: 'parity-ports' }),
  },
  check_port: {
    setup: portsProject,
    input: () => ({ port: 29199, host: 'via-rest' }),
  },
  audit_ports: {
    setup: portsProject,
    input: () => ({ project: 'parity-ports' }),
  },
  import_ports: {
    setup: portsProject,
    input: () => ({ project: 'parity-ports' }),
  },
  // Cloudflare: the daemon talks to a fake API; each interface works on its own hostnames.
  cloudflare_verify: { input: () => ({}) },
  create_cname: {
    input: (via) => ({ hostname: `c.via-${via}.example.com`, target: 'origin.example.net' }),
    normalise: withoutRecordIds,
  },
  create_a_record: {
    input: (via) => ({ hostname: `a.via-${via}.example.com`, address: '192.0.2.10', proxied: false, ttl: 300 }),
    normalise: withoutRecordIds,
  },
  delete_dns_record: {
    async input(via) {
      await cloudflareRecord(`d.via-${via}.example.com`);
      return { hostname: `d.via-${via}.example.com` };
    },
    normalise: withoutRecordIds,
  },
  list_dns_records: {
    async input(via) {
      await cloudflareRecord(`l.via-${via}.example.com`);
      return { hostname: `l.via-${via}.example.com` };
    },
    normalise: withoutRecordIds,
  },
  add_tunnel_route: {
    // Routes of allocations made by earlier cases are synced first, so each call adds only its own.
    setup: syncTunnel,
    input: (via) => ({ hostname: `r.via-${via}.example.com`, port: 29150 }),
    normalise: withoutRecordIdsAndUnchanged,
  },
  remove_tunnel_route: {
    async input(via) {
      await daemon.services.cloudflare.addRoute('parity-setup', { hostname: `x.via-${via}.example.com`, service: 'http://localhost:29151', dns: true, force: false, dryRun: false });
      return { hostname: `x.via-${via}.example.com` };
    },
    normalise: withoutRecordIdsAndUnchanged,
  },
  list_tunnel_routes: { input: () => ({ limit: 200 }) },
  sync_tunnel: { input: () => ({ dryRun: true }) },
  cloudflare_gc: { input: () => ({}) },
  import_cloudflare: { input: () => ({ dryRun: true }) },
  list_cloudflare_changes: { input: () => ({ limit: 3 }) },
};

async function syncTunnel(): Promise<void> {
  await daemon.services.cloudflare.sync('parity-setup', { dryRun: false, force: false, dns: true });
}

/** A record the supervisor owns, made through the services (setup, not under test). */
async function cloudflareRecord(hostname: string): Promise<void> {
  await daemon.services.cloudflare.changeRecords('parity-setup', 'setup', {
    upserts: [desiredRecord({ type: 'A', name: hostname, content: '192.0.2.20', proxied: true, ttl: 1 })],
    deletes: [],
    force: false,
    dryRun: false,
  });
}

/** Cloudflare makes a new random id for each interface's record; ids are compared by presence. */
function withoutRecordIds(value: unknown): Json {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === 'id' ? (typeof x === 'string' && x.length > 0 ? '<id>' : x) : strip(x)]));
    return v;
  };
  return strip(value) as Json;
}

/** A tunnel call syncs every route: the earlier interfaces' CNAMEs count as unchanged. */
function withoutRecordIdsAndUnchanged(o: Json): Json {
  const dns = o.dns as Json;
  assert.equal(typeof (dns.plan as Json).unchanged, 'number');
  return withoutRecordIds({ ...o, dns: { ...dns, plan: { ...(dns.plan as Json), unchanged: '<n>' } } });
}

// ---------------------------------------------------------------------------
// The three ways in.

const bearer = () => ({ authorization: `Bearer ${daemon.adminToken}` });

/** REST: GET/DELETE carry the input in the query string, PUT/POST as a JSON body. */
async function viaRest(op: Operation, input: Json): Promise<Answer> {
  const inQuery = op.rest.method === 'GET' || op.rest.method === 'DELETE';
  const url = new URL(`/api/v1${op.rest.path}`, daemon.url);
  if (inQuery) {
    for (const [name, value] of Object.entries(input)) {
      for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(name, typeof item === 'object' ? JSON.stringify(item) : String(item));
    }
  }
  const response = await fetch(url, {
    method: op.rest.method,
    headers: inQuery ? bearer() : { ...bearer(), 'content-type': 'application/json' },
    body: inQuery ? undefined : JSON.stringify(input),
  });
  const body = (await response.json()) as Json;
  if (response.ok) return { ok: true, output: body };
  const error = body.error as { code: string; message: string };
  return { ok: false, code: error.code, message: error.message };
}

interface ToolResult {
  content: Array<{ type: string; text: string }>;
  structuredContent?: Json;
  isError?: boolean;
}

let rpcId = 0;
/** MCP: one stateless JSON-RPC request to the meta server; the answer may come as JSON or as one SSE event. */
async function viaMcp(op: Operation, input: Json): Promise<Answer> {
  const response = await fetch(new URL('/mcp/meta', daemon.url), {
    method: 'POST',
    headers: { ...bearer(), 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method: 'tools/call', params: { name: op.name, arguments: input } }),
  });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  const payload = response.headers.get('content-type')?.startsWith('text/event-stream')
    ? text.split('\n').find((line) => line.startsWith('data: '))?.slice('data: '.length)
    : text;
  assert.ok(payload, `no JSON-RPC message in ${text}`);
  const message = JSON.parse(payload) as { id: number; result?: ToolResult; error?: unknown };
  assert.equal(message.error, undefined, JSON.stringify(message.error));
  const result = message.result!;
  const first = result.content[0]!.text;
  if (result.isError) {
    const [, code = '', rest = ''] = /^([a-z_]+): (.*)$/s.exec(first) ?? [];
    return { ok: false, code, message: rest };
  }
  assert.ok(result.structuredContent, 'a successful call carries structuredContent');
  assert.deepEqual(JSON.parse(first), result.structuredContent, 'the text content is the same answer');
  return { ok: true, output: result.structuredContent };
}

/** CLI: `supervisor … --json`; an operation error is exit 1 with `supervisor: <code>: <message>` on stderr. */
async function viaCli(op: Operation, input: Json, args?: string[]): Promise<Answer> {
  const words = args ?? [...op.cli.command, '--input', JSON.stringify(input)];
  const r = await runCli([...words, '--json'], { env: cliEnvironment });
  if (r.code === 0) return { ok: true, output: parseJson(r) };
  assert.equal(r.code, 1, describeResult(r));
  assert.equal(r.stdout, '');
  const [, code = '', message = ''] = /^supervisor: ([a-z_]+): (.*)\n$/s.exec(r.stderr) ?? [];
  return { ok: false, code, message };
}

function call(iface: Iface, op: Operation, input: Json, cliArgs?: string[]): Promise<Answer> {
  if (iface === 'rest') return viaRest(op, input);
  if (iface === 'mcp') return viaMcp(op, input);
  return viaCli(op, input, cliArgs);
}

// ---------------------------------------------------------------------------

describe('REST, MCP and CLI give the same answers', () => {
  before(async () => {
    assertCliBuilt();
    scratch = await mkdtemp(join(tmpdir(), 'supervisor-parity-'));
    cloudflare = await startFakeCloudflare();
    cloudflare.addToken(CF_TOKEN, ['zone:read', 'dns:edit', 'tunnel:edit']);
    cloudflare.addZone('example.com');
    const cloudflared = join(scratch, 'cloudflared.yml');
    await writeFile(cloudflared, `tunnel: ${TUNNEL_ID}\ningress:\n  - service: http_status:404\n`);
    daemon = await startTestDaemon(await daemonBackend(), {
      SUPERVISOR_CLOUDFLARE_API_URL: cloudflare.url,
      SUPERVISOR_CLOUDFLARED_CONFIG: cloudflared,
      SUPERVISOR_CLOUDFLARED_RESTART: 'true',
    });
    await put('meta/cloudflare/api_token', CF_TOKEN);
    // The CLI uses the same admin token as the other two (not the daemon's local
    // credential), so answers that name the caller (whoami, createdBy, audit actors) agree too.
    cliEnvironment = cliEnv(daemon.home, { SUPERVISOR_URL: daemon.url, SUPERVISOR_TOKEN: daemon.adminToken });
  });
  after(async () => {
    await daemon?.close();
    await cloudflare?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test('every case names an operation that exists', () => {
    const names = new Set(catalog.all().map((op) => op.name));
    assert.deepEqual(Object.keys(CASES).filter((name) => !names.has(name)), []);
  });

  for (const op of catalog.all()) {
    test(op.name, async () => {
      const parity = CASES[op.name];
      assert.ok(parity, `no parity case for operation ${op.name}: add one to CASES in test/parity/parity.test.ts`);
      await parity.setup?.();
      const outputs: Json[] = [];
      for (const via of IFACES) {
        const input = await parity.input(via);
        const answer = await call(via, op, input, await parity.cliArgs?.(input, via));
        assert.ok(answer.ok, `${op.name} via ${via} failed: ${answer.ok ? '' : `${answer.code}: ${answer.message}`}`);
        outputs.push(answer.output);
      }
      parity.check?.(outputs);
      const [rest, mcp, cli] = outputs.map((o) => withoutInterfaceFolder(parity.normalise ? parity.normalise(o) : o));
      assert.deepEqual(mcp, rest, `${op.name}: MCP and REST differ`);
      assert.deepEqual(cli, rest, `${op.name}: CLI and REST differ`);
    });
  }

  test('errors are the same too: code and message', async () => {
    const failing: Array<{ op: string; input: Json; code: string }> = [
      { op: 'get_secret', input: { path: 'project/parity/errors/missing' }, code: 'not_found' },
      { op: 'set_secret', input: { path: 'project/parity//x', value: 'v' }, code: 'invalid_input' },
      { op: 'set_secret', input: { path: 'project/parity/errors/empty', value: '' }, code: 'invalid_input' },
      { op: 'list_secrets', input: { prefix: 'project/parity/', limit: 0 }, code: 'invalid_input' },
      { op: 'revoke_token', input: { id: '000000000000' }, code: 'not_found' },
      { op: 'create_token', input: { name: 'both', project: 'parity', admin: true }, code: 'invalid_input' },
      { op: 'create_a_record', input: { hostname: 'bad.example.com', address: 'not-an-address' }, code: 'invalid_input' },
      { op: 'create_cname', input: { hostname: 'api.elsewhere.org', target: 'origin.example.net' }, code: 'not_found' },
    ];
    for (const f of failing) {
      const op = catalog.get(f.op)!;
      const answers = [];
      for (const via of IFACES) answers.push(await call(via, op, f.input));
      const [rest, mcp, cli] = answers;
      assert.deepEqual(rest, { ok: false, code: f.code, message: (rest as { message: string }).message }, `${f.op} via REST`);
      assert.deepEqual(mcp, rest, `${f.op}: MCP error differs from REST`);
      assert.deepEqual(cli, rest, `${f.op}: CLI error differs from REST`);
    }
  });
});
