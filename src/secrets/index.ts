import { defineDomain, need } from '../catalog/domain.js';
import type { PortService } from '../ports/index.js';
import type { ProjectLookup } from '../projects/index.js';
import { keyOperations } from './key-operations.js';
import { Keyring } from './keyring.js';
import { loadMasterKeys } from './master-key.js';
import { secretOperations } from './operations.js';
import { ReadTracker } from './read-tracker.js';
import { SecretsService } from './service.js';
import { secretSettings } from './settings.js';

export type { SecretsService } from './service.js';
export { readStamp, stillCurrent, type ReadStamp } from './freshness.js';

/** Secrets: encrypted values at hierarchical paths, versions, grants, .env in and out, and the keys behind them. */
export const secretsDomain = defineDomain({
  id: 'secrets',
  title: 'Secrets',
  description: 'Secrets: credentials at exact paths (project/<project>/<key>, meta/<service>/<key>); call get_secret with the path instead of searching files. Every read is audited.',
  cliGroups: ['keys'],
  defaultFor: ['project', 'meta'],
  settings: secretSettings,
  needs: { projects: need<ProjectLookup>(), ports: need<Pick<PortService, 'allocate' | 'projectAllocations'>>() },
  // A daemon without the master keys a shared keyring needs refuses to start: before it has upgraded the database.
  preflight: ({ db, home, settings }) => Keyring.checkMasterKeys(db, () => loadMasterKeys(home, settings.masterKey)),
  create: async ({ core, settings, needs }) => {
    const reads = new ReadTracker(core.db, core.log);
    core.audit.addBufferedSource(reads);
    const keyring = new Keyring(core.db, await loadMasterKeys(core.home, settings.masterKey), core.clock, settings.keyRotateAfter, core.audit);
    await keyring.init();
    const cacheLimits = { entries: settings.secretCacheEntries, bytes: settings.secretCacheBytes };
    return new SecretsService({ db: core.db, keyring, clock: core.clock, audit: core.audit, reads, maxValueBytes: settings.secretMaxBytes, ports: needs.ports, projects: needs.projects, cacheLimits, log: core.log });
  },
  operations: [...secretOperations, ...keyOperations],
  projectData: (svc) => svc.projectData(),
  start: (svc) => svc.startCache(),
  stop: (svc) => svc.stop(),
});
