-- Fewer index updates on the busiest write, a message being sent (see the SQLite variant,
-- 0016-lean-write-tables.sqlite.sql, which is what Hearth runs). event_push_actions is keyed by
-- (user_id, room_id, stream_pos), what unread counts read, and loses its other indexes.
DROP INDEX event_push_actions_room;
DROP INDEX event_push_actions_user;
DROP INDEX event_push_actions_event;
ALTER TABLE event_push_actions DROP CONSTRAINT event_push_actions_pkey;
ALTER TABLE event_push_actions ADD PRIMARY KEY (user_id, room_id, stream_pos);
