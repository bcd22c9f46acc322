-- Content reports (storage/reports.ts, spec client-server report_content.yaml): reports of an
-- event, a room or a user, kept for the admin's reports page (Synapse's admin event_reports API).
-- kind 'event': room_id, event_id and target_user_id (the event's sender) are set;
-- kind 'room': room_id is set; kind 'user': target_user_id is set.
-- score is the deprecated -100..0 severity some clients still send (removed in spec v1.18).

CREATE TABLE content_reports (
  id BIGINT PRIMARY KEY,
  kind TEXT NOT NULL,
  received_ts BIGINT NOT NULL,
  room_id TEXT,
  event_id TEXT,
  user_id TEXT NOT NULL,
  target_user_id TEXT,
  reason TEXT,
  score INTEGER
);
CREATE INDEX content_reports_received ON content_reports (received_ts);
CREATE INDEX content_reports_room ON content_reports (room_id);
CREATE INDEX content_reports_user ON content_reports (user_id);
