/** Hearth's own admin API (/_hearth/api/v1/), typed by the server's wire types. */
import type {
  AdminLoginResponse,
  SettingsResponse,
  SetupRequest,
  SetupResponse,
  SetupStateResponse,
  StatusResponse,
} from '../../../server/api/admin/hearth/types.ts';
import { request } from './client.ts';

const V1 = '/_hearth/api/v1';

export const adminApi = {
  setupState: () => request<SetupStateResponse>('GET', `${V1}/setup/state`),
  setup: (body: SetupRequest) => request<SetupResponse>('POST', `${V1}/setup`, { body }),
  login: (username: string, password: string) => request<AdminLoginResponse>('POST', `${V1}/login`, { body: { username, password } }),
  logout: (token: string) => request<object>('POST', `${V1}/logout`, { token }),
  status: (token: string) => request<StatusResponse>('GET', `${V1}/status`, { token }),
  settings: (token: string) => request<SettingsResponse>('GET', `${V1}/settings`, { token }),
  updateSettings: (token: string, patch: Record<string, unknown>) => request<SettingsResponse>('PUT', `${V1}/settings`, { token, body: patch }),
};
