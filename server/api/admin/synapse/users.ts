/**
 * Synapse's user admin API (Synapse docs admin_api/user_admin_api.md) under /_synapse/admin:
 * v2/users (list), v2/users/{userId} (query, create or modify), v1/deactivate, v1/reset_password,
 * v1/whois (also the spec's client-server admin.yaml `GET /admin/whois/{userId}`), v2 devices,
 * v1/users/{userId}/admin, v1/users/{userId}/joined_rooms and v1/username_available.
 * Admins only; the request and response shapes are Synapse's, so synadm and synapse-admin work.
 */
import type { Request } from 'express';
import { z } from '../../../validation/schema.ts';
import { forbidden } from '../../../errors.ts';
import { USER_ORDERS, type AdminUserRow, type DeviceRecord, type SynapseUsersAdmin } from '../../../services/admin/synapse-users.ts';
import { requester, requireAdmin, requireAuth, type TokenResolver } from '../../http/auth.ts';
import type { ApiRouter } from '../../http/router.ts';
import { parseBody, parseQuery, repeatedParam } from '../../http/validate.ts';
import { boolParam, dirParam, limitParam, nextToken, offsetParam } from './params.ts';

export interface UsersAdminApiDeps {
  tokens: TokenResolver;
  users: SynapseUsersAdmin;
}

const A = '/_synapse/admin';

const listQuery = z.object({
  from: offsetParam,
  limit: limitParam(),
  user_id: z.string().optional(),
  name: z.string().optional(),
  guests: boolParam.default(true),
  admins: boolParam.optional(),
  deactivated: boolParam.default(false),
  order_by: z.enum(USER_ORDERS).default('name'),
  dir: dirParam.default('f'),
  not_user_type: repeatedParam.optional(),
});

const upsertBody = z.object({
  password: z.string().optional(),
  logout_devices: z.boolean().optional(),
  displayname: z.string().max(256).optional(),
  avatar_url: z.string().optional(),
  // Accepted for compatibility and ignored: Hearth keeps no third-party ids or SSO mappings.
  threepids: z.array(z.unknown()).optional(),
  external_ids: z.array(z.unknown()).optional(),
  admin: z.boolean().optional(),
  deactivated: z.boolean().optional(),
  user_type: z.string().nullable().optional(),
  locked: z.boolean().optional(),
});

const deactivateBody = z.object({ erase: z.boolean().optional() });
const resetPasswordBody = z.object({ new_password: z.string(), logout_devices: z.boolean().optional() });
const adminBody = z.object({ admin: z.boolean() });
const deviceBody = z.object({ display_name: z.string().optional() });
const deleteDevicesBody = z.object({ devices: z.array(z.string()) });
const usernameQuery = z.object({ username: z.string() });

/** An entry of the v2 users list (creation_ts in ms, as Synapse lists it). */
function listEntry(u: AdminUserRow): Record<string, unknown> {
  return {
    name: u.userId,
    is_guest: u.isGuest,
    admin: u.isAdmin,
    user_type: u.userType,
    deactivated: u.deactivated,
    erased: u.erased,
    shadow_banned: false,
    displayname: u.displayname,
    avatar_url: u.avatarUrl,
    creation_ts: u.createdTs,
    last_seen_ts: u.lastSeenTs,
    locked: false,
  };
}

/** The "Query User Account" body (creation_ts in seconds, as Synapse stores it). */
function userDetails(u: AdminUserRow): Record<string, unknown> {
  return {
    name: u.userId,
    displayname: u.displayname,
    threepids: [],
    avatar_url: u.avatarUrl,
    is_guest: u.isGuest,
    admin: u.isAdmin,
    deactivated: u.deactivated,
    erased: u.erased,
    shadow_banned: false,
    creation_ts: Math.floor(u.createdTs / 1000),
    last_seen_ts: u.lastSeenTs,
    appservice_id: null,
    consent_server_notice_sent: null,
    consent_version: null,
    consent_ts: null,
    external_ids: [],
    user_type: u.userType,
    locked: false,
    suspended: false,
  };
}

function device(d: DeviceRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { device_id: d.deviceId };
  if (d.displayName !== null) out.display_name = d.displayName;
  out.last_seen_ip = d.lastSeenIp;
  out.last_seen_user_agent = d.lastSeenUserAgent;
  out.last_seen_ts = d.lastSeenTs;
  out.user_id = d.userId;
  out.dehydrated = false;
  return out;
}

/** Synapse's whois: per device, its sessions' connections. */
function whois(userId: string, devices: DeviceRecord[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const d of devices) {
    const connections = d.lastSeenTs !== null ? [{ ip: d.lastSeenIp, last_seen: d.lastSeenTs, user_agent: d.lastSeenUserAgent }] : [];
    out[d.deviceId] = { sessions: [{ connections }] };
  }
  return { user_id: userId, devices: out };
}

const userIdOf = (req: Request): string => String(req.params.userId);

export function register(r: ApiRouter, deps: UsersAdminApiDeps): void {
  const admin = requireAdmin(deps.tokens);
  const { users } = deps;

  r.route('GET', `${A}/v2/users`, [
    admin,
    (req, res) => {
      const q = parseQuery(listQuery, req.query);
      const page = users.list({
        from: q.from,
        limit: q.limit,
        userId: q.user_id,
        name: q.name,
        includeGuests: q.guests,
        includeDeactivated: q.deactivated,
        admins: q.admins,
        notUserTypes: q.not_user_type,
        orderBy: q.order_by,
        dir: q.dir,
      });
      const body: Record<string, unknown> = { users: page.users.map(listEntry), total: page.total };
      const next = nextToken(q.from, page.users.length, page.total);
      if (next !== undefined) body.next_token = String(next);
      res.json(body);
    },
  ]);

  r.route('GET', `${A}/v2/users/:userId`, [admin, (req, res) => void res.json(userDetails(users.get(userIdOf(req))))]);

  r.route('PUT', `${A}/v2/users/:userId`, [
    admin,
    async (req, res) => {
      const b = parseBody(upsertBody, req.body);
      const { created, user } = await users.upsert(requester(req).userId, userIdOf(req), {
        password: b.password,
        logoutDevices: b.logout_devices ?? true,
        displayname: b.displayname,
        avatarUrl: b.avatar_url,
        admin: b.admin,
        deactivated: b.deactivated,
        userType: b.user_type,
      });
      res.status(created ? 201 : 200).json(userDetails(user));
    },
  ]);

  r.route('POST', `${A}/v1/deactivate/:userId`, [
    admin,
    async (req, res) => {
      const b = parseBody(deactivateBody, req.body);
      await users.deactivate(userIdOf(req), b.erase ?? false);
      res.json({ id_server_unbind_result: 'success' });
    },
  ]);

  r.route('POST', `${A}/v1/reset_password/:userId`, [
    admin,
    async (req, res) => {
      const b = parseBody(resetPasswordBody, req.body);
      await users.resetPassword(userIdOf(req), b.new_password, b.logout_devices ?? true);
      res.json({});
    },
  ]);

  r.route('GET', `${A}/v1/whois/:userId`, [admin, (req, res) => void res.json(whois(userIdOf(req), users.devices(userIdOf(req))))]);
  // The spec's variant (client-server admin.yaml): an admin, or the user asking about themselves.
  r.client('GET', '/admin/whois/:userId', [
    requireAuth(deps.tokens),
    (req, res) => {
      const me = requester(req);
      if (!me.isAdmin && me.userId !== userIdOf(req)) throw forbidden('You are not a server admin');
      res.json(whois(userIdOf(req), users.devices(userIdOf(req))));
    },
  ]);

  r.route('GET', `${A}/v2/users/:userId/devices`, [
    admin,
    (req, res) => {
      const list = users.devices(userIdOf(req)).map(device);
      res.json({ devices: list, total: list.length });
    },
  ]);
  r.route('GET', `${A}/v2/users/:userId/devices/:deviceId`, [
    admin,
    (req, res) => void res.json(device(users.device(userIdOf(req), String(req.params.deviceId)))),
  ]);
  r.route('PUT', `${A}/v2/users/:userId/devices/:deviceId`, [
    admin,
    async (req, res) => {
      const b = parseBody(deviceBody, req.body);
      await users.renameDevice(userIdOf(req), String(req.params.deviceId), b.display_name);
      res.json({});
    },
  ]);
  r.route('DELETE', `${A}/v2/users/:userId/devices/:deviceId`, [
    admin,
    async (req, res) => {
      await users.deleteDevices(userIdOf(req), [String(req.params.deviceId)]);
      res.json({});
    },
  ]);
  r.route('POST', `${A}/v2/users/:userId/delete_devices`, [
    admin,
    async (req, res) => {
      const b = parseBody(deleteDevicesBody, req.body);
      await users.deleteDevices(userIdOf(req), b.devices);
      res.json({});
    },
  ]);

  r.route('GET', `${A}/v1/users/:userId/admin`, [admin, (req, res) => void res.json({ admin: users.isAdmin(userIdOf(req)) })]);
  r.route('PUT', `${A}/v1/users/:userId/admin`, [
    admin,
    async (req, res) => {
      const b = parseBody(adminBody, req.body);
      await users.setAdmin(requester(req).userId, userIdOf(req), b.admin);
      res.json({});
    },
  ]);

  r.route('GET', `${A}/v1/users/:userId/joined_rooms`, [
    admin,
    (req, res) => {
      const rooms = users.joinedRooms(userIdOf(req));
      res.json({ joined_rooms: rooms, total: rooms.length });
    },
  ]);

  r.route('GET', `${A}/v1/username_available`, [
    admin,
    (req, res) => void res.json(users.usernameAvailable(parseQuery(usernameQuery, req.query).username)),
  ]);
}
