-- Cached device lists of users on other servers (client-server keys.yaml /keys/query;
-- server-server user_devices.yaml, user_keys.yaml and the m.device_list_update /
-- m.signing_key_update EDUs), kept while a local user shares a room with them. One row per
-- user: the remote's device-list stream_id last applied (NULL when unknown), whether the list
-- must be fetched again before it is served (a gap in the updates), the devices as
-- {device_id: device_keys object or {} when the device has no keys, with unsigned
-- device_display_name}, and the cross-signing keys as the remote sent them.
CREATE TABLE e2ee_remote_device_lists (
  user_id TEXT PRIMARY KEY,
  stream_id BIGINT,
  stale INTEGER NOT NULL,
  devices_json TEXT NOT NULL,
  master_key_json TEXT,
  self_signing_key_json TEXT
);
