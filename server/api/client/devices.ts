/**
 * Device management. Spec: client-server/device_management.yaml.
 * Deleting devices needs user-interactive auth with the account's password.
 */
import { z } from '../../validation/schema.ts';
import { notFound } from '../../errors.ts';
import type { DeviceService } from '../../services/users/devices.ts';
import type { TokenService } from '../../services/users/tokens.ts';
import type { UserInteractiveAuth } from '../../services/users/uia.ts';
import { requester, requireAuth } from '../http/auth.ts';
import type { ApiRouter } from '../http/router.ts';
import { parseBody } from '../http/validate.ts';
import { PASSWORD_FLOWS } from './account.ts';

export interface DevicesDeps {
  devices: DeviceService;
  uia: UserInteractiveAuth;
  tokens: TokenService;
}

const authDict = z.looseObject({ type: z.string().optional(), session: z.string().optional() });
const updateBody = z.object({ display_name: z.string().max(1000).nullable().optional() });
const deleteBody = z.object({ auth: authDict.optional() });
const deleteManyBody = z.object({ devices: z.array(z.string()).max(1000), auth: authDict.optional() });

/** Express has already percent-decoded path parameters. */
function deviceParam(raw: string | string[] | undefined): string {
  return Array.isArray(raw) ? raw.join('/') : (raw ?? '');
}

export function register(r: ApiRouter, deps: DevicesDeps): void {
  const auth = requireAuth(deps.tokens);

  r.client('GET', '/devices', [
    auth,
    (req, res) => {
      res.json({ devices: deps.devices.list(requester(req).userId) });
    },
  ]);

  r.client('GET', '/devices/:deviceId', [
    auth,
    (req, res) => {
      const device = deps.devices.get(requester(req).userId, deviceParam(req.params.deviceId));
      if (!device) throw notFound('Device not found');
      res.json(device);
    },
  ]);

  r.client('PUT', '/devices/:deviceId', [
    auth,
    async (req, res) => {
      const body = parseBody(updateBody, req.body);
      const me = requester(req);
      const deviceId = deviceParam(req.params.deviceId);
      // Only application services may create devices here; ordinary clients update existing ones.
      if (body.display_name === undefined) {
        if (!deps.devices.get(me.userId, deviceId)) throw notFound('Device not found');
      } else if (!(await deps.devices.rename(me.userId, deviceId, body.display_name))) {
        throw notFound('Device not found');
      }
      res.json({});
    },
  ]);

  r.client('DELETE', '/devices/:deviceId', [
    auth,
    async (req, res) => {
      const body = parseBody(deleteBody, req.body);
      const me = requester(req);
      const deviceId = deviceParam(req.params.deviceId);
      const session = await deps.uia.authenticate({ op: `delete_devices`, flows: PASSWORD_FLOWS, auth: body.auth, userId: me.userId });
      await deps.devices.delete(me.userId, [deviceId]);
      deps.uia.finish(session);
      res.json({});
    },
  ]);

  r.client('POST', '/delete_devices', [
    auth,
    async (req, res) => {
      const body = parseBody(deleteManyBody, req.body);
      const me = requester(req);
      const session = await deps.uia.authenticate({ op: 'delete_devices', flows: PASSWORD_FLOWS, auth: body.auth, userId: me.userId });
      await deps.devices.delete(me.userId, body.devices);
      deps.uia.finish(session);
      res.json({});
    },
  ]);
}
