-- Accounts and sessions (storage/users.ts): users, their profiles, devices, access and refresh
-- tokens, and Synapse-shaped registration tokens. Tokens are stored as SHA-256 hex digests, never
-- as the token itself. Row ids are chosen by TypeScript (MAX(id) + 1 inside the write), so the
-- SQL stays free of engine-specific sequences and replays deterministically.

CREATE TABLE users (
  user_id TEXT PRIMARY KEY,
  -- scrypt record (services/users/passwords.ts); NULL when the account has no password
  -- (deactivated accounts have theirs wiped).
  password_hash TEXT,
  is_admin INTEGER NOT NULL DEFAULT 0,
  is_guest INTEGER NOT NULL DEFAULT 0,
  deactivated INTEGER NOT NULL DEFAULT 0,
  created_ts BIGINT NOT NULL,
  -- Synapse's user_type: NULL for ordinary users, 'bot' or 'support' when set by an admin.
  user_type TEXT
);

-- Global profile of local users; the profile service owns reads and updates after registration.
CREATE TABLE profiles (
  user_id TEXT PRIMARY KEY,
  displayname TEXT,
  avatar_url TEXT
);

CREATE TABLE devices (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  display_name TEXT,
  last_seen_ip TEXT,
  last_seen_ts BIGINT,
  last_seen_user_agent TEXT,
  created_ts BIGINT NOT NULL,
  PRIMARY KEY (user_id, device_id)
);

CREATE TABLE refresh_tokens (
  id BIGINT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  -- Set when this token was exchanged: the refresh token that replaced it. The old one stays
  -- usable until the new pair is used (spec: "Refreshing access tokens").
  next_token_id BIGINT,
  created_ts BIGINT NOT NULL
);
CREATE INDEX refresh_tokens_device ON refresh_tokens (user_id, device_id);
CREATE INDEX refresh_tokens_next ON refresh_tokens (next_token_id);

CREATE TABLE access_tokens (
  id BIGINT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  created_ts BIGINT NOT NULL,
  -- NULL: never expires (sessions without a refresh token).
  expires_ts BIGINT,
  refresh_token_id BIGINT,
  -- 1 once the token authenticated a request; first use retires the refresh token it replaced.
  used INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX access_tokens_device ON access_tokens (user_id, device_id);
CREATE INDEX access_tokens_refresh ON access_tokens (refresh_token_id);

-- Synapse's registration_tokens: uses_allowed NULL means unlimited, expiry_time NULL never.
-- pending counts sessions holding the token mid-registration, completed finished ones.
CREATE TABLE registration_tokens (
  token TEXT PRIMARY KEY,
  uses_allowed INTEGER,
  pending INTEGER NOT NULL DEFAULT 0,
  completed INTEGER NOT NULL DEFAULT 0,
  expiry_time BIGINT
);
