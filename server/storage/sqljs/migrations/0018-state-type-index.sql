-- events_room_type served one query, state events of a type (stateEventsOfType), but every
-- message paid for an entry in it. Partial: only state events are indexed, and a query asking
-- for `state_key IS NOT NULL` still uses it.
DROP INDEX events_room_type;
CREATE INDEX events_room_state_type ON events (room_id, type, stream_pos) WHERE state_key IS NOT NULL;
