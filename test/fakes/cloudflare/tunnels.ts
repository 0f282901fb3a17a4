// Remote-managed tunnel configuration: GET/PUT /accounts/{a}/cfd_tunnel/{t}/configurations.
import { fail, ok, timestamp } from './envelope.js';
import { validateTunnelConfig } from './ingress.js';
import { bodyObject, type Route } from './router.js';
import type { TunnelConfig } from './types.js';

/** local: cloudflared runs from the config.yml on its host; cloudflare: from this configuration. */
export type TunnelSource = 'local' | 'cloudflare';

interface TunnelState {
  config: TunnelConfig | null;
  version: number;
  createdAt: string;
  source: TunnelSource;
}

export class TunnelStore {
  private readonly tunnels = new Map<string, TunnelState>();

  add(accountId: string, tunnelId: string, config?: TunnelConfig, source: TunnelSource = 'cloudflare'): void {
    this.tunnels.set(key(accountId, tunnelId), {
      config: config ? validateTunnelConfig(config) : null,
      version: config ? 1 : 0,
      createdAt: timestamp(),
      source,
    });
  }

  get(accountId: string, tunnelId: string): TunnelState | undefined {
    return this.tunnels.get(key(accountId, tunnelId));
  }

  /**
   * PUT replaces the whole document and bumps the version; there is no precondition. What a
   * PUT does to a locally managed tunnel is not recorded: the fake leaves its source alone.
   */
  put(accountId: string, tunnelId: string, config: TunnelConfig): TunnelState {
    const previous = this.get(accountId, tunnelId);
    const next: TunnelState = { config, version: (previous?.version ?? 0) + 1, createdAt: timestamp(), source: previous?.source ?? 'cloudflare' };
    this.tunnels.set(key(accountId, tunnelId), next);
    return next;
  }
}

const key = (accountId: string, tunnelId: string) => `${accountId}/${tunnelId}`;

export function tunnelRoutes(tunnels: TunnelStore): Route[] {
  const pattern = '/accounts/:account/cfd_tunnel/:tunnel/configurations';
  // Recorded shape: created_at is the time of the current version; a tunnel never configured
  // answers version 0 and config null.
  const answer = (accountId: string, tunnelId: string, state: TunnelState) =>
    ok({ account_id: accountId, tunnel_id: tunnelId, version: state.version, config: state.config, source: state.source, created_at: state.createdAt });
  // 404 for unknown tunnels is relied on by the Terraform provider; code and wording are not recorded.
  const notFound = () => fail(404, 1003, 'Tunnel not found');
  return [
    {
      method: 'GET',
      pattern,
      access: 'tunnel',
      handle: ({ params }) => {
        const state = tunnels.get(params.account ?? '', params.tunnel ?? '');
        if (!state) throw notFound();
        return answer(params.account ?? '', params.tunnel ?? '', state);
      },
    },
    {
      method: 'PUT',
      pattern,
      access: 'tunnel',
      handle: ({ params, body }) => {
        const [account, tunnel] = [params.account ?? '', params.tunnel ?? ''];
        if (!tunnels.get(account, tunnel)) throw notFound();
        const config = validateTunnelConfig(bodyObject(body).config);
        return answer(account, tunnel, tunnels.put(account, tunnel, config));
      },
    },
  ];
}
