/**
 * The reCAPTCHA fallback web page (client-server spec, "Fallback"):
 * `GET /_matrix/client/v3/auth/m.login.recaptcha/fallback/web?session=…` shows the widget;
 * the page POSTs the widget's response back to the same URL, the server checks it with
 * siteverify and completes the stage on the session, and the success page tells the client
 * (`window.onAuthDone()` or `postMessage("authDone")`) to retry with just the session id.
 */
import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { z } from '../../validation/schema.ts';
import { tooLarge } from '../../errors.ts';
import type { CaptchaService } from '../../services/users/captcha.ts';
import type { UserInteractiveAuth } from '../../services/users/uia.ts';
import type { ApiRouter } from '../http/router.ts';
import { parseQuery } from '../http/validate.ts';

export interface CaptchaFallbackDeps {
  captcha: CaptchaService;
  uia: UserInteractiveAuth;
}

const PATH = '/auth/m.login.recaptcha/fallback/web';
const MAX_FORM_BYTES = 16 * 1024;
const sessionQuery = z.object({ session: z.string().min(1).max(255) });
const form = z.object({ session: z.string().min(1).max(255), 'g-recaptcha-response': z.string().max(8192).optional() });

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(res: Response, status: number, title: string, body: string, nonce: string, scripts = ''): void {
  res.setHeader(
    'Content-Security-Policy',
    `default-src 'none'; script-src 'nonce-${nonce}' https://www.google.com/recaptcha/ https://www.gstatic.com/recaptcha/; ` +
      "frame-src https://www.google.com/recaptcha/ https://recaptcha.google.com/recaptcha/; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'",
  );
  res.setHeader('Cache-Control', 'no-store');
  res.status(status).type('html').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#222}
button{font-size:1rem;padding:.6rem 1.2rem;margin-top:1rem;border-radius:.4rem;border:0;background:#2b6cb0;color:#fff;cursor:pointer}
.error{color:#b00020}</style>${scripts}</head>
<body>${body}</body></html>`);
}

function showForm(res: Response, session: string, siteKey: string | undefined, error?: string): void {
  const nonce = randomBytes(16).toString('base64');
  if (!siteKey) {
    page(res, 200, 'CAPTCHA', '<h1>Not available</h1><p>This server has not set up its CAPTCHA yet. Ask the person who runs it.</p>', nonce);
    return;
  }
  const script = `<script nonce="${nonce}" src="https://www.google.com/recaptcha/api.js" async defer></script>`;
  page(
    res,
    error ? 400 : 200,
    'Prove you are not a robot',
    `<h1>One more step</h1><p>Tick the box below to finish creating your account.</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="">
<input type="hidden" name="session" value="${escapeHtml(session)}">
<div class="g-recaptcha" data-sitekey="${escapeHtml(siteKey)}"></div>
<button type="submit">Continue</button>
</form>`,
    nonce,
    script,
  );
}

async function readForm(req: Request): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_FORM_BYTES) throw tooLarge('Form too large');
    chunks.push(c);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export function register(r: ApiRouter, deps: CaptchaFallbackDeps): void {
  r.client('GET', PATH, (req, res) => {
    const { session } = parseQuery(sessionQuery, req.query);
    showForm(res, session, deps.captcha.siteKey);
  });

  r.client(
    'POST',
    PATH,
    async (req, res) => {
      const fields = Object.fromEntries(await readForm(req));
      const session = typeof req.query.session === 'string' ? req.query.session : fields.session;
      const parsed = form.safeParse({ ...fields, session });
      if (!parsed.success) {
        page(res, 400, 'CAPTCHA', '<h1>Something went wrong</h1><p>Go back to your app and start again.</p>', randomBytes(16).toString('base64'));
        return;
      }
      const response = parsed.data['g-recaptcha-response'];
      if (!response) {
        showForm(res, parsed.data.session, deps.captcha.siteKey, 'Tick the box first.');
        return;
      }
      const problem = await deps.captcha.completeFallback(deps.uia, parsed.data.session, response);
      if (problem !== undefined) {
        showForm(res, parsed.data.session, deps.captcha.siteKey, problem);
        return;
      }
      const nonce = randomBytes(16).toString('base64');
      page(
        res,
        200,
        'Done',
        `<h1>Thank you</h1><p>You can go back to your app now.</p>
<script nonce="${nonce}">
if (window.onAuthDone) { window.onAuthDone(); }
else if (window.opener && window.opener.postMessage) { window.opener.postMessage("authDone", "*"); }
</script>`,
        nonce,
      );
    },
    { rawBody: true },
  );
}
