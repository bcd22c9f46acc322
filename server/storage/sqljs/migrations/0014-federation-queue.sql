-- The federation sender's durable queue and per-destination health (storage/federation-queue.ts;
-- spec: server-server "Transactions"). Modelled on Synapse's destinations, destination_rooms and
-- device_lists_outbound_pokes tables.

-- Health and backoff per remote server. retry_interval_ms 0 means "up"; otherwise the destination
-- is down and is not tried again before retry_last_ts + retry_interval_ms.
-- last_successful_pos: stream position of the newest PDU the destination accepted (catch-up).
CREATE TABLE federation_destinations (
  destination TEXT PRIMARY KEY,
  last_success_ts BIGINT,
  last_failure_ts BIGINT,
  last_failure_reason TEXT,
  retry_last_ts BIGINT NOT NULL,
  retry_interval_ms BIGINT NOT NULL,
  failure_count INTEGER NOT NULL,
  last_successful_pos BIGINT
);

-- Local PDUs waiting for a destination, by the event's stream position. A row is deleted when a
-- transaction carrying the event is accepted (or the catch-up collapses a long backlog).
CREATE TABLE federation_outbox_pdus (
  destination TEXT NOT NULL,
  stream_pos BIGINT NOT NULL,
  event_id TEXT NOT NULL,
  room_id TEXT NOT NULL,
  PRIMARY KEY (destination, stream_pos)
);
CREATE INDEX federation_outbox_pdus_room ON federation_outbox_pdus (destination, room_id, stream_pos);

-- Persistent EDUs waiting for a destination (receipts, device list and signing key updates).
-- coalesce_key, when set, makes a newer EDU replace an older unsent one (a user's receipt in a
-- room); to-device messages stay in e2ee_to_device_outbox (0006-e2ee.sql).
CREATE TABLE federation_outbox_edus (
  id BIGINT PRIMARY KEY,
  destination TEXT NOT NULL,
  edu_type TEXT NOT NULL,
  content_json TEXT NOT NULL,
  coalesce_key TEXT
);
CREATE INDEX federation_outbox_edus_destination ON federation_outbox_edus (destination, id);
CREATE UNIQUE INDEX federation_outbox_edus_coalesce ON federation_outbox_edus (destination, coalesce_key);

-- Singleton: every local event at or below dispatched_pos has its outbox rows (or needed none).
-- Events after it are fanned out again at start, which closes the window between an event's
-- write and its outbox rows' write.
CREATE TABLE federation_sender_state (
  id INTEGER PRIMARY KEY,
  dispatched_pos BIGINT NOT NULL
);

-- Device list updates of each local user as last announced: the last m.device_list_update
-- stream_id (the next update's prev_id), the device ids announced (a device missing from the next
-- list is announced as deleted) and the cross-signing keys announced (m.signing_key_update).
CREATE TABLE federation_device_list_streams (
  user_id TEXT PRIMARY KEY,
  last_stream_id BIGINT NOT NULL,
  device_ids_json TEXT NOT NULL,
  signing_keys_json TEXT NOT NULL
);
-- Events stored before this migration were never meant for the queue.
INSERT INTO federation_sender_state (id, dispatched_pos) SELECT 1, pos FROM stream_counter WHERE id = 1;
