// Parity cases of the settings domain: see test/parity/harness.ts.
import type { ParityCases } from '../parity/harness.js';

export const settingsParity: ParityCases = () => ({
  list_settings: { input: () => ({}) },
  get_setting: { input: () => ({ name: 'SUPERVISOR_CLOUDFLARE_TUNNEL_MODE' }) },
  // The same value three times: the same file, the same answer.
  set_setting: { input: () => ({ name: 'cloudflareAccountId', value: 'parity0account' }) },
});
