/**
 * The federation self-test for the admin GUI (issues 4 and 5): GET
 * /_hearth/api/v1/federation/self-test, admins only, resolves this server's name the way a remote
 * server would and checks the port, the certificate and the key fetch, each result explained in
 * plain words (services/federation/self-test.ts has the answer's shape).
 */
import { MatrixError } from '../../../errors.ts';
import { requireAdmin, type TokenResolver } from '../../http/auth.ts';
import type { ApiRouter } from '../../http/router.ts';
import type { AdminApiDeps } from './deps.ts';

export function register(r: ApiRouter, deps: Pick<AdminApiDeps, 'federationSelfTest'>, tokens: TokenResolver): void {
  r.route('GET', '/_hearth/api/v1/federation/self-test', [
    requireAdmin(tokens),
    async (_req, res) => {
      const selfTest = deps.federationSelfTest?.();
      if (!selfTest) throw new MatrixError(503, 'M_UNKNOWN', 'The self-test is not available until the server is running');
      res.json(await selfTest.run());
    },
  ]);
}
