/**
 * Third-party networks (spec: client-server/third_party_lookup.yaml). Hearth runs no application
 * services, so there are no protocols; clients call this at start-up and expect an empty map.
 */
import type { RequestHandler } from 'express';
import type { ApiRouter } from '../http/router.ts';
import { notFound } from '../../errors.ts';

export function register(r: ApiRouter, deps: { auth: RequestHandler }): void {
  r.client('GET', '/thirdparty/protocols', [deps.auth, (_req, res) => void res.json({})]);
  for (const path of ['/thirdparty/protocol/:protocol', '/thirdparty/location/:protocol', '/thirdparty/user/:protocol']) {
    r.client('GET', path, [
      deps.auth,
      () => {
        throw notFound('No such third-party protocol');
      },
    ]);
  }
  r.client('GET', '/thirdparty/location', [deps.auth, (_req, res) => void res.json([])]);
  r.client('GET', '/thirdparty/user', [deps.auth, (_req, res) => void res.json([])]);
}
