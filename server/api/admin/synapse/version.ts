/**
 * `GET /_synapse/admin/v1/server_version` (Synapse docs admin_api/version_api.md): admin tools
 * (synadm, synapse-admin) read it first to see which server they talk to. Synapse answers it
 * without authentication, and so does Hearth.
 */
import type { ApiRouter } from '../../http/router.ts';

export interface VersionApiDeps {
  /** e.g. "Hearth 0.1.0". */
  serverVersion: string;
}

export function register(r: ApiRouter, deps: VersionApiDeps): void {
  r.route('GET', '/_synapse/admin/v1/server_version', [(_req, res) => void res.json({ server_version: deps.serverVersion })]);
}
