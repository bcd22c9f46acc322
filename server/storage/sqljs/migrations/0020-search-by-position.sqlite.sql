-- Search index without its metadata table (storage/sqljs/search.ts). event_search_meta copied
-- room, sender, type, position and timestamp from `events`; sql.js keeps the whole database in
-- memory, so the copy and its indexes cost RAM on every server. Now the FTS4 docid names the
-- entry itself: docid = events.stream_pos * 4 + key code (0 content.body, 1 content.name,
-- 2 content.topic, as KEY_CODE in search.ts), and the query joins `events` on stream_pos (unique)
-- for the rest. SQLite only, like 0008-search.sqlite.sql.
--
-- The existing entries move to a new FTS4 table under their new docids, in docid order (FTS4
-- writes fewer segments that way); entries whose event is gone, or stored at another position,
-- are left behind. unicode61 folds case and strips diacritics for every script, as before.

CREATE VIRTUAL TABLE event_search_by_position USING fts4 (value, tokenize=unicode61);

INSERT INTO event_search_by_position (docid, value)
  SELECT e.stream_pos * 4 + CASE m.key WHEN 'content.body' THEN 0 WHEN 'content.name' THEN 1 ELSE 2 END, s.value
  FROM event_search_meta m
  JOIN events e ON e.event_id = m.event_id AND e.stream_pos = m.stream_pos
  JOIN event_search s ON s.docid = m.id
  WHERE m.key IN ('content.body', 'content.name', 'content.topic')
  ORDER BY 1;

DROP TABLE event_search;
DROP TABLE event_search_meta;
ALTER TABLE event_search_by_position RENAME TO event_search;

-- One merged segment b-tree: the smallest index and the fastest MATCH.
INSERT INTO event_search (event_search) VALUES ('optimize');
