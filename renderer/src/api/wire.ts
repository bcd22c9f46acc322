/**
 * Wire shapes the GUI reads that server/api/admin/hearth/types.ts does not carry: the TLS page's
 * update request, and Synapse's admin API as its documentation describes it (element-hq/synapse
 * docs/admin_api/: user_admin_api.md, rooms.md, registration_tokens.md, event_reports.md,
 * federation.md). Hearth's own admin answers (setup, status, TLS, backups, captcha, logs) are the
 * server's types, re-exported here (type-only) so the pages keep one import. Types only.
 */
import type { DnsProviderName, TlsMode } from '../../../server/api/admin/hearth/types.ts';

export type {
  AdminLoginResponse,
  BackupInfo,
  BackupNowResponse,
  BackupsResponse,
  CaptchaResponse,
  CaptchaTestResponse,
  CertificateInfo,
  DnsProviderName,
  LogLevelName,
  LogRecord,
  LogsResponse,
  SettingsResponse,
  SetupRequest,
  SetupResponse,
  SetupStateResponse,
  StatusResponse,
  TlsMode,
  TlsResponse,
  VerifyBackupResponse,
} from '../../../server/api/admin/hearth/types.ts';

// ---- Hearth: PUT /_hearth/api/v1/tls ----
export interface TlsUpdate {
  mode: TlsMode;
  selfSignedNames?: string[] | null;
  trustedProxies?: string[] | null;
  acme?: {
    email?: string | null;
    domains?: string[] | null;
    challengePort?: number | null;
    dnsProvider?: DnsProviderName | null;
    dnsApiUrl?: string | null;
    dnsZone?: string | null;
    dnsApiToken?: string | null;
  };
}

// ---- Synapse: users ----
export interface SynapseUser {
  name: string;
  displayname: string | null;
  avatar_url: string | null;
  admin: boolean;
  deactivated: boolean;
  erased?: boolean;
  is_guest: boolean;
  user_type: string | null;
  /** The list gives ms; the single-user query gives seconds (as Synapse does). */
  creation_ts: number;
  last_seen_ts?: number | null;
}

export interface SynapseUserList {
  users: SynapseUser[];
  total: number;
  next_token?: string;
}

export interface SynapseDevice {
  device_id: string;
  display_name?: string | null;
  last_seen_ip: string | null;
  last_seen_ts: number | null;
  last_seen_user_agent: string | null;
  user_id: string;
}

// ---- Synapse: registration tokens ----
export interface RegistrationToken {
  token: string;
  uses_allowed: number | null;
  pending: number;
  completed: number;
  expiry_time: number | null;
}

// ---- Synapse: rooms ----
export interface SynapseRoom {
  room_id: string;
  name: string | null;
  canonical_alias: string | null;
  joined_members: number;
  joined_local_members: number;
  version: string;
  creator: string;
  encryption: string | null;
  federatable: boolean;
  public: boolean;
  join_rules: string | null;
  guest_access: string | null;
  history_visibility: string | null;
  state_events: number;
  room_type: string | null;
}

export interface SynapseRoomDetails extends SynapseRoom {
  topic: string | null;
  avatar: string | null;
  joined_local_devices: number;
  forgotten?: boolean;
}

export interface SynapseRoomList {
  rooms: SynapseRoom[];
  offset: number;
  total_rooms: number;
  next_batch?: number;
  prev_batch?: number;
}

export interface RoomDeleteStatus {
  delete_id: string;
  room_id?: string;
  status: 'scheduled' | 'active' | 'complete' | 'failed' | 'shutting_down' | 'purging';
  error?: string;
}

// ---- Synapse: event reports ----
export interface EventReport {
  id: number;
  received_ts: number;
  room_id: string;
  name: string | null;
  event_id: string;
  user_id: string;
  reason: string | null;
  score: number | null;
  sender: string;
  canonical_alias: string | null;
}

export interface EventReportDetails extends EventReport {
  event_json: { type?: string; content?: Record<string, unknown>; origin_server_ts?: number; sender?: string; [k: string]: unknown };
}

export interface EventReportList {
  event_reports: EventReport[];
  total: number;
  next_token?: number;
}

// ---- Synapse: federation destinations ----
export interface FederationDestination {
  destination: string;
  retry_last_ts: number;
  retry_interval: number;
  failure_ts: number | null;
  last_successful_stream_ordering: number | null;
  /** Hearth's additions. */
  last_success_ts?: number | null;
  last_failure_reason?: string | null;
}

export interface FederationDestinationList {
  destinations: FederationDestination[];
  total: number;
  next_token?: string;
}

// ---- the server's public key (/_matrix/key/v2/server) ----
export interface ServerKeys {
  server_name: string;
  verify_keys: Record<string, { key: string }>;
  valid_until_ts: number;
}
