-- The global stream position counter (storage/stream.ts): one row, bumped inside each write
-- that stores something sync reports.
CREATE TABLE stream_counter (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  pos BIGINT NOT NULL
);
INSERT INTO stream_counter (id, pos) VALUES (1, 0);
