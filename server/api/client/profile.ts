/**
 * Profiles (client-server profile.yaml): GET /profile/{userId}, and GET/PUT/DELETE
 * /profile/{userId}/{keyName} for displayname, avatar_url, m.tz and custom namespaced fields
 * (v1.16+). Reading needs no access token (the spec lists no security for the GETs).
 */
import type { RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { requester } from '../http/auth.ts';
import { parseBody } from '../http/validate.ts';
import type { ProfileService } from '../../services/users/profile.ts';

export interface ProfileApiDeps {
  auth: RequestHandler;
  profile: Pick<ProfileService, 'getProfile' | 'getField' | 'setField' | 'deleteField'>;
}

const fieldBody = z.record(z.string(), z.unknown());

export function register(r: ApiRouter, deps: ProfileApiDeps): void {
  r.client('GET', '/profile/:userId', [
    async (req, res) => {
      res.json(await deps.profile.getProfile(String(req.params.userId)));
    },
  ]);
  r.client('GET', '/profile/:userId/:keyName', [
    async (req, res) => {
      res.json(await deps.profile.getField(String(req.params.userId), String(req.params.keyName)));
    },
  ]);
  r.client('PUT', '/profile/:userId/:keyName', [
    deps.auth,
    async (req, res) => {
      const body = parseBody(fieldBody, req.body);
      await deps.profile.setField(requester(req).userId, String(req.params.userId), String(req.params.keyName), body);
      res.json({});
    },
  ]);
  r.client('DELETE', '/profile/:userId/:keyName', [
    deps.auth,
    async (req, res) => {
      await deps.profile.deleteField(requester(req).userId, String(req.params.userId), String(req.params.keyName));
      res.json({});
    },
  ]);
}
