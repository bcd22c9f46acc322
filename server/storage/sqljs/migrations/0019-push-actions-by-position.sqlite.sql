-- SQLite variant of 0019-push-actions-by-position.sql: the table is rebuilt rather than altered,
-- because DROP COLUMN rewrites each row in place and leaves every page as large as before.
CREATE TABLE event_push_actions_by_position (
  user_id TEXT NOT NULL,
  room_id TEXT NOT NULL,
  stream_pos BIGINT NOT NULL,
  thread_id TEXT NOT NULL,
  notify INTEGER NOT NULL,
  highlight INTEGER NOT NULL,
  actions TEXT NOT NULL,
  ts BIGINT NOT NULL,
  PRIMARY KEY (user_id, room_id, stream_pos)
) WITHOUT ROWID;
INSERT INTO event_push_actions_by_position (user_id, room_id, stream_pos, thread_id, notify, highlight, actions, ts)
  SELECT user_id, room_id, stream_pos, thread_id, notify, highlight, actions, ts FROM event_push_actions;
DROP TABLE event_push_actions;
ALTER TABLE event_push_actions_by_position RENAME TO event_push_actions;
