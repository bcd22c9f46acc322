-- Server signing keys (storage/federation-keys.ts, spec server-server "Retrieving server keys").
-- federation_own_keys: every signing key this server has used; the current one has no
-- expired_ts, the others are published as old_verify_keys.
-- federation_remote_keys: other servers' verify keys as we learnt them (directly or through a
-- notary); valid_until_ts is already capped at 7 days after fetched_ts, and for an old key it is
-- its expired_ts.
-- federation_key_responses: the last signed /_matrix/key/v2/server answer of each server, kept
-- verbatim so that we can serve it as a notary (/_matrix/key/v2/query).

CREATE TABLE federation_own_keys (
  key_id TEXT PRIMARY KEY,
  public_key TEXT NOT NULL,
  first_used_ts BIGINT NOT NULL,
  expired_ts BIGINT
);

CREATE TABLE federation_remote_keys (
  server_name TEXT NOT NULL,
  key_id TEXT NOT NULL,
  public_key TEXT NOT NULL,
  valid_until_ts BIGINT NOT NULL,
  fetched_ts BIGINT NOT NULL,
  PRIMARY KEY (server_name, key_id)
);

CREATE TABLE federation_key_responses (
  server_name TEXT PRIMARY KEY,
  valid_until_ts BIGINT NOT NULL,
  fetched_ts BIGINT NOT NULL,
  response TEXT NOT NULL
);
