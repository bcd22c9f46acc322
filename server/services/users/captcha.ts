/**
 * The `m.login.recaptcha` user-interactive auth stage (client-server spec, "Google ReCaptcha"
 * authentication type, and "Fallback") with server-side verification against reCAPTCHA's
 * `siteverify` API, whose URL is a setting so tests use a local fake. Registration mode
 * 'captcha' offers the stage (registration.ts); clients either send `{type, response}` from
 * their own widget or open the fallback page (api/client/captcha-fallback.ts), which completes
 * the stage on the session so the client can retry with just the session id.
 */
import { MatrixError } from '../../errors.ts';
import type { StageHandler, UiaFlow, UserInteractiveAuth } from './uia.ts';

export const RECAPTCHA_STAGE = 'm.login.recaptcha';
export const DEFAULT_SITEVERIFY_URL = 'https://www.google.com/recaptcha/api/siteverify';
/** The operation the fallback completes the stage for: only registration offers a CAPTCHA. */
const FALLBACK_OP = 'register';
const FALLBACK_FLOWS: UiaFlow[] = [{ stages: [RECAPTCHA_STAGE] }];
const VERIFY_TIMEOUT_MS = 10_000;

export interface CaptchaSettings {
  recaptchaSiteKey?: string;
  recaptchaSecretKey?: string;
  recaptchaSiteverifyUrl?: string;
}

export interface SiteverifyResult {
  success: boolean;
  /** reCAPTCHA's error codes, e.g. invalid-input-secret, invalid-input-response, timeout-or-duplicate. */
  errorCodes: string[];
  hostname?: string;
}

export interface CaptchaServiceOptions {
  settings: () => CaptchaSettings;
  log?: { warn(m: string, f?: Record<string, unknown>): void };
}

export class CaptchaService {
  constructor(private readonly o: CaptchaServiceOptions) {}

  get siteKey(): string | undefined {
    return this.o.settings().recaptchaSiteKey;
  }

  configured(): boolean {
    const s = this.o.settings();
    return Boolean(s.recaptchaSiteKey && s.recaptchaSecretKey);
  }

  /** Asks siteverify about a widget's response token. Network problems throw. */
  async verify(response: string): Promise<SiteverifyResult> {
    const s = this.o.settings();
    if (!s.recaptchaSecretKey) throw new MatrixError(401, 'M_UNAUTHORIZED', 'CAPTCHA is not set up on this server yet; ask the admin.');
    const form = new URLSearchParams({ secret: s.recaptchaSecretKey, response });
    const res = await fetch(s.recaptchaSiteverifyUrl ?? DEFAULT_SITEVERIFY_URL, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form,
      signal: AbortSignal.timeout(VERIFY_TIMEOUT_MS),
    });
    if (!res.ok) throw new Error(`siteverify answered HTTP ${res.status}`);
    const body = (await res.json()) as { success?: unknown; 'error-codes'?: unknown; hostname?: unknown };
    return {
      success: body.success === true,
      errorCodes: Array.isArray(body['error-codes']) ? body['error-codes'].filter((c): c is string => typeof c === 'string') : [],
      hostname: typeof body.hostname === 'string' ? body.hostname : undefined,
    };
  }

  /**
   * The admin's "test" button: a dummy response is always refused, but reCAPTCHA says why, and
   * `invalid-input-secret` means the secret key itself is wrong.
   */
  async testSecret(): Promise<{ ok: boolean; message: string }> {
    if (!this.configured()) return { ok: false, message: 'Enter both the site key and the secret key.' };
    try {
      const r = await this.verify('hearth-configuration-test');
      if (r.errorCodes.includes('invalid-input-secret') || r.errorCodes.includes('missing-input-secret')) {
        return { ok: false, message: 'reCAPTCHA does not accept this secret key.' };
      }
      return { ok: true, message: 'reCAPTCHA accepted the secret key.' };
    } catch (e) {
      return { ok: false, message: `Could not reach reCAPTCHA: ${(e as Error).message}` };
    }
  }

  /** The UIA stage: `{type: "m.login.recaptcha", response}`. */
  stage(): StageHandler {
    return {
      check: async (auth) => {
        if (typeof auth.response !== 'string' || auth.response.length === 0 || auth.response.length > 8192) {
          throw new MatrixError(401, 'M_UNAUTHORIZED', 'auth.response must be the CAPTCHA response');
        }
        let result: SiteverifyResult;
        try {
          result = await this.verify(auth.response);
        } catch (e) {
          if (e instanceof MatrixError) throw e;
          this.o.log?.warn('CAPTCHA verification failed', { error: (e as Error).message });
          throw new MatrixError(401, 'M_UNAUTHORIZED', 'The CAPTCHA could not be checked right now; try again.');
        }
        if (!result.success) throw new MatrixError(401, 'M_UNAUTHORIZED', 'The CAPTCHA was not solved; try again.');
        return true;
      },
      params: () => {
        const key = this.siteKey;
        return key ? { public_key: key } : undefined;
      },
    };
  }

  /** Registers the stage on the server's user-interactive auth. */
  attach(uia: UserInteractiveAuth): void {
    uia.registerStage(RECAPTCHA_STAGE, this.stage());
  }

  /**
   * The fallback page's POST: completes the stage on `session` (a registration session) with the
   * widget's response. Returns undefined on success, or the message to show on the page.
   */
  async completeFallback(uia: UserInteractiveAuth, session: string, response: string): Promise<string | undefined> {
    try {
      await uia.authenticate({ op: FALLBACK_OP, flows: FALLBACK_FLOWS, auth: { type: RECAPTCHA_STAGE, session, response } });
      return undefined;
    } catch (e) {
      if (!(e instanceof MatrixError)) throw e;
      // A plain 401 challenge after the stage passed means other stages remain: still done here.
      const completed = e.extra.completed;
      if (e.status === 401 && Array.isArray(completed) && completed.includes(RECAPTCHA_STAGE)) return undefined;
      return e.status === 400 ? 'This sign-up session has expired. Go back to your app and start again.' : e.message;
    }
  }
}
