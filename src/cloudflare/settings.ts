import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { httpUrlSetting } from '../core/setting-schemas.js';
import { defineSettings, type SettingValues } from '../core/settings.js';

/** Comma-separated names (or a YAML list) → lower-case names without a trailing dot. */
const nameList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((n) => n.trim().toLowerCase().replace(/\.$/, '')).filter((n) => n !== ''));

export const cloudflareSettings = defineSettings({
  cloudflareApiUrl: { env: 'SUPERVISOR_CLOUDFLARE_API_URL', schema: z.string().url(), whenSet: httpUrlSetting, default: 'https://api.cloudflare.com/client/v4', doc: 'Cloudflare API base URL (tests and the demo point it at a local fake). The token is the secret meta/cloudflare/api_token.' },
  cloudflareAccountId: { env: 'SUPERVISOR_CLOUDFLARE_ACCOUNT_ID', schema: z.string().regex(/^[A-Za-z0-9]{1,64}$/).optional(), default: undefined, doc: 'Cloudflare account id for remote-managed tunnels; unset means the account of the first zone.', live: true },
  cloudflareZones: { env: 'SUPERVISOR_CLOUDFLARE_ZONES', schema: nameList, default: '', doc: 'Comma-separated zone names to manage (e.g. example.com,dev.example.com); empty means every zone the token can read.', live: true },
  cloudflareTunnelId: { env: 'SUPERVISOR_CLOUDFLARE_TUNNEL_ID', schema: z.string().uuid().optional(), default: undefined, doc: "Tunnel UUID whose ingress sync_tunnel manages; unset in local mode means the `tunnel:` key of cloudflared's config file.", live: true },
  cloudflareTunnelMode: { env: 'SUPERVISOR_CLOUDFLARE_TUNNEL_MODE', schema: z.enum(['local', 'remote']), default: 'local', doc: "local: write cloudflared's config.yml and restart it; remote: PUT the tunnel configuration through the API.", live: true },
  cloudflaredConfig: { env: 'SUPERVISOR_CLOUDFLARED_CONFIG', schema: z.string().min(1), whenSet: z.string().refine(isAbsolute, 'must be an absolute path, such as /etc/cloudflared/config.yml'), default: '/etc/cloudflared/config.yml', doc: "cloudflared's config file (local mode).", live: true },
  cloudflaredRestart: { env: 'SUPERVISOR_CLOUDFLARED_RESTART', schema: z.string(), default: 'systemctl restart cloudflared', doc: 'Shell command run after config.yml changes (local mode); an empty value in the config file (or `true`) means no restart. On failure the previous file is restored.', live: true },
});

export type CloudflareSettings = SettingValues<typeof cloudflareSettings>;
