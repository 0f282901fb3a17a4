// cloudflare_verify: is the token valid, and can it do what the supervisor needs?
//
// The token's own policies tell exactly, but reading them needs "API Tokens Read", which most
// tokens lack. Then each permission is probed with a call that cannot change anything: reads
// for read permissions, and for write permissions a deliberately invalid write, which
// Cloudflare refuses with 403 when the permission is missing and with 400 when it is there.
import { SupervisorError } from '../core/errors.js';
import { VERIFY_HINT, type CloudflareClient, type Zone } from './client.js';
import { locallyManaged } from './tunnel-target.js';

export type PermissionName = 'zoneRead' | 'dnsRead' | 'dnsEdit' | 'tunnelRead' | 'tunnelEdit';
export type PermissionState = 'ok' | 'missing' | 'unknown' | 'not_needed';

export interface VerifyReport {
  /** owner: a user's token, or an account API token (Manage Account → API Tokens). */
  token: { id: string; status: string; owner: 'user' | 'account' };
  zones: string[];
  /** How the permissions were found out. */
  method: 'token_policies' | 'probes';
  permissions: Record<PermissionName, PermissionState>;
  missing: string[];
  ok: boolean;
}

export interface VerifyContext {
  client: CloudflareClient;
  zones: () => Promise<Zone[]>;
  /** Remote mode: the tunnel whose configuration we will PUT; undefined in local mode. */
  remoteTunnel?: () => Promise<{ accountId: string; tunnelId: string }>;
  /** The accounts an account API token may belong to: the one configured, else the zones'. */
  accounts: () => Promise<string[]>;
}

/** Cloudflare's permission group names (older tokens say "Argo Tunnel"). */
const GROUPS: Record<PermissionName, string[]> = {
  zoneRead: ['Zone Read', 'Zone Write'],
  dnsRead: ['DNS Read', 'DNS Write'],
  dnsEdit: ['DNS Write'],
  tunnelRead: ['Cloudflare Tunnel Read', 'Cloudflare Tunnel Write', 'Argo Tunnel Read', 'Argo Tunnel Write'],
  tunnelEdit: ['Cloudflare Tunnel Write', 'Argo Tunnel Write'],
};

const LABELS: Record<PermissionName, string> = {
  zoneRead: 'Zone: Read',
  dnsRead: 'DNS: Read',
  dnsEdit: 'DNS: Edit',
  tunnelRead: 'Account: Cloudflare Tunnel: Read',
  tunnelEdit: 'Account: Cloudflare Tunnel: Edit',
};

interface TokenPolicies {
  policies?: Array<{ effect?: string; permission_groups?: Array<{ name?: string }> }>;
}

export async function verifyCloudflare(ctx: VerifyContext): Promise<VerifyReport> {
  const { account, ...token } = await whoseToken(ctx).catch((err: unknown) => {
    // The client's advice to run verify, given by verify itself, would send the caller in a circle.
    throw err instanceof SupervisorError ? new SupervisorError(err.code, err.message.replace(`; ${VERIFY_HINT}`, ''), err.details) : err;
  });
  const needTunnel = ctx.remoteTunnel !== undefined;
  let permissions = await fromPolicies(ctx.client, account === undefined ? '/user/tokens' : `/accounts/${encodeURIComponent(account)}/tokens`, token.id, needTunnel);
  const method = permissions ? 'token_policies' : 'probes';
  const listed = await attempt(() => ctx.zones());
  // A configured zone the token cannot see leaves the others it can see shown.
  const zones = listed.ok ? listed.value.map((z) => z.name) : Array.isArray(listed.details.visible) ? listed.details.visible.map(String) : [];
  permissions ??= await probe(ctx, listed.ok ? listed.value : [], needTunnel);
  if (listed.ok && listed.value.length === 0) permissions.zoneRead = 'missing';

  const missing: string[] = [];
  if (token.status !== 'active') missing.push(`an active token (this one is ${token.status})`);
  for (const [name, state] of Object.entries(permissions) as Array<[PermissionName, PermissionState]>) {
    if (state === 'missing') missing.push(LABELS[name]);
  }
  if (!listed.ok) missing.push(`access to the configured zones (${listed.error})`);
  if (ctx.remoteTunnel && permissions.tunnelRead !== 'missing') {
    const managed = await localManagement(ctx.client, await ctx.remoteTunnel());
    if (managed) missing.push(managed);
  }
  return { token, zones, method, permissions, missing, ok: missing.length === 0 };
}

/**
 * The token as the user's verify endpoint sees it; refused there (401), as an account API token
 * of one of the accounts it may belong to. Refused by every one, it is the user's endpoint's
 * refusal that is thrown: the token is wrong, expired or disabled.
 */
async function whoseToken(ctx: VerifyContext): Promise<VerifyReport['token'] & { account?: string }> {
  try {
    return { ...(await ctx.client.verifyToken()), owner: 'user' };
  } catch (err) {
    if (!refusal(err, 'bad_token')) throw err;
    let accounts: string[] = [];
    try {
      accounts = await ctx.accounts();
    } catch (listing) {
      // Refused as invalid there too, the token is; without Zone Read, the account stays unknown.
      if (!refusal(listing, 'forbidden')) throw refusal(listing, 'bad_token') ? err : listing;
    }
    for (const account of accounts) {
      try {
        return { ...(await ctx.client.verifyToken(account)), owner: 'account', account };
      } catch (other) {
        if (!refusal(other, 'bad_token') && !refusal(other, 'forbidden')) throw other;
      }
    }
    if (accounts.length > 0) throw err;
    throw new SupervisorError(err.code, `${err.message}; if it is an account API token, set cloudflareAccountId: it is verified at its account, which the zones did not tell`, err.details);
  }
}

/** bad_token: Cloudflare refused the token itself (not_configured, as the client says it); forbidden: a permission is missing. */
const refusal = (err: unknown, kind: 'bad_token' | 'forbidden'): err is SupervisorError =>
  err instanceof SupervisorError && (kind === 'forbidden' ? err.code === 'forbidden' : err.details.auth === 'bad_token');

async function fromPolicies(client: CloudflareClient, tokens: string, tokenId: string, needTunnel: boolean): Promise<Record<PermissionName, PermissionState> | undefined> {
  const read = await attempt(() => client.request<TokenPolicies>('GET', `${tokens}/${encodeURIComponent(tokenId)}`));
  if (!read.ok) return undefined;
  const granted = new Set((read.value.result.policies ?? []).filter((p) => p.effect === 'allow').flatMap((p) => (p.permission_groups ?? []).map((g) => g.name ?? '')));
  const has = (name: PermissionName): PermissionState => (GROUPS[name].some((g) => granted.has(g)) ? 'ok' : 'missing');
  return {
    zoneRead: has('zoneRead'),
    dnsRead: has('dnsRead'),
    dnsEdit: has('dnsEdit'),
    tunnelRead: needTunnel ? has('tunnelRead') : 'not_needed',
    tunnelEdit: needTunnel ? has('tunnelEdit') : 'not_needed',
  };
}

async function probe(ctx: VerifyContext, zones: Zone[], needTunnel: boolean): Promise<Record<PermissionName, PermissionState>> {
  const zone = zones[0];
  const permissions: Record<PermissionName, PermissionState> = {
    zoneRead: zones.length > 0 ? 'ok' : 'missing',
    dnsRead: 'unknown',
    dnsEdit: 'unknown',
    tunnelRead: needTunnel ? 'unknown' : 'not_needed',
    tunnelEdit: needTunnel ? 'unknown' : 'not_needed',
  };
  if (zone) {
    permissions.dnsRead = state(await attempt(() => ctx.client.request('GET', `/zones/${zone.id}/dns_records`, { query: { per_page: 1 } })));
    // "0.0.0.0.0" is no IPv4 address: with DNS edit the API refuses it as invalid, without it as forbidden.
    const write = await attempt(() => ctx.client.request('POST', `/zones/${zone.id}/dns_records`, { body: { type: 'A', name: `_supervisor-permission-probe.${zone.name}`, content: '0.0.0.0.0', ttl: 1 } }));
    permissions.dnsEdit = writeState(write);
  }
  if (needTunnel && ctx.remoteTunnel) {
    const { accountId, tunnelId } = await ctx.remoteTunnel();
    const path = `/accounts/${accountId}/cfd_tunnel/${tunnelId}/configurations`;
    permissions.tunnelRead = state(await attempt(() => ctx.client.request('GET', path)));
    // A last rule with a hostname is always rejected by ingress validation, so this PUT cannot apply.
    permissions.tunnelEdit = writeState(await attempt(() => ctx.client.request('PUT', path, { body: { config: { ingress: [{ hostname: 'permission-probe.invalid', service: 'http_status:404' }] } } })));
  }
  return permissions;
}

/**
 * A locally managed tunnel serves the config.yml on its host, so remote mode's sync refuses it:
 * verify says so before a sync does. Undefined when it is managed remotely, or cannot be read.
 */
async function localManagement(client: CloudflareClient, tunnel: { accountId: string; tunnelId: string }): Promise<string | undefined> {
  const read = await attempt(() => client.getTunnelConfig(tunnel.accountId, tunnel.tunnelId));
  if (!read.ok || read.value.source !== 'local') return undefined;
  return `a remotely managed tunnel: ${locallyManaged(tunnel.tunnelId)}`;
}

type Attempt<T> = { ok: true; value: T } | { ok: false; code: string; error: string; details: Record<string, unknown> };

async function attempt<T>(fn: () => Promise<T>): Promise<Attempt<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    if (!(err instanceof SupervisorError) || err.code === 'unavailable' || err.code === 'not_configured') throw err;
    return { ok: false, code: err.code, error: err.message, details: err.details };
  }
}

const state = (a: Attempt<unknown>): PermissionState => (a.ok ? 'ok' : a.code === 'forbidden' ? 'missing' : 'unknown');

function writeState(a: Attempt<unknown>): PermissionState {
  if (a.ok) return 'ok';
  if (a.code === 'forbidden') return 'missing';
  return a.code === 'invalid_input' ? 'ok' : 'unknown';
}
