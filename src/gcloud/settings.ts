import { z } from 'zod';
import { httpUrlSetting } from '../core/setting-schemas.js';
import { defineSettings, type SettingValues } from '../core/settings.js';

const count = (max: number) => z.coerce.number().int().min(1).max(max);

export const gcloudSettings = defineSettings({
  gcloudComputeUrl: {
    env: 'SUPERVISOR_GCLOUD_COMPUTE_URL',
    schema: z.string().url(),
    whenSet: httpUrlSetting,
    default: 'https://compute.googleapis.com/',
    doc: 'Compute Engine root URL for @googleapis/compute (tests and the demo point it at a local fake). Keys are the secrets meta/gcloud/<account>; their token_uri is honoured.',
  },
  gcloudMonitoringUrl: { env: 'SUPERVISOR_GCLOUD_MONITORING_URL', schema: z.string().url(), whenSet: httpUrlSetting, default: 'https://monitoring.googleapis.com/v3', doc: 'Cloud Monitoring v3 base URL.' },
  gcloudOperationTimeoutS: { env: 'SUPERVISOR_GCLOUD_OPERATION_TIMEOUT_S', schema: count(3600), default: 600, doc: 'How long a VM change waits for its zone operation to be DONE, in seconds.' },
  gcloudPollMs: { env: 'SUPERVISOR_GCLOUD_POLL_MS', schema: count(60_000), default: 2000, doc: 'Pause between zone operation polls that came back unfinished, in ms.' },
  gcloudConcurrency: { env: 'SUPERVISOR_GCLOUD_CONCURRENCY', schema: count(64), default: 8, doc: 'Google API requests one call (health or cost of many VMs) makes at once.' },
  gcloudSampleRetentionDays: { env: 'SUPERVISOR_GCLOUD_SAMPLE_RETENTION_DAYS', schema: count(3650), default: 42, doc: 'Days the stored health samples are kept (Google keeps GCE metrics six weeks).' },
});

export type GcloudSettings = SettingValues<typeof gcloudSettings>;
