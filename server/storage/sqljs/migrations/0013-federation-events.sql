-- Remote events (storage/rooms.ts; services/federation/receiver/): the room state clients see when
-- the DAG forks, events kept outside the timeline, received transactions, and invites to rooms
-- this server is not in.

-- The room's current state group after this event was stored, when it is not state_group (the
-- DAG state after the event): a remote event on a fork leaves the current state resolved across
-- the forward extremities (spec: server-server "Room State Resolution"). NULL means the same as
-- state_group, which holds for every local event.
ALTER TABLE events ADD COLUMN current_group BIGINT;

-- Events of a room's DAG that are not in its timeline (spec: server-server "Checks performed on
-- receipt of a PDU", "Rejection", "Soft failure"):
--   outlier     an auth or state event fetched for its own sake, without the state before it;
--   rejected    failed the auth checks: never an auth event, never shown, never fetched again;
--   soft_failed passed auth against its own state but not the current state: never shown to
--               clients nor a forward extremity, but still part of the DAG.
-- state_group is the state after the event (rejected: the state before it); NULL for outliers.
CREATE TABLE events_aside (
  event_id TEXT PRIMARY KEY,
  room_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  reason TEXT,
  state_group BIGINT,
  depth BIGINT NOT NULL,
  json TEXT NOT NULL
);
CREATE INDEX events_aside_room ON events_aside (room_id, kind);

-- PUT /send/{txnId} answers, so a retried transaction gets the same answer and is not applied twice.
CREATE TABLE federation_received_txns (
  origin TEXT NOT NULL,
  txn_id TEXT NOT NULL,
  response_json TEXT NOT NULL,
  received_ts BIGINT NOT NULL,
  PRIMARY KEY (origin, txn_id)
);

-- A local user's membership in a room this server is not in (an invite received over /invite,
-- or a knock/rejection sent through another server): the event and the stripped state sync shows.
CREATE TABLE remote_memberships (
  room_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  room_version TEXT NOT NULL,
  stripped_state_json TEXT NOT NULL,
  PRIMARY KEY (room_id, user_id)
);
