/**
 * TURN credentials for VoIP (spec: client-server/voip.yaml). With coturn's `use-auth-secret`,
 * the username is `<expiry seconds>:<user id>` and the password is base64(HMAC-SHA1(secret, username)),
 * so coturn checks them without asking Hearth. Without TURN settings the answer is `{}`, as Synapse gives.
 */
import { createHmac } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { ApiRouter } from '../http/router.ts';
import { requester } from '../http/auth.ts';

export interface VoipDeps {
  auth: RequestHandler;
  turn(): { uris?: string[]; sharedSecret?: string; lifetimeMs?: number };
  now(): number;
}

export function turnCredentials(secret: string, userId: string, expiresAtMs: number): { username: string; password: string } {
  const username = `${Math.floor(expiresAtMs / 1000)}:${userId}`;
  return { username, password: createHmac('sha1', secret).update(username).digest('base64') };
}

export function register(r: ApiRouter, deps: VoipDeps): void {
  r.client('GET', '/voip/turnServer', [
    deps.auth,
    (req, res) => {
      const t = deps.turn();
      if (!t.uris?.length || !t.sharedSecret) {
        res.json({});
        return;
      }
      const lifetime = t.lifetimeMs ?? 24 * 3600 * 1000;
      const cred = turnCredentials(t.sharedSecret, requester(req).userId, deps.now() + lifetime);
      res.json({ ...cred, uris: t.uris, ttl: Math.floor(lifetime / 1000) });
    },
  ]);
}
