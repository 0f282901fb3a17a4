// Where a tunnel's ingress lives: cloudflared's local config.yml, or Cloudflare's API for a
// remote-managed tunnel. The tunnel service reads and writes through this one interface.
import type { CloudflareClient, IngressRule, TunnelConfig } from './client.js';
import { notConfigured } from './configured.js';
import { readLocalConfig, writeLocalIngress } from './local-config.js';

export interface IngressWrite {
  /** The file was rewritten or the configuration PUT. */
  written: boolean;
  restarted: boolean;
}

export interface IngressTarget {
  readonly mode: 'local' | 'remote';
  /** The file path or the tunnel's API path, for answers and the change log. */
  readonly where: string;
  read(): Promise<IngressRule[]>;
  /** Called only when the ingress differs from what read() returned. */
  write(ingress: IngressRule[]): Promise<IngressWrite>;
}

export class LocalConfigTarget implements IngressTarget {
  readonly mode = 'local';

  constructor(
    private readonly path: string,
    private readonly restartCommand: string,
  ) {}

  get where(): string {
    return this.path;
  }

  async read(): Promise<IngressRule[]> {
    return (await readLocalConfig(this.path)).ingress;
  }

  async write(ingress: IngressRule[]): Promise<IngressWrite> {
    const result = await writeLocalIngress({ path: this.path, restartCommand: this.restartCommand }, ingress);
    return { written: result.written, restarted: result.restarted };
  }
}

/** Why remote mode cannot manage a tunnel whose source is local, and what to do instead. */
export function locallyManaged(tunnelId: string): string {
  return (
    `tunnel ${tunnelId} is managed locally (the config.yml on its host), so a configuration written through the API is not served: ` +
    'use local mode on that host (`supervisor config set cloudflareTunnelMode local`, and cloudflaredConfig), or migrate the tunnel to remote management in the Zero Trust dashboard'
  );
}

/**
 * A remote-managed tunnel: the configuration document is replaced whole by one PUT, keeping
 * the keys we do not manage (originRequest, warp-routing). The API has no precondition, so
 * callers serialise read-then-write per tunnel.
 */
export class RemoteConfigTarget implements IngressTarget {
  readonly mode = 'remote';
  private last: TunnelConfig | null = null;

  constructor(
    private readonly client: CloudflareClient,
    private readonly accountId: string,
    private readonly tunnelId: string,
  ) {}

  get where(): string {
    return `accounts/${this.accountId}/cfd_tunnel/${this.tunnelId}/configurations`;
  }

  async read(): Promise<IngressRule[]> {
    const current = await this.client.getTunnelConfig(this.accountId, this.tunnelId);
    // A locally managed tunnel serves the config.yml on its host: a configuration PUT would be
    // accepted here and never served, and a sync would say the routes were applied.
    if (current.source === 'local') {
      throw notConfigured([
        {
          what: 'tunnel_mode',
          fix: locallyManaged(this.tunnelId),
          restart: false,
        },
      ]);
    }
    this.last = current.config;
    return this.last?.ingress ?? [];
  }

  async write(ingress: IngressRule[]): Promise<IngressWrite> {
    await this.client.putTunnelConfig(this.accountId, this.tunnelId, { ...(this.last ?? {}), ingress });
    return { written: true, restarted: false };
  }
}
