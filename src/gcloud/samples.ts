// The stored per-minute health samples: written by every health read (gcloud_vm_health and
// the auto-scaler), read back as history for charts without a call to Google.
import type { Db } from '../core/db.js';
import { deleteOlderThan } from '../core/prune.js';
import type { Sample } from './health.js';

/** Stores samples (a minute already stored is kept) and drops those past the retention; answers how many it was given. */
export async function storeSamples(db: Db, samples: Sample[], prune: Date): Promise<number> {
  for (let i = 0; i < samples.length; i += 5000) {
    const chunk = samples.slice(i, i + 5000);
    await db.query(
      `INSERT INTO gcloud_health_samples (project_id, zone, instance_name, metric, at, value)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::float8[])
       ON CONFLICT DO NOTHING`,
      [chunk.map((s) => s.project), chunk.map((s) => s.zone), chunk.map((s) => s.instanceName), chunk.map((s) => s.metric), chunk.map((s) => s.at.toISOString()), chunk.map((s) => s.value)],
    );
  }
  await deleteOlderThan(db, 'gcloud_health_samples', prune);
  return samples.length;
}

/** One time bucket of a VM's history: per metric the average and max percent, null without data. */
export interface HistoryPoint {
  /** Start of the bucket. */
  at: Date;
  cpuAverage: number | null;
  cpuMax: number | null;
  memoryAverage: number | null;
  memoryMax: number | null;
  diskAverage: number | null;
  diskMax: number | null;
  /** Most samples of one metric in the bucket (a sample a minute when data is complete). */
  samples: number;
}

export interface HistoryQuery {
  projectId: string;
  zone: string;
  instanceName: string;
  from: Date;
  to: Date;
  stepMinutes: number;
}

/**
 * The samples in (from, to], per bucket of `stepMinutes` counted back from `to` as Monitoring
 * aligns (the newest sample is in the last bucket; `points` buckets cover the window), oldest
 * first, each labelled with its start: one row per time, all metrics side by side (percent, two
 * decimals), as a chart reads them. Buckets without a sample are left out, so a gap in the data shows as a gap.
 */
export async function readHistory(db: Db, q: HistoryQuery): Promise<HistoryPoint[]> {
  const { rows } = await db.query<{ back: number } & Omit<HistoryPoint, 'at'>>(
    `SELECT back,
            round(avg(value) FILTER (WHERE metric = 'cpu')::numeric, 2)::float8 AS "cpuAverage", round(max(value) FILTER (WHERE metric = 'cpu')::numeric, 2)::float8 AS "cpuMax",
            round(avg(value) FILTER (WHERE metric = 'memory')::numeric, 2)::float8 AS "memoryAverage", round(max(value) FILTER (WHERE metric = 'memory')::numeric, 2)::float8 AS "memoryMax",
            round(avg(value) FILTER (WHERE metric = 'disk')::numeric, 2)::float8 AS "diskAverage", round(max(value) FILTER (WHERE metric = 'disk')::numeric, 2)::float8 AS "diskMax",
            greatest(count(*) FILTER (WHERE metric = 'cpu'), count(*) FILTER (WHERE metric = 'memory'), count(*) FILTER (WHERE metric = 'disk'))::int AS samples
       FROM (SELECT metric, value, floor(extract(epoch FROM ($5::timestamptz - at)) / ($6::int * 60))::int AS back
               FROM gcloud_health_samples
              WHERE project_id = $1 AND zone = $2 AND instance_name = $3 AND at > $4 AND at <= $5) AS s
      GROUP BY back
      ORDER BY back DESC`,
    [q.projectId, q.zone, q.instanceName, q.from, q.to, q.stepMinutes],
  );
  const stepMs = q.stepMinutes * 60_000;
  return rows.map(({ back, ...values }) => Object.assign({ at: new Date(q.to.getTime() - (back + 1) * stepMs) }, values));
}
