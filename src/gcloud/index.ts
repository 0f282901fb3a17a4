import { defineDomain, need } from '../catalog/domain.js';
import type { ProjectService } from '../projects/index.js';
import type { SecretsService } from '../secrets/index.js';
import { gcloudOperations } from './operations.js';
import { GcloudService } from './service.js';
import { gcloudSettings } from './settings.js';

export type { GcloudService } from './service.js';
export type { Attachment } from './attachments.js';

/** GCloud: VMs in several accounts, their health, an auto-scaler and cost. @googleapis/compute loads on the first VM call. */
export const gcloudDomain = defineDomain({
  id: 'gcloud',
  title: 'Google Cloud VMs',
  description: 'GCloud: VMs of several accounts (project = account or its project id; zone e.g. us-central1-a), health, auto-scaling, cost. Changes wait until Google is done.',
  cliGroups: ['vm', 'autoscale'],
  defaultFor: ['meta'],
  settings: gcloudSettings,
  needs: {
    projects: need<Pick<ProjectService, 'get'>>(),
    secrets: need<Pick<SecretsService, 'get' | 'set' | 'delete' | 'changeMark'>>(),
  },
  migrations: new URL('./migrations/', import.meta.url),
  create: ({ core, settings, needs }) =>
    new GcloudService({ db: core.db, clock: core.clock, audit: core.audit, log: core.log, settings, secrets: needs.secrets, projects: needs.projects, sleep: core.sleep, longRunning: core.longRunning, presence: core.presence }),
  operations: gcloudOperations,
  start: (svc) => svc.startup(),
  projectData: (svc) => svc.projectData(),
});
