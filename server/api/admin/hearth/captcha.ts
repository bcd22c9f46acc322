/**
 * The GUI's CAPTCHA settings (`/_hearth/api/v1/captcha`), admins only: the reCAPTCHA site key,
 * the secret key (write-only: the answer only says whether one is set), the siteverify URL, and
 * a "test" button that asks reCAPTCHA whether it accepts the secret key.
 */
import { z } from '../../../validation/schema.ts';
import { invalidParam } from '../../../errors.ts';
import { SettingsValidationError } from '../../../services/admin/settings.ts';
import { DEFAULT_SITEVERIFY_URL, type CaptchaService, type CaptchaSettings } from '../../../services/users/captcha.ts';
import { requireAdmin, type TokenResolver } from '../../http/auth.ts';
import type { ApiRouter } from '../../http/router.ts';
import { parseBody } from '../../http/validate.ts';
import type { CaptchaResponse, CaptchaTestResponse } from './types.ts';

export interface CaptchaApiDeps {
  captcha: CaptchaService;
  /** The CAPTCHA settings in effect. */
  effective(): CaptchaSettings;
  /** Stores settings (AdminSettings.update): validates, writes, and makes them current. */
  settings: { update(patch: Record<string, unknown>): Promise<unknown> };
}

const putBody = z.object({
  siteKey: z.string().min(1).max(256).nullable().optional(),
  secretKey: z.string().min(1).max(256).nullable().optional(),
  siteverifyUrl: z.string().url().nullable().optional(),
});

export function register(r: ApiRouter, deps: CaptchaApiDeps, tokens: TokenResolver): void {
  const admin = requireAdmin(tokens);
  const view = (): CaptchaResponse => {
    const s = deps.effective();
    return { siteKey: s.recaptchaSiteKey ?? null, secretKeySet: Boolean(s.recaptchaSecretKey), siteverifyUrl: s.recaptchaSiteverifyUrl ?? DEFAULT_SITEVERIFY_URL };
  };

  r.route('GET', '/_hearth/api/v1/captcha', [admin, (_req, res) => void res.json(view())]);

  r.route('PUT', '/_hearth/api/v1/captcha', [
    admin,
    async (req, res) => {
      const b = parseBody(putBody, req.body);
      const patch: Record<string, unknown> = {};
      if (b.siteKey !== undefined) patch.recaptchaSiteKey = b.siteKey;
      if (b.secretKey !== undefined) patch.recaptchaSecretKey = b.secretKey;
      if (b.siteverifyUrl !== undefined) patch.recaptchaSiteverifyUrl = b.siteverifyUrl;
      try {
        await deps.settings.update(patch);
      } catch (e) {
        if (e instanceof SettingsValidationError) throw invalidParam(e.message);
        throw e;
      }
      res.json(view());
    },
  ]);

  r.route('POST', '/_hearth/api/v1/captcha/test', [admin, async (_req, res) => void res.json((await deps.captcha.testSecret()) satisfies CaptchaTestResponse)]);
}
