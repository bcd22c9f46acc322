-- Full-text index for server-side search (storage/search.ts, spec client-server search.yaml).
-- SQLite only: sql.js ships FTS4 (not FTS5). The PostgreSQL variant (0008-search.sql, when it is
-- written) keeps the same event_search_meta table and replaces the FTS4 table with a tsvector
-- column plus a GIN index. One row per (event, key): the searchable text lives in the FTS4 table
-- under docid = event_search_meta.id; the metadata the query filters and orders on lives in an
-- ordinary table, because FTS4 columns can only be matched, not indexed.
-- unicode61 folds case and strips diacritics for every script ("Café" matches "cafe").

CREATE VIRTUAL TABLE event_search USING fts4 (value, tokenize=unicode61);

CREATE TABLE event_search_meta (
  id BIGINT PRIMARY KEY,
  event_id TEXT NOT NULL,
  room_id TEXT NOT NULL,
  -- content.body (m.room.message), content.name (m.room.name), content.topic (m.room.topic).
  key TEXT NOT NULL,
  type TEXT NOT NULL,
  sender TEXT NOT NULL,
  stream_pos BIGINT NOT NULL,
  origin_server_ts BIGINT NOT NULL,
  UNIQUE (event_id, key)
);
CREATE INDEX event_search_meta_room_pos ON event_search_meta (room_id, stream_pos);

-- Index what is already stored (a data folder from before this migration). Redacted events are
-- left out; encrypted events carry no plaintext and never match.
INSERT INTO event_search_meta (id, event_id, room_id, key, type, sender, stream_pos, origin_server_ts)
  SELECT ROW_NUMBER() OVER (ORDER BY stream_pos), event_id, room_id,
    CASE type WHEN 'm.room.message' THEN 'content.body' WHEN 'm.room.name' THEN 'content.name' ELSE 'content.topic' END,
    type, sender, stream_pos, origin_server_ts
  FROM events
  WHERE redacted_by IS NULL
    AND ((type = 'm.room.message' AND json_type(json, '$.content.body') = 'text')
      OR (type = 'm.room.name' AND state_key = '' AND json_type(json, '$.content.name') = 'text')
      OR (type = 'm.room.topic' AND state_key = '' AND json_type(json, '$.content.topic') = 'text'));
INSERT INTO event_search (docid, value)
  SELECT m.id, CASE m.key
      WHEN 'content.body' THEN json_extract(e.json, '$.content.body')
      WHEN 'content.name' THEN json_extract(e.json, '$.content.name')
      ELSE json_extract(e.json, '$.content.topic') END
  FROM event_search_meta m JOIN events e ON e.event_id = m.event_id;
