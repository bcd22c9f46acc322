/**
 * Server keys and discovery (spec: server-server keys_server.yaml, keys_query.yaml,
 * wellknown.yaml): our signed key response at GET /_matrix/key/v2/server, the notary endpoints
 * GET/POST /_matrix/key/v2/query (answers re-signed by us, the origin's signatures kept), and
 * /.well-known/matrix/server when delegation is configured. None of these is X-Matrix signed.
 */
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { parseBody, parseQuery } from '../http/validate.ts';
import { notFound, invalidParam } from '../../errors.ts';
import { signJson } from '../../core/crypto/signing.ts';
import type { Ed25519SigningKey } from '../../core/crypto/ed25519.ts';
import { isValidServerName } from '../../core/ids.ts';
import type { OwnServerKeys } from '../../services/federation/server-keys.ts';
import type { KeyFetcher } from '../../services/federation/key-fetcher.ts';
import { ownWellKnown, WELL_KNOWN_PATH } from '../../services/federation/well-known.ts';

/** More servers than this in one notary query is refused (each may cost an outbound fetch). */
const MAX_NOTARY_SERVERS = 100;

const criteria = z.object({ minimum_valid_until_ts: z.number().int().optional() });
const queryBody = z.object({
  server_keys: z.record(z.string(), z.record(z.string(), criteria)),
});
const getQuery = z.object({ minimum_valid_until_ts: z.string().regex(/^\d{1,16}$/).transform(Number).optional() });

export interface ServerKeysApiDeps {
  serverName: string;
  ownKeys: OwnServerKeys;
  keys: KeyFetcher;
  signingKey: Ed25519SigningKey;
  wellKnownServer: () => string | undefined;
}

export function register(r: ApiRouter, deps: ServerKeysApiDeps): void {
  r.route('GET', ['/_matrix/key/v2/server', '/_matrix/key/v2/server/:keyId'], [
    (_req, res) => {
      res.json(deps.ownKeys.keyResponse());
    },
  ]);

  // Each answer keeps the origin's signature and gets ours (keys_query.yaml).
  const notarise = async (servers: [string, number][]): Promise<{ server_keys: Record<string, unknown>[] }> => {
    const out: Record<string, unknown>[] = [];
    const answers = await Promise.all(servers.map(([name, minTs]) => deps.keys.notaryResponses(name, minTs)));
    for (const list of answers) for (const resp of list) out.push(signJson(resp, deps.serverName, deps.signingKey));
    return { server_keys: out };
  };

  r.route('POST', '/_matrix/key/v2/query', [
    async (req, res) => {
      const body = parseBody(queryBody, req.body);
      const entries = Object.entries(body.server_keys);
      if (entries.length > MAX_NOTARY_SERVERS) throw invalidParam(`At most ${MAX_NOTARY_SERVERS} servers per query`);
      const servers = entries
        .filter(([name]) => isValidServerName(name))
        .map(([name, keys]): [string, number] => [name, Math.max(0, ...Object.values(keys).map((c) => c.minimum_valid_until_ts ?? 0))]);
      res.json(await notarise(servers));
    },
  ]);

  r.route('GET', '/_matrix/key/v2/query/:serverName', [
    async (req, res) => {
      const serverName = String(req.params.serverName ?? '');
      if (!isValidServerName(serverName)) throw invalidParam('Invalid server name');
      const q = parseQuery(getQuery, req.query);
      res.json(await notarise([[serverName, q.minimum_valid_until_ts ?? 0]]));
    },
  ]);

  r.route('GET', WELL_KNOWN_PATH, [
    (_req, res) => {
      const body = ownWellKnown(deps.wellKnownServer());
      if (!body) throw notFound('No server delegation configured');
      res.json(body);
    },
  ]);
}
