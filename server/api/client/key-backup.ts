/**
 * Server-side key backups (spec: client-server key_backup.yaml): /room_keys/version[/{version}]
 * and /room_keys/keys[/{roomId}[/{sessionId}]] with the `version` query parameter.
 */
import type { Request, RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { requester } from '../http/auth.ts';
import { parseBody } from '../http/validate.ts';
import { missingParam } from '../../errors.ts';
import type { BackupKey, KeyBackupService } from '../../services/e2ee/key-backup.ts';

const authData = z.record(z.string(), z.unknown());

const createBody = z.object({ algorithm: z.string().min(1), auth_data: authData });
const updateBody = z.object({ algorithm: z.string().min(1), auth_data: authData, version: z.string().optional() });

const keyData = z.object({
  first_message_index: z.number().int().min(0),
  forwarded_count: z.number().int().min(0),
  is_verified: z.boolean(),
  session_data: z.record(z.string(), z.unknown()),
});
const roomBackup = z.object({ sessions: z.record(z.string(), keyData) });
const allBackup = z.object({ rooms: z.record(z.string(), roomBackup) });

/** The required `version` query parameter. */
function versionOf(req: Request): string {
  const v = req.query.version;
  if (typeof v !== 'string' || v === '') throw missingParam('Missing parameter: version');
  return v;
}

function param(req: Request, name: string): string {
  return (req.params as Record<string, string>)[name]!;
}

function flatten(rooms: Record<string, z.infer<typeof roomBackup>>): BackupKey[] {
  const out: BackupKey[] = [];
  for (const [roomId, room] of Object.entries(rooms)) {
    for (const [sessionId, data] of Object.entries(room.sessions)) out.push({ roomId, sessionId, data });
  }
  return out;
}

export function register(r: ApiRouter, deps: { auth: RequestHandler; keyBackup: KeyBackupService }): void {
  const kb = deps.keyBackup;

  r.client('POST', '/room_keys/version', [
    deps.auth,
    async (req, res) => {
      const b = parseBody(createBody, req.body);
      res.json(await kb.create(requester(req).userId, b.algorithm, b.auth_data));
    },
  ]);
  r.client('GET', '/room_keys/version', [deps.auth, (req, res) => void res.json(kb.info(requester(req).userId))]);
  r.client('GET', '/room_keys/version/:version', [deps.auth, (req, res) => void res.json(kb.info(requester(req).userId, param(req, 'version')))]);
  r.client('PUT', '/room_keys/version/:version', [
    deps.auth,
    async (req, res) => {
      const b = parseBody(updateBody, req.body);
      await kb.update(requester(req).userId, param(req, 'version'), b);
      res.json({});
    },
  ]);
  r.client('DELETE', '/room_keys/version/:version', [
    deps.auth,
    async (req, res) => {
      await kb.delete(requester(req).userId, param(req, 'version'));
      res.json({});
    },
  ]);

  // ---- keys ----
  r.client('PUT', '/room_keys/keys', [
    deps.auth,
    async (req, res) => {
      const b = parseBody(allBackup, req.body);
      res.json(await kb.putKeys(requester(req).userId, versionOf(req), flatten(b.rooms)));
    },
  ]);
  r.client('PUT', '/room_keys/keys/:roomId', [
    deps.auth,
    async (req, res) => {
      const b = parseBody(roomBackup, req.body);
      res.json(await kb.putKeys(requester(req).userId, versionOf(req), flatten({ [param(req, 'roomId')]: b })));
    },
  ]);
  r.client('PUT', '/room_keys/keys/:roomId/:sessionId', [
    deps.auth,
    async (req, res) => {
      const data = parseBody(keyData, req.body);
      res.json(await kb.putKeys(requester(req).userId, versionOf(req), [{ roomId: param(req, 'roomId'), sessionId: param(req, 'sessionId'), data }]));
    },
  ]);

  r.client('GET', '/room_keys/keys', [
    deps.auth,
    (req, res) => void res.json({ rooms: kb.getKeys(requester(req).userId, versionOf(req)) }),
  ]);
  r.client('GET', '/room_keys/keys/:roomId', [
    deps.auth,
    (req, res) => {
      const roomId = param(req, 'roomId');
      const rooms = kb.getKeys(requester(req).userId, versionOf(req), roomId);
      res.json(rooms[roomId] ?? { sessions: {} });
    },
  ]);
  r.client('GET', '/room_keys/keys/:roomId/:sessionId', [
    deps.auth,
    (req, res) => void res.json(kb.getKey(requester(req).userId, versionOf(req), param(req, 'roomId'), param(req, 'sessionId'))),
  ]);

  r.client('DELETE', '/room_keys/keys', [
    deps.auth,
    async (req, res) => void res.json(await kb.deleteKeys(requester(req).userId, versionOf(req))),
  ]);
  r.client('DELETE', '/room_keys/keys/:roomId', [
    deps.auth,
    async (req, res) => void res.json(await kb.deleteKeys(requester(req).userId, versionOf(req), param(req, 'roomId'))),
  ]);
  r.client('DELETE', '/room_keys/keys/:roomId/:sessionId', [
    deps.auth,
    async (req, res) => void res.json(await kb.deleteKeys(requester(req).userId, versionOf(req), param(req, 'roomId'), param(req, 'sessionId'))),
  ]);
}
