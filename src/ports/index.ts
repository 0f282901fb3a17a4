import { defineDomain } from '../catalog/domain.js';
import { allClaims } from '../core/port-claims.js';
import { portOperations } from './operations.js';
import { PortService } from './service.js';
import { portSettings } from './settings.js';

export { LOCAL_HOST, type Allocation } from './model.js';
export type { PortService } from './service.js';
export { portVariableName, portVariables } from './env.js';
export { serviceName } from './schemas.js';
export { portRangeInput } from './range.js';

/** Ports: each project's range and the durable reservations of its services. */
export const portsDomain = defineDomain({
  id: 'ports',
  title: 'Ports',
  description: "Ports: each project owns a range; get_port gives a service its port (the same every time, reserved while the service is down). Never hard-code a port.",
  cliGroups: ['port'],
  defaultFor: ['project', 'meta'],
  settings: portSettings,
  create: ({ core, settings }) =>
    new PortService({
      db: core.db,
      clock: core.clock,
      audit: core.audit,
      policy: { defaultBlockStart: settings.portBlockStart, blockSize: settings.portBlockSize, denyList: settings.portDenyList },
      // Read at each use: set_setting portDenyList applies without a restart.
      denyList: () => settings.portDenyList,
      claims: () => allClaims(core.portClaims),
    }),
  operations: portOperations,
  projectData: (svc) => svc.projectData(),
});
