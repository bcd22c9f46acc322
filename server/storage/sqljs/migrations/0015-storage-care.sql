-- Storage care (storage/storage-care.ts; issue 4 "Storage care"): the sizes of the database and
-- the media folder over time, for the admin GUI's chart. One row per hour (hour_ts is the start
-- of the hour, ms since the epoch); a later sample in the same hour replaces the earlier one.
CREATE TABLE storage_stats_history (
  hour_ts BIGINT PRIMARY KEY,
  sampled_ts BIGINT NOT NULL,
  database_bytes BIGINT NOT NULL,
  media_bytes BIGINT NOT NULL,
  total_bytes BIGINT NOT NULL
);
