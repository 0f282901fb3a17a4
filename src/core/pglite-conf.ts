/**
 * PostgreSQL settings of the embedded database, sized for a small VM that also runs
 * the projects it serves. PGlite's defaults (shared_buffers 128 MB) cost ~300 MB of
 * RSS after a restart; with these it is ~190 MB. Durability settings (fsync,
 * synchronous_commit, full_page_writes) are left at PostgreSQL's defaults.
 */
export const PGLITE_CONF = [
  // The whole working set of this service is a few MB; PostgreSQL's own minimum is 128 kB.
  'shared_buffers=8MB',
  // Per sort or hash in one query: ours are small, and it bounds a runaway one.
  'work_mem=2MB',
  'maintenance_work_mem=16MB',
];
