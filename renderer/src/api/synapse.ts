/**
 * Synapse's admin API (/_synapse/admin/), as Hearth serves it on the admin listener too, with
 * Synapse's documented request and response shapes (docs/admin_api/ in element-hq/synapse).
 */
import { request } from './client.ts';
import type {
  EventReportDetails,
  EventReportList,
  FederationDestinationList,
  RegistrationToken,
  RoomDeleteStatus,
  ServerKeys,
  SynapseDevice,
  SynapseRoomDetails,
  SynapseRoomList,
  SynapseUser,
  SynapseUserList,
} from './wire.ts';

const A = '/_synapse/admin';
const u = encodeURIComponent;
const qs = (params: Record<string, string | number | boolean | undefined>): string =>
  new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => [k, String(v)])).toString();

export const synapseApi = {
  // users (user_admin_api.md)
  users: (token: string, q: { from: number; limit: number; name?: string; deactivated?: boolean }) =>
    request<SynapseUserList>('GET', `${A}/v2/users?${qs({ from: q.from, limit: q.limit, name: q.name, deactivated: q.deactivated, order_by: 'name' })}`, { token }),
  user: (token: string, userId: string) => request<SynapseUser>('GET', `${A}/v2/users/${u(userId)}`, { token }),
  usernameAvailable: (token: string, username: string) => request<{ available: boolean }>('GET', `${A}/v1/username_available?${qs({ username })}`, { token }),
  createUser: (token: string, userId: string, body: { password: string; displayname?: string; admin: boolean }) =>
    request<SynapseUser>('PUT', `${A}/v2/users/${u(userId)}`, { token, body }),
  resetPassword: (token: string, userId: string, newPassword: string) =>
    request<object>('POST', `${A}/v1/reset_password/${u(userId)}`, { token, body: { new_password: newPassword, logout_devices: true } }),
  deactivate: (token: string, userId: string, erase: boolean) => request<object>('POST', `${A}/v1/deactivate/${u(userId)}`, { token, body: { erase } }),
  setAdmin: (token: string, userId: string, admin: boolean) => request<object>('PUT', `${A}/v1/users/${u(userId)}/admin`, { token, body: { admin } }),
  devices: (token: string, userId: string) => request<{ devices: SynapseDevice[]; total: number }>('GET', `${A}/v2/users/${u(userId)}/devices`, { token }),
  deleteDevice: (token: string, userId: string, deviceId: string) => request<object>('DELETE', `${A}/v2/users/${u(userId)}/devices/${u(deviceId)}`, { token }),
  deleteDevices: (token: string, userId: string, devices: string[]) => request<object>('POST', `${A}/v2/users/${u(userId)}/delete_devices`, { token, body: { devices } }),

  // registration tokens (registration_tokens.md)
  registrationTokens: (token: string) => request<{ registration_tokens: RegistrationToken[] }>('GET', `${A}/v1/registration_tokens`, { token }),
  createRegistrationToken: (token: string, body: { uses_allowed: number | null; expiry_time: number | null }) =>
    request<RegistrationToken>('POST', `${A}/v1/registration_tokens/new`, { token, body }),
  deleteRegistrationToken: (token: string, code: string) => request<object>('DELETE', `${A}/v1/registration_tokens/${u(code)}`, { token }),

  // rooms (rooms.md)
  rooms: (token: string, q: { from: number; limit: number; search?: string }) =>
    request<SynapseRoomList>('GET', `${A}/v1/rooms?${qs({ from: q.from, limit: q.limit, search_term: q.search, order_by: 'name' })}`, { token }),
  room: (token: string, roomId: string) => request<SynapseRoomDetails>('GET', `${A}/v1/rooms/${u(roomId)}`, { token }),
  roomMembers: (token: string, roomId: string) => request<{ members: string[]; total: number }>('GET', `${A}/v1/rooms/${u(roomId)}/members`, { token }),
  roomBlock: (token: string, roomId: string) => request<{ block: boolean; user_id?: string }>('GET', `${A}/v1/rooms/${u(roomId)}/block`, { token }),
  setRoomBlock: (token: string, roomId: string, block: boolean) => request<{ block: boolean }>('PUT', `${A}/v1/rooms/${u(roomId)}/block`, { token, body: { block } }),
  deleteRoom: (token: string, roomId: string, body: { block: boolean; purge: boolean; message?: string }) =>
    request<{ delete_id: string }>('DELETE', `${A}/v2/rooms/${u(roomId)}`, { token, body }),
  deleteStatus: (token: string, deleteId: string) => request<RoomDeleteStatus>('GET', `${A}/v2/rooms/delete_status/${u(deleteId)}`, { token }),

  // event reports (event_reports.md)
  reports: (token: string, q: { from: number; limit: number }) => request<EventReportList>('GET', `${A}/v1/event_reports?${qs({ from: q.from, limit: q.limit, dir: 'b' })}`, { token }),
  report: (token: string, id: number) => request<EventReportDetails>('GET', `${A}/v1/event_reports/${id}`, { token }),
  dismissReport: (token: string, id: number) => request<object>('DELETE', `${A}/v1/event_reports/${id}`, { token }),

  // federation (federation.md)
  destinations: (token: string) => request<FederationDestinationList>('GET', `${A}/v1/federation/destinations?${qs({ limit: 100 })}`, { token }),

  /** The server's public signing keys (the spec's /_matrix/key/v2/server; public, no session). */
  serverKeys: () => request<ServerKeys>('GET', '/_matrix/key/v2/server'),
};
