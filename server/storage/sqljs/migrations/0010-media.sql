-- The media repository (storage/media.ts, spec client-server content-repo.yaml and
-- authed-content-repo.yaml, server-server content_repository.yaml). One row per mxc:// URI we
-- hold: our own uploads (origin = our server name) and the cache of remote media. The bytes live
-- in files under <dataDir>/media/, named by file_id (lowercase hex chosen by us, because media ids
-- are case-sensitive and macOS and Windows file systems are not).
-- size IS NULL marks an id created by POST /_matrix/media/v1/create whose content has not yet
-- arrived; expires_ts is when such an id lapses.

CREATE TABLE media (
  origin TEXT NOT NULL,
  media_id TEXT NOT NULL,
  file_id TEXT NOT NULL,
  user_id TEXT,
  content_type TEXT,
  upload_name TEXT,
  size BIGINT,
  sha256 TEXT,
  created_ts BIGINT NOT NULL,
  uploaded_ts BIGINT,
  expires_ts BIGINT,
  last_access_ts BIGINT NOT NULL,
  quarantined_by TEXT,
  safe_from_quarantine SMALLINT NOT NULL DEFAULT 0,
  PRIMARY KEY (origin, media_id)
);
CREATE INDEX media_user ON media (user_id, created_ts);
CREATE INDEX media_origin_access ON media (origin, last_access_ts);

-- Thumbnails generated from a media row, one file each under media/thumbnails/.
CREATE TABLE media_thumbnails (
  origin TEXT NOT NULL,
  media_id TEXT NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  method TEXT NOT NULL,
  animated SMALLINT NOT NULL,
  content_type TEXT NOT NULL,
  size BIGINT NOT NULL,
  PRIMARY KEY (origin, media_id, width, height, method, animated)
);

-- URL preview results (OpenGraph JSON), shared by all users and kept for a while.
CREATE TABLE media_url_previews (
  url TEXT PRIMARY KEY,
  fetched_ts BIGINT NOT NULL,
  og TEXT NOT NULL
);
