/**
 * The dashboard's facts (`GET /_hearth/api/v1/status`), admins only: running state, addresses
 * (listeners and LAN), counts, disk used by the data folder, and the main choices in effect.
 */
import { diskUsage, lanAddresses } from '../../../services/admin/stats.ts';
import { requireAdmin, type TokenResolver } from '../../http/auth.ts';
import type { ApiRouter } from '../../http/router.ts';
import type { AdminApiDeps } from './deps.ts';
import { boundClientPort, isLoopbackHost } from './setup.ts';
import type { StatusResponse, TlsMode } from './types.ts';

export function register(r: ApiRouter, deps: AdminApiDeps, tokens: TokenResolver): void {
  r.route('GET', '/_hearth/api/v1/status', [
    requireAdmin(tokens),
    async (_req, res) => {
      const eff = deps.effective();
      const urls = deps.urls();
      const stored = deps.settings.getStored();
      const body: StatusResponse = {
        state: deps.state(),
        serverName: eff.serverName,
        addresses: urls,
        publicBaseUrl: eff.publicBaseUrl ?? urls.client,
        lanAddresses: (deps.lanAddresses ?? lanAddresses)(),
        clientPort: boundClientPort(deps),
        clientLoopbackOnly: isLoopbackHost(eff.listen.host),
        counts: { users: deps.accounts().countUsers(), rooms: deps.countRooms() },
        disk: await (deps.diskUsage ?? diskUsage)(eff.dataDir),
        tlsMode: (eff.tlsMode ?? (stored.tlsMode as TlsMode | undefined) ?? 'none'),
        registration: eff.registration,
        federationEnabled: eff.federationEnabled,
        startedTs: deps.startedTs(),
        version: deps.version,
      };
      res.json(body);
    },
  ]);
}
