-- Google charges for an external IPv4 address in use by a VM (since February 2024: $0.005 an
-- hour on a standard VM, $3.65 a month). A VM created with the default access config has one, so
-- estimates without it were short by that much. One rate per price version.
ALTER TABLE gcloud_price_versions
  ADD COLUMN external_ipv4_hourly_usd numeric(12, 5) NOT NULL DEFAULT 0 CHECK (external_ipv4_hourly_usd >= 0);
UPDATE gcloud_price_versions SET external_ipv4_hourly_usd = 0.005 WHERE version = '2025-01-gcp-on-demand-list';
