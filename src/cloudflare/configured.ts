// What the Cloudflare domain needs before it can act, said all at once: an agent that is told
// one missing piece per call (token, then tunnel id, then zones) needs three round trips and
// a person in between; one `not_configured` answer lists every piece with its command.
import { SupervisorError } from '../core/errors.js';

export interface Missing {
  what: 'api_token' | 'tunnel_id' | 'account_id' | 'zones' | 'tunnel_mode' | 'config_file';
  /** The exact thing to run or set. */
  fix: string;
  /** Whether the daemon has to restart before the fix takes effect (settings are read at start). */
  restart: boolean;
}

const LABEL: Record<Missing['what'], string> = {
  api_token: 'API token',
  tunnel_id: 'tunnel id',
  account_id: 'account id',
  zones: 'zones',
  tunnel_mode: 'tunnel mode',
  config_file: "cloudflared's config file",
};

export function notConfigured(missing: Missing[]): SupervisorError {
  const parts = missing.map((m, i) => `${missing.length > 1 ? `(${i + 1}) ` : ''}${LABEL[m.what]}: ${m.fix} (${m.restart ? 'then restart the daemon' : 'no restart needed'})`);
  const restartNeeded = missing.some((m) => m.restart);
  const head = missing.length > 1 ? `Cloudflare is not configured, ${missing.length} things are missing` : 'Cloudflare is not configured';
  return new SupervisorError('not_configured', `${head}: ${parts.join('; ')}`, { missing, restartNeeded });
}
