/**
 * End-to-end encryption keys of local users for other servers (spec: server-server
 * user_devices.yaml and user_keys.yaml): GET /user/devices/{userId}, POST /user/keys/query and
 * POST /user/keys/claim. Users of other servers in a request are ignored (each server answers
 * for its own). The user-signing key is never returned over federation.
 */
import type { RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { parseBody } from '../http/validate.ts';
import { MatrixError } from '../../errors.ts';
import { isValidUserId, userIdServerName } from '../../core/ids.ts';
import type { DeviceKeysService } from '../../services/e2ee/device-keys.ts';

const MAX_USERS = 1000;
const queryBody = z.object({ device_keys: z.record(z.string(), z.array(z.string())) });
const claimBody = z.object({ one_time_keys: z.record(z.string(), z.record(z.string(), z.string())) });

export interface UserKeysApiDeps {
  fed: RequestHandler;
  serverName: string;
  deviceKeys: Pick<DeviceKeysService, 'query' | 'claim'>;
  devices: { listDevices(userId: string): { deviceId: string; displayName: string | null }[] };
  /** The user's device list version (stream_id): the last m.device_list_update sent for them, so
   * a server that fetched the list can apply the next update (its prev_id) without a resync. */
  deviceListStreamId: (userId: string) => number;
}

/** Nobody: signatures made by a particular viewer (user-signing keys) are not for other servers. */
const NO_VIEWER = '';

export function register(r: ApiRouter, deps: UserKeysApiDeps): void {
  const local = <T>(wanted: Record<string, T>): Record<string, T> => {
    const entries = Object.entries(wanted);
    if (entries.length > MAX_USERS) throw new MatrixError(400, 'M_LIMIT_EXCEEDED', `At most ${MAX_USERS} users per request`);
    return Object.fromEntries(entries.filter(([u]) => isValidUserId(u) && userIdServerName(u) === deps.serverName));
  };

  r.route('GET', '/_matrix/federation/v1/user/devices/:userId', [
    deps.fed,
    (req, res) => {
      const userId = String(req.params.userId ?? '');
      if (!isValidUserId(userId)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid user id');
      if (userIdServerName(userId) !== deps.serverName) throw new MatrixError(404, 'M_NOT_FOUND', 'User is not hosted on this server');
      const keys = deps.deviceKeys.query(NO_VIEWER, { [userId]: [] });
      const withKeys = keys.device_keys[userId] ?? {};
      const devices = deps.devices.listDevices(userId).map((d) => {
        const entry: Record<string, unknown> = { device_id: d.deviceId };
        const k = withKeys[d.deviceId];
        if (k) {
          const { unsigned: _u, ...rest } = k;
          entry.keys = rest;
        }
        if (d.displayName) entry.device_display_name = d.displayName;
        return entry;
      });
      const out: Record<string, unknown> = { user_id: userId, stream_id: deps.deviceListStreamId(userId), devices };
      if (keys.master_keys[userId]) out.master_key = keys.master_keys[userId];
      if (keys.self_signing_keys[userId]) out.self_signing_key = keys.self_signing_keys[userId];
      res.json(out);
    },
  ]);

  r.route('POST', '/_matrix/federation/v1/user/keys/query', [
    deps.fed,
    (req, res) => {
      const body = parseBody(queryBody, req.body);
      const result = deps.deviceKeys.query(NO_VIEWER, local(body.device_keys));
      res.json({ device_keys: result.device_keys, master_keys: result.master_keys, self_signing_keys: result.self_signing_keys });
    },
  ]);

  r.route('POST', '/_matrix/federation/v1/user/keys/claim', [
    deps.fed,
    async (req, res) => {
      const body = parseBody(claimBody, req.body);
      const result = await deps.deviceKeys.claim(local(body.one_time_keys));
      res.json({ one_time_keys: result.one_time_keys });
    },
  ]);
}
