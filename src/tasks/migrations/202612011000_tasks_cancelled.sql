-- A task can end cancelled (a PIV loop a person stopped): neither a success nor a failure, so
-- success rates and estimates leave it out.
ALTER TABLE tasks DROP CONSTRAINT tasks_status_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_status_check CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled'));
