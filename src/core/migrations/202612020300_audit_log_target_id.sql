-- The audit list of one target answers newest first (ORDER BY id DESC, LIMIT n). With the index
-- on (target, at), PostgreSQL read every row of the target and sorted them: a secret read 45,000
-- times took ~25 ms a page, and on the embedded database held up every other request meanwhile.
-- On (target, id) it reads the page's rows from the index's end. The cooldown's
-- max(at) of one VM's changes reads the same few rows either way.
CREATE INDEX audit_log_target_id ON audit_log (target, id);
DROP INDEX audit_log_target_at;
