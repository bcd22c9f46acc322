-- Synapse-compatible admin API (storage/admin.ts): blocked rooms, purged rooms, the status of
-- room deletions (Synapse's delete_status), GDPR-erased users and each user's server notices room.

-- Rooms an admin blocked: local users may not join, be invited or knock (Synapse blocked_rooms).
-- A room may be blocked before this server knows it.
CREATE TABLE blocked_rooms (
  room_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  blocked_ts BIGINT NOT NULL
);

-- Rooms whose history was purged by a room deletion; they stay closed to local joins.
CREATE TABLE purged_rooms (
  room_id TEXT PRIMARY KEY,
  purged_ts BIGINT NOT NULL
);

-- DELETE /_synapse/admin/v2/rooms/{roomId} tasks. status: scheduled, active, complete, failed.
-- shutdown_room is the JSON object the status API returns under that name.
CREATE TABLE room_deletions (
  delete_id TEXT PRIMARY KEY,
  room_id TEXT NOT NULL,
  status TEXT NOT NULL,
  error TEXT,
  shutdown_room TEXT NOT NULL,
  created_ts BIGINT NOT NULL
);
CREATE INDEX room_deletions_room ON room_deletions (room_id);

-- Users deactivated with erase=true (Synapse erased_users).
CREATE TABLE erased_users (
  user_id TEXT PRIMARY KEY
);

-- The room in which the server notices user talks to each local user.
CREATE TABLE server_notice_rooms (
  user_id TEXT PRIMARY KEY,
  room_id TEXT NOT NULL
);
