import { defineDomain, need } from '../catalog/domain.js';
import type { PortService } from '../ports/index.js';
import type { SecretsService } from '../secrets/index.js';
import { cloudflareOperations } from './operations.js';
import { CloudflareService } from './service.js';
import { cloudflareSettings } from './settings.js';

export type { CloudflareService } from './service.js';

/** Cloudflare: DNS records and tunnel ingress kept in sync with the port allocations. */
export const cloudflareDomain = defineDomain({
  id: 'cloudflare',
  title: 'Cloudflare DNS and tunnel',
  description: 'Cloudflare: DNS records and tunnel routes. A port allocated with a hostname is routed by sync_tunnel; run it after changing hostnames. dryRun shows the plan first.',
  cliGroups: ['dns', 'tunnel'],
  defaultFor: ['meta'],
  settings: cloudflareSettings,
  migrations: new URL('./migrations/', import.meta.url),
  needs: {
    secrets: need<Pick<SecretsService, 'get' | 'changeMark' | 'exists'>>(),
    ports: need<Pick<PortService, 'routedAllocations'>>(),
  },
  create: async ({ core, settings, needs }) => {
    const svc = new CloudflareService({ settings, db: core.db, clock: core.clock, secrets: needs.secrets, ports: needs.ports, sleep: core.sleep });
    const unknown = await svc.tunnel.rulesWithoutService();
    if (unknown > 0) {
      const rules = unknown === 1 ? '1 tunnel rule synced by an older version does' : `${unknown} tunnel rules synced by an older version do`;
      core.log.warn({ rules: unknown }, `${rules} not say which port it routes to: run supervisor tunnel sync once, or a port released before the upgrade may be handed to a new service while the tunnel still routes to it`);
    }
    return svc;
  },
  operations: cloudflareOperations,
  portClaims: (svc) => ({ claimed: () => svc.tunnel.portClaims() }),
});
