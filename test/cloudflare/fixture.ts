// Services wired to a fake Cloudflare: two zones where one is a suffix of the other, a tunnel,
// a cloudflared config.yml in a temp dir and a restart command that counts its runs.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminPrincipal } from '../../src/core/principal.js';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import type { ErrorCode, SupervisorError } from '../../src/core/errors.js';
import { assertRejects } from '../helpers/errors.js';
import type { Backend } from '../helpers/db.js';
import { openTestServices, type TestServices } from '../helpers/services.js';
import { startFakeCloudflare, type FakeCloudflare, type Permission, type TunnelSource, type Zone } from '../fakes/cloudflare/index.js';

export const TOKEN = 'cf-test-token-0123456789abcdefghijklmnopq';
export const ACCOUNT = 'acc0000000000000000000000000000a';
export const ALL_PERMISSIONS: Permission[] = ['zone:read', 'dns:edit', 'tunnel:edit'];

export interface CloudflareFixture {
  fake: FakeCloudflare;
  services: TestServices;
  tunnelId: string;
  zones: { root: Zone; dev: Zone };
  dir: string;
  configPath: string;
  /** How many times the restart command ran. */
  restarts(): Promise<number>;
  /** Retry waits asked for by the client. */
  waits: number[];
  invoke(op: string, input: Record<string, unknown>): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export const INITIAL_CONFIG = (tunnelId: string) => `# cloudflared config managed partly by hand
tunnel: ${tunnelId}
credentials-file: /etc/cloudflared/${tunnelId}.json
originRequest:
  connectTimeout: 30s
metrics: 127.0.0.1:20241
ingress:
  - hostname: legacy.example.com
    service: http://localhost:8080
  - service: http_status:404
`;

export async function openCloudflareFixture(
  backend: Backend,
  options: {
    mode?: 'local' | 'remote';
    permissions?: Permission[];
    env?: Record<string, string>;
    restartCommand?: string;
    config?: string | null;
    /** The value stored in meta/cloudflare/api_token: default TOKEN; null stores no secret at all. */
    storedToken?: string | null;
    /** How the tunnel is managed, as the API says (default cloudflare: remote-managed). */
    tunnelSource?: TunnelSource;
  } = {},
): Promise<CloudflareFixture> {
  const fake = await startFakeCloudflare();
  fake.addToken(TOKEN, options.permissions ?? ALL_PERMISSIONS);
  const zones = { root: fake.addZone('example.com', { accountId: ACCOUNT }), dev: fake.addZone('dev.example.com', { accountId: ACCOUNT }) };
  const tunnelId = randomUUID();
  fake.addTunnel(ACCOUNT, tunnelId, undefined, options.tunnelSource);
  const dir = await mkdtemp(join(tmpdir(), 'supervisor-cf-'));
  const configPath = join(dir, 'config.yml');
  if (options.config !== null) await writeFile(configPath, options.config ?? INITIAL_CONFIG(tunnelId));
  const counter = join(dir, 'restarts');
  const waits: number[] = [];
  const services = await openTestServices(
    backend,
    {
      SUPERVISOR_CLOUDFLARE_API_URL: fake.url,
      SUPERVISOR_CLOUDFLARE_TUNNEL_MODE: options.mode ?? 'local',
      SUPERVISOR_CLOUDFLARE_TUNNEL_ID: tunnelId,
      SUPERVISOR_CLOUDFLARED_CONFIG: configPath,
      SUPERVISOR_CLOUDFLARED_RESTART: options.restartCommand ?? `echo restarted >> '${counter}'`,
      ...options.env,
    },
    { sleep: async (ms) => void waits.push(ms) },
  );
  const admin = adminPrincipal('test-admin');
  const stored = options.storedToken === undefined ? TOKEN : options.storedToken;
  if (stored !== null) await services.secrets.set(admin, { path: 'meta/cloudflare/api_token', value: stored });
  const invoker = new LocalInvoker(services, admin, 'internal');
  return {
    fake,
    services,
    tunnelId,
    zones,
    dir,
    configPath,
    waits,
    restarts: async () => (await readFile(counter, 'utf8').catch(() => '')).split('\n').filter(Boolean).length,
    invoke: (op, input) => invoker.invoke(op, input),
    async close() {
      await services.close();
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Returns an awaiter for a refusal with this code (and message) that keeps every error it saw
 * in `seen`, so a file can scan them all for the API token at the end.
 */
export function refusalRecorder(seen: SupervisorError[]) {
  return async (call: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<SupervisorError> => {
    const err = await assertRejects(call, code, message);
    seen.push(err);
    return err;
  };
}
