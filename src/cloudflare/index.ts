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
    secrets: need<Pick<SecretsService, 'get' | 'changeMark'>>(),
    ports: need<Pick<PortService, 'routedAllocations'>>(),
  },
  create: ({ core, settings, needs }) => new CloudflareService({ settings, db: core.db, clock: core.clock, secrets: needs.secrets, ports: needs.ports, sleep: core.sleep }),
  operations: cloudflareOperations,
  portClaims: (svc) => ({ claimed: () => svc.tunnel.portClaims() }),
});
