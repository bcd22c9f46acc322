-- event_push_actions holds a row per notified member of every notifying event: the largest table
-- after events (a third of the database in bench/client), and sql.js keeps the database in
-- memory. Its event_id column repeated, per member, what the row's stream position already names
-- (events.stream_pos is unique): readers that need the event id join events on stream_pos.
ALTER TABLE event_push_actions DROP COLUMN event_id;
