import { defineDomain } from '../catalog/domain.js';
import { configOperations } from './operations.js';

/** Settings: the config file in the data dir, read and written by tool; live settings applied without a restart. */
export const settingsDomain = defineDomain({
  id: 'settings',
  title: 'Settings',
  description: "Settings: the data dir's config file (Cloudflare tunnel id and mode, cloudflared paths, log level, …); set_setting applies what it can at once and says what needs a restart. Secrets are never settings.",
  cliGroups: ['config'],
  defaultFor: ['meta'],
  create: ({ core }) => core.settings,
  operations: configOperations,
});
