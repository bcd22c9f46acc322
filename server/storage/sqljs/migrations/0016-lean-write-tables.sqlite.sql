-- Fewer index updates on the busiest write, a message being sent (bench/client). SQLite variant of
-- 0016-lean-write-tables.sql: WITHOUT ROWID stores each row once, inside its primary key.
--
-- event_push_actions: one row per (user, notifying event), written for every member a message
-- notifies. It used to update five b-trees per row (the rowid table, the (user_id, event_id) key
-- and three indexes); now one: the primary key (user_id, room_id, stream_pos) is what unread
-- counts read, and a stream position names exactly one event. GET /notifications and the purges
-- scan a user's or a room's rows instead, which are rare.
CREATE TABLE event_push_actions_lean (
  user_id TEXT NOT NULL,
  room_id TEXT NOT NULL,
  stream_pos BIGINT NOT NULL,
  event_id TEXT NOT NULL,
  thread_id TEXT NOT NULL,
  notify INTEGER NOT NULL,
  highlight INTEGER NOT NULL,
  actions TEXT NOT NULL,
  ts BIGINT NOT NULL,
  PRIMARY KEY (user_id, room_id, stream_pos)
) WITHOUT ROWID;
INSERT INTO event_push_actions_lean (user_id, room_id, stream_pos, event_id, thread_id, notify, highlight, actions, ts)
  SELECT user_id, room_id, stream_pos, event_id, thread_id, notify, highlight, actions, ts FROM event_push_actions;
DROP TABLE event_push_actions;
ALTER TABLE event_push_actions_lean RENAME TO event_push_actions;

-- event_txns: written with every message a client sends; two b-trees instead of three.
CREATE TABLE event_txns_lean (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  room_id TEXT NOT NULL,
  txn_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  PRIMARY KEY (user_id, device_id, room_id, txn_id)
) WITHOUT ROWID;
INSERT INTO event_txns_lean (user_id, device_id, room_id, txn_id, event_id)
  SELECT user_id, device_id, room_id, txn_id, event_id FROM event_txns;
DROP TABLE event_txns;
ALTER TABLE event_txns_lean RENAME TO event_txns;
CREATE INDEX event_txns_event ON event_txns (event_id);
