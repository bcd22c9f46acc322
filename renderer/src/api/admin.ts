/** Hearth's own admin API (/_hearth/api/v1/), typed by the server's wire types. */
import { request, requestBlob } from './client.ts';
import type {
  AdminLoginResponse,
  BackupNowResponse,
  BackupsResponse,
  CaptchaResponse,
  CaptchaTestResponse,
  LogLevelName,
  LogsResponse,
  SettingsResponse,
  SetupRequest,
  SetupResponse,
  SetupStateResponse,
  StatusResponse,
  TlsResponse,
  TlsUpdate,
  VerifyBackupResponse,
} from './wire.ts';

const V1 = '/_hearth/api/v1';

export const adminApi = {
  setupState: () => request<SetupStateResponse>('GET', `${V1}/setup/state`),
  setup: (body: SetupRequest) => request<SetupResponse>('POST', `${V1}/setup`, { body }),
  login: (username: string, password: string) => request<AdminLoginResponse>('POST', `${V1}/login`, { body: { username, password } }),
  logout: (token: string) => request<object>('POST', `${V1}/logout`, { token }),
  status: (token: string) => request<StatusResponse>('GET', `${V1}/status`, { token }),
  settings: (token: string) => request<SettingsResponse>('GET', `${V1}/settings`, { token }),
  updateSettings: (token: string, patch: Record<string, unknown>) => request<SettingsResponse>('PUT', `${V1}/settings`, { token, body: patch }),

  tls: (token: string) => request<TlsResponse>('GET', `${V1}/tls`, { token }),
  updateTls: (token: string, body: TlsUpdate) => request<TlsResponse>('PUT', `${V1}/tls`, { token, body }),
  generateSelfSigned: (token: string) => request<TlsResponse>('POST', `${V1}/tls/self-signed`, { token }),
  importCertificate: (token: string, certificate: string, privateKey: string) => request<TlsResponse>('POST', `${V1}/tls/import`, { token, body: { certificate, privateKey } }),
  requestAcme: (token: string) => request<TlsResponse>('POST', `${V1}/tls/acme/request`, { token }),
  caCertificate: (token: string) => requestBlob(`${V1}/tls/ca.crt`, token),

  backups: (token: string) => request<BackupsResponse>('GET', `${V1}/backups`, { token }),
  updateBackupSettings: (token: string, body: { dir?: string | null; intervalHours?: number | null; keep?: number | null }) =>
    request<BackupsResponse>('PUT', `${V1}/backups/settings`, { token, body }),
  backupNow: (token: string) => request<BackupNowResponse>('POST', `${V1}/backups`, { token }),
  verifyBackup: (token: string, name: string) => request<VerifyBackupResponse>('POST', `${V1}/backups/verify`, { token, body: { name } }),

  captcha: (token: string) => request<CaptchaResponse>('GET', `${V1}/captcha`, { token }),
  updateCaptcha: (token: string, body: { siteKey?: string | null; secretKey?: string | null }) => request<CaptchaResponse>('PUT', `${V1}/captcha`, { token, body }),
  testCaptcha: (token: string) => request<CaptchaTestResponse>('POST', `${V1}/captcha/test`, { token }),

  logs: (token: string, q: { level: LogLevelName; q?: string; limit?: number }) =>
    request<LogsResponse>('GET', `${V1}/logs?${new URLSearchParams({ level: q.level, limit: String(q.limit ?? 500), ...(q.q ? { q: q.q } : {}) })}`, { token }),
};
