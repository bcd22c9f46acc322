-- Server settings as key/value text; the settings service owns the keys and their encoding.
CREATE TABLE kv_settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
