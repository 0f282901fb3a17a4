-- The auto-scaler's history is read newest first by when each evaluation began (at), not by when
-- its row was written (id): a run that resized writes its row once the resize has ended, after the
-- rows of runs that began later. The indexes follow that order, per VM and across all.
DROP INDEX gcloud_autoscale_evaluations_vm;
CREATE INDEX gcloud_autoscale_evaluations_vm ON gcloud_autoscale_evaluations (project_id, instance_name, at, id);
CREATE INDEX gcloud_autoscale_evaluations_at ON gcloud_autoscale_evaluations (at, id);
