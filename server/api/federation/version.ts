/**
 * GET /_matrix/federation/v1/version (spec: server-server version.yaml): the implementation's
 * name and version. Not authenticated, as in the spec and Synapse.
 */
import type { ApiRouter } from '../http/router.ts';
import { HEARTH_VERSION } from '../../paths.ts';

export const SERVER_SOFTWARE = { name: 'Hearth', version: HEARTH_VERSION };

export function register(r: ApiRouter): void {
  r.route('GET', '/_matrix/federation/v1/version', [
    (_req, res) => {
      res.json({ server: SERVER_SOFTWARE });
    },
  ]);
}
