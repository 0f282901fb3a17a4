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
  // The write-ahead log kept between checkpoints (PostgreSQL's minimum: two 16 MB segments). There
  // is no checkpointer in single-user mode, so the daemon checkpoints (openPglite's maintenance);
  // at the defaults (up to 1 GB) the log grew by every write and stayed on disk after a restart.
  'min_wal_size=32MB',
  'max_wal_size=32MB',
];

/**
 * V8's budget before a WebAssembly function is recompiled by its optimizing tier (default
 * 1,800,000, roughly bytes executed). PostgreSQL's start runs thousands of functions a few
 * times; at the default budget V8 optimizes many of them for nothing, and their code and
 * the compiler's memory stay resident (~60 MB of the daemon's RSS). At this budget only
 * code that keeps running (a query path under sustained load) is optimized; the rest stays
 * on V8's baseline compiler, which runs our short queries ~1.3× slower.
 */
export const PGLITE_WASM_TIERING_BUDGET = 2_000_000_000;
