-- When the loop's project was removed. Its loops stay as history for admins, but a later
-- project of that name did not run them, so its token does not see them.
ALTER TABLE piv_runs ADD COLUMN project_removed_at timestamptz;
-- Loops of projects removed before this column existed: the project is gone (a later one of
-- that name did not run them). Read from the projects domain's table once, here, as history.
UPDATE piv_runs SET project_removed_at = now() WHERE project NOT IN (SELECT name FROM projects);
