/**
 * Server settings the GUI may change (`/_hearth/api/v1/settings`), admins only. Values are stored
 * in the database (services/admin/settings.ts); a flag or the settings file still wins, and the
 * response says which keys they pin. The server name is set once, by setup, and never here.
 */
import { z } from '../../../validation/schema.ts';
import { MatrixError } from '../../../errors.ts';
import { SettingsValidationError } from '../../../services/admin/settings.ts';
import { requireAdmin, type TokenResolver } from '../../http/auth.ts';
import type { ApiRouter } from '../../http/router.ts';
import { parseBody } from '../../http/validate.ts';
import type { AdminApiDeps } from './deps.ts';
import type { SettingsResponse } from './types.ts';

/** Stored, but not through this endpoint. */
const SETUP_ONLY_KEYS = ['serverName'];
/** Write-only: GET says whether they are set, never what they are. */
const SECRET = /secret|token|password/i;

const putBody = z.record(z.string(), z.unknown());

export function register(r: ApiRouter, deps: AdminApiDeps, tokens: TokenResolver): void {
  const admin = requireAdmin(tokens);
  const editable = (): string[] => deps.settings.storedKeys.filter((k) => !SETUP_ONLY_KEYS.includes(k));

  const view = (): SettingsResponse => {
    const keys = editable();
    const stored = deps.settings.getStored();
    const eff = deps.effective();
    const shown = keys.filter((k) => !SECRET.test(k));
    return {
      values: Object.fromEntries(shown.filter((k) => k in stored).map((k) => [k, stored[k]])),
      effective: Object.fromEntries(shown.filter((k) => eff[k] !== undefined).map((k) => [k, eff[k]])),
      secretsSet: keys.filter((k) => SECRET.test(k) && eff[k] !== undefined),
      overridden: deps.overriddenKeys().filter((k) => keys.includes(k)),
      keys,
    };
  };

  r.route('GET', '/_hearth/api/v1/settings', [admin, (_req, res) => void res.json(view())]);

  r.route('PUT', '/_hearth/api/v1/settings', [
    admin,
    async (req, res) => {
      const patch = parseBody(putBody, req.body);
      const refused = Object.keys(patch).filter((k) => !editable().includes(k));
      if (refused.length > 0) {
        throw new MatrixError(400, 'M_INVALID_PARAM', `These cannot be changed here: ${refused.join(', ')}`);
      }
      try {
        await deps.settings.update(patch);
      } catch (e) {
        if (e instanceof SettingsValidationError) throw new MatrixError(400, 'M_INVALID_PARAM', e.message);
        throw e;
      }
      res.json(view());
    },
  ]);
}
