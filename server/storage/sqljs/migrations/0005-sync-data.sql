-- Personal and ephemeral data around /sync (storage/sync-data.ts): stored filters, account data
-- (global with room_id '', per room otherwise; room tags are room account data of type m.tag and
-- the fully-read marker is m.fully_read), read receipts, presence and custom profile fields.
-- Every row sync reports carries the stream position (storage/stream.ts) of its last change.

CREATE TABLE sync_filters (
  user_id TEXT NOT NULL,
  filter_id BIGINT NOT NULL,
  filter_json TEXT NOT NULL,
  PRIMARY KEY (user_id, filter_id)
);

CREATE TABLE account_data (
  user_id TEXT NOT NULL,
  room_id TEXT NOT NULL,
  type TEXT NOT NULL,
  content TEXT NOT NULL,
  stream_pos BIGINT NOT NULL,
  PRIMARY KEY (user_id, room_id, type)
);
CREATE INDEX account_data_user_pos ON account_data (user_id, stream_pos);

-- One receipt per (room, user, receipt type, thread); thread_id '' is an unthreaded receipt.
CREATE TABLE receipts (
  room_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  receipt_type TEXT NOT NULL,
  thread_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  ts BIGINT NOT NULL,
  stream_pos BIGINT NOT NULL,
  PRIMARY KEY (room_id, user_id, receipt_type, thread_id)
);
CREATE INDEX receipts_pos ON receipts (stream_pos);

CREATE TABLE presence (
  user_id TEXT PRIMARY KEY,
  presence TEXT NOT NULL,
  status_msg TEXT,
  last_active_ts BIGINT NOT NULL,
  stream_pos BIGINT NOT NULL
);
CREATE INDEX presence_pos ON presence (stream_pos);

-- Profile fields other than displayname and avatar_url (which live in profiles), spec v1.16+.
CREATE TABLE profile_fields (
  user_id TEXT NOT NULL,
  field_name TEXT NOT NULL,
  value_json TEXT NOT NULL,
  PRIMARY KEY (user_id, field_name)
);
