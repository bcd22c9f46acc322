-- Push rules, notifications and pushers (storage/push.ts; spec client-server "Push Notifications").
-- push_rules holds user-defined rules; priority orders rules of one (user, kind), higher first.
-- push_rule_defaults holds a user's changes to server-default rules (only `enabled` and `actions`
-- can change; NULL keeps the default). event_push_actions holds one row per (user, event) that
-- notified, with the event's stream position, for unread counts and GET /notifications.
-- pushers are HTTP pushers (pusher.yaml), keyed by (app_id, pushkey, user_id).

CREATE TABLE push_rules (
  user_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  priority BIGINT NOT NULL,
  conditions TEXT,
  pattern TEXT,
  actions TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  PRIMARY KEY (user_id, kind, rule_id)
);

CREATE TABLE push_rule_defaults (
  user_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  enabled INTEGER,
  actions TEXT,
  PRIMARY KEY (user_id, kind, rule_id)
);

-- thread_id '' is the main timeline; highlight and notify are 0/1; ts is when it was notified.
CREATE TABLE event_push_actions (
  user_id TEXT NOT NULL,
  room_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  stream_pos BIGINT NOT NULL,
  thread_id TEXT NOT NULL,
  notify INTEGER NOT NULL,
  highlight INTEGER NOT NULL,
  actions TEXT NOT NULL,
  ts BIGINT NOT NULL,
  PRIMARY KEY (user_id, event_id)
);
CREATE INDEX event_push_actions_room ON event_push_actions (user_id, room_id, stream_pos);
CREATE INDEX event_push_actions_user ON event_push_actions (user_id, stream_pos);
CREATE INDEX event_push_actions_event ON event_push_actions (event_id);

CREATE TABLE pushers (
  user_id TEXT NOT NULL,
  app_id TEXT NOT NULL,
  pushkey TEXT NOT NULL,
  kind TEXT NOT NULL,
  device_id TEXT,
  app_display_name TEXT NOT NULL,
  device_display_name TEXT NOT NULL,
  profile_tag TEXT,
  lang TEXT NOT NULL,
  data TEXT NOT NULL,
  pushkey_ts BIGINT NOT NULL,
  PRIMARY KEY (app_id, pushkey, user_id)
);
CREATE INDEX pushers_user ON pushers (user_id);
