-- Rooms, their events and state (storage/rooms.ts). Room state is kept as state groups: a group
-- is a prev_group plus a delta of (type, state_key) → event_id, with a full snapshot (prev_group
-- NULL) every ~100 deltas, so a message shares its predecessor's group and a state event adds one
-- small delta. current_state is the latest group flattened, for fast reads.

CREATE TABLE rooms (
  room_id TEXT PRIMARY KEY,
  room_version TEXT NOT NULL,
  creator TEXT NOT NULL,
  -- Published in this server's room directory (visibility "public").
  is_public INTEGER NOT NULL DEFAULT 0,
  created_ts BIGINT NOT NULL
);
CREATE INDEX rooms_public ON rooms (is_public);

-- One row per stored event. stream_pos is its timeline order (negative for backfilled history).
-- state_group is the room state *after* the event. replaces_state is the event id this state
-- event replaced (for unsigned.prev_content). redacted_by is the applied redaction, if any.
CREATE TABLE events (
  event_id TEXT PRIMARY KEY,
  room_id TEXT NOT NULL,
  stream_pos BIGINT NOT NULL UNIQUE,
  depth BIGINT NOT NULL,
  type TEXT NOT NULL,
  state_key TEXT,
  sender TEXT NOT NULL,
  origin_server_ts BIGINT NOT NULL,
  state_group BIGINT NOT NULL,
  replaces_state TEXT,
  redacted_by TEXT,
  json TEXT NOT NULL
);
CREATE INDEX events_room_pos ON events (room_id, stream_pos);
CREATE INDEX events_room_ts ON events (room_id, origin_server_ts);
CREATE INDEX events_room_type ON events (room_id, type, stream_pos);

CREATE TABLE state_groups (
  group_id BIGINT PRIMARY KEY,
  room_id TEXT NOT NULL,
  prev_group BIGINT,
  -- Number of deltas since the last full snapshot (0 for a snapshot).
  chain_len INTEGER NOT NULL
);

CREATE TABLE state_group_entries (
  group_id BIGINT NOT NULL,
  type TEXT NOT NULL,
  state_key TEXT NOT NULL,
  event_id TEXT NOT NULL,
  PRIMARY KEY (group_id, type, state_key)
);

CREATE TABLE current_state (
  room_id TEXT NOT NULL,
  type TEXT NOT NULL,
  state_key TEXT NOT NULL,
  event_id TEXT NOT NULL,
  PRIMARY KEY (room_id, type, state_key)
);

CREATE TABLE forward_extremities (
  room_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  PRIMARY KEY (room_id, event_id)
);

-- Current membership per (room, user); forgotten is set by /forget and cleared by a new membership.
CREATE TABLE room_members (
  room_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  membership TEXT NOT NULL,
  event_id TEXT NOT NULL,
  stream_pos BIGINT NOT NULL,
  forgotten INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_user ON room_members (user_id);

-- Every membership change, for memberships as of a past position and visibility checks.
CREATE TABLE membership_history (
  user_id TEXT NOT NULL,
  room_id TEXT NOT NULL,
  stream_pos BIGINT NOT NULL,
  membership TEXT NOT NULL,
  event_id TEXT NOT NULL,
  PRIMARY KEY (user_id, stream_pos)
);
CREATE INDEX membership_history_room ON membership_history (room_id, user_id, stream_pos);

-- Client transaction ids (room_send, redaction): idempotency per (user, device, room, txn).
-- The room is part of the key as in Synapse (whose cache keys on the request path), so a client
-- reusing a txn id in another room still gets a new event.
CREATE TABLE event_txns (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  room_id TEXT NOT NULL,
  txn_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  PRIMARY KEY (user_id, device_id, room_id, txn_id)
);
CREATE INDEX event_txns_event ON event_txns (event_id);

-- m.relates_to index (relations, threads, edits, references).
CREATE TABLE event_relations (
  event_id TEXT PRIMARY KEY,
  room_id TEXT NOT NULL,
  relates_to TEXT NOT NULL,
  rel_type TEXT NOT NULL,
  type TEXT NOT NULL,
  sender TEXT NOT NULL,
  stream_pos BIGINT NOT NULL
);
CREATE INDEX event_relations_parent ON event_relations (relates_to, rel_type, stream_pos);

-- Redactions by target, including those whose target is not (yet) known.
CREATE TABLE redactions (
  redaction_id TEXT PRIMARY KEY,
  redacts TEXT NOT NULL
);
CREATE INDEX redactions_target ON redactions (redacts);

CREATE TABLE room_aliases (
  alias TEXT PRIMARY KEY,
  room_id TEXT NOT NULL,
  creator TEXT NOT NULL
);
CREATE INDEX room_aliases_room ON room_aliases (room_id);
