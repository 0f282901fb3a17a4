-- When the loop's project was removed. Its loops stay as history for admins, but a later
-- project of that name did not run them, so its token does not see them.
ALTER TABLE piv_runs ADD COLUMN project_removed_at timestamptz;
