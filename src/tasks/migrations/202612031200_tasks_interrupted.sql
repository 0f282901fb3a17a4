-- A task can end interrupted: its work was cut off by the daemon stopping (a PIV loop's phase at a
-- shutdown or a crash) and goes on later. Nobody cancelled it and it did not fail, so success rates
-- and estimates leave it out, and get_task_stats counts it apart.
ALTER TABLE tasks DROP CONSTRAINT tasks_status_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_status_check CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled', 'interrupted'));
