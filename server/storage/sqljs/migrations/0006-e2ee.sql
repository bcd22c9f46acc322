-- End-to-end encryption (client-server keys.yaml, cross_signing.yaml, key_backup.yaml,
-- to_device.yaml). Key objects are stored as the JSON the client uploaded; signatures added
-- later through /keys/signatures/upload live in e2ee_signatures, so /keys/query can show each
-- viewer only the signatures it may see.

-- Device identity keys: one object per device (POST /keys/upload device_keys).
CREATE TABLE e2ee_device_keys (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  key_json TEXT NOT NULL,
  PRIMARY KEY (user_id, device_id)
);

-- Unclaimed one-time keys. upload_order gives out keys in upload order (/keys/claim).
CREATE TABLE e2ee_one_time_keys (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  key_id TEXT NOT NULL,
  key_json TEXT NOT NULL,
  upload_order BIGINT NOT NULL,
  PRIMARY KEY (user_id, device_id, algorithm, key_id)
);
CREATE INDEX e2ee_one_time_keys_order ON e2ee_one_time_keys (user_id, device_id, algorithm, upload_order);

-- At most one fallback key per device and algorithm; `used` is set once /keys/claim hands it out.
CREATE TABLE e2ee_fallback_keys (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  key_id TEXT NOT NULL,
  key_json TEXT NOT NULL,
  used SMALLINT NOT NULL,
  PRIMARY KEY (user_id, device_id, algorithm)
);

-- Cross-signing keys: key_type is master, self_signing or user_signing.
CREATE TABLE e2ee_cross_signing_keys (
  user_id TEXT NOT NULL,
  key_type TEXT NOT NULL,
  public_key TEXT NOT NULL,
  key_json TEXT NOT NULL,
  PRIMARY KEY (user_id, key_type)
);

-- Signatures uploaded after the fact: on a device (target_key_id = device id) or on a master
-- key (target_key_id = its unpadded base64 public key).
CREATE TABLE e2ee_signatures (
  target_user_id TEXT NOT NULL,
  target_key_id TEXT NOT NULL,
  signer_user_id TEXT NOT NULL,
  signer_key_id TEXT NOT NULL,
  signature TEXT NOT NULL,
  PRIMARY KEY (target_user_id, target_key_id, signer_user_id, signer_key_id)
);

-- Device-list stream for sync's device_lists and /keys/changes. kind: keys (devices or keys of
-- user_id changed; room_id NULL), join / leave (user_id's membership in room_id changed, so
-- users start or stop sharing rooms).
CREATE TABLE e2ee_device_list_changes (
  stream_pos BIGINT NOT NULL,
  user_id TEXT NOT NULL,
  room_id TEXT,
  kind TEXT NOT NULL,
  PRIMARY KEY (stream_pos, user_id)
);
CREATE INDEX e2ee_device_list_changes_member ON e2ee_device_list_changes (user_id, room_id, stream_pos);

-- To-device messages waiting for a local device; deleted once its sync token passes them.
CREATE TABLE e2ee_to_device_inbox (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  stream_pos BIGINT NOT NULL,
  sender TEXT NOT NULL,
  event_type TEXT NOT NULL,
  content_json TEXT NOT NULL,
  PRIMARY KEY (user_id, device_id, stream_pos)
);

-- When a sync returned only part of a device's inbox (the limit), the next sync with since =
-- up_to may delete only what was delivered (delivered_pos), not everything up to since.
CREATE TABLE e2ee_to_device_acks (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  up_to BIGINT NOT NULL,
  delivered_pos BIGINT NOT NULL,
  PRIMARY KEY (user_id, device_id)
);

-- Transaction ids already used by a sending device (PUT /sendToDevice is idempotent).
CREATE TABLE e2ee_to_device_txns (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  txn_id TEXT NOT NULL,
  stream_pos BIGINT NOT NULL,
  PRIMARY KEY (user_id, device_id, txn_id)
);

-- To-device messages for remote users, queued for the federation sender (issue 5).
CREATE TABLE e2ee_to_device_outbox (
  stream_pos BIGINT NOT NULL,
  destination TEXT NOT NULL,
  sender TEXT NOT NULL,
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  content_json TEXT NOT NULL,
  message_id TEXT NOT NULL,
  PRIMARY KEY (stream_pos, user_id, device_id)
);
CREATE INDEX e2ee_to_device_outbox_destination ON e2ee_to_device_outbox (destination, stream_pos);

-- Server-side key backups. Versions count up per user and are never reused; a deleted version
-- keeps its row (deleted = 1) so deleting it again succeeds. etag changes whenever keys change.
CREATE TABLE e2ee_backup_versions (
  user_id TEXT NOT NULL,
  version BIGINT NOT NULL,
  algorithm TEXT NOT NULL,
  auth_data_json TEXT NOT NULL,
  etag BIGINT NOT NULL,
  deleted SMALLINT NOT NULL,
  PRIMARY KEY (user_id, version)
);

CREATE TABLE e2ee_backup_keys (
  user_id TEXT NOT NULL,
  version BIGINT NOT NULL,
  room_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  first_message_index BIGINT NOT NULL,
  forwarded_count BIGINT NOT NULL,
  is_verified SMALLINT NOT NULL,
  session_data_json TEXT NOT NULL,
  PRIMARY KEY (user_id, version, room_id, session_id)
);
