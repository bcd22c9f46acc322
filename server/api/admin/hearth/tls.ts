/**
 * The GUI's TLS page (`/_hearth/api/v1/tls`), admins only: the mode and its settings, the
 * certificate being served (subject, names, expiry), and the actions — make a new self-signed
 * certificate, import files, request or renew from Let's Encrypt, download the local CA.
 * Secrets (the DNS provider's token) are write-only: the response only says whether one is set.
 */
import { z } from '../../../validation/schema.ts';
import { MatrixError, invalidParam } from '../../../errors.ts';
import { TlsError, type TlsManager } from '../../../services/admin/tls.ts';
import { SettingsValidationError } from '../../../services/admin/settings.ts';
import { requireAdmin, type TokenResolver } from '../../http/auth.ts';
import type { ApiRouter } from '../../http/router.ts';
import { parseBody } from '../../http/validate.ts';
import { DNS_PROVIDERS, TLS_MODES } from '../../../services/admin/status-types.ts';
import type { TlsResponse } from './types.ts';

export interface TlsApiDeps {
  tls: TlsManager;
  /** Stores settings (AdminSettings.update): validates, writes, and makes them current. */
  settings: { update(patch: Record<string, unknown>): Promise<unknown> };
}

const nullable = <T extends z.Schema>(t: T) => t.nullable().optional();

const putBody = z.object({
  mode: z.enum(TLS_MODES),
  selfSignedNames: nullable(z.array(z.string().min(1).max(253)).max(50)),
  trustedProxies: nullable(z.array(z.string().min(1).max(64)).max(50)),
  acme: z
    .object({
      directoryUrl: nullable(z.string().url()),
      email: nullable(z.string().email()),
      domains: nullable(z.array(z.string().min(1).max(253)).max(20)),
      challengePort: nullable(z.number().int().min(1).max(65535)),
      dnsProvider: nullable(z.enum(DNS_PROVIDERS)),
      dnsApiUrl: nullable(z.string().url()),
      dnsZone: nullable(z.string().min(1).max(253)),
      dnsApiToken: nullable(z.string().min(1).max(1024)),
    })
    .optional(),
});

const importBody = z.object({ certificate: z.string().min(1).max(256 * 1024), privateKey: z.string().min(1).max(64 * 1024) });

function view(tls: TlsManager): TlsResponse {
  const s = tls.config();
  return {
    ...tls.status(),
    settings: {
      selfSignedNames: s.tlsSelfSignedNames ?? [],
      trustedProxies: s.trustedProxies ?? [],
      acme: {
        directoryUrl: s.acmeDirectoryUrl ?? null,
        email: s.acmeEmail ?? null,
        domains: s.acmeDomains ?? [],
        challengePort: s.acmeChallengePort ?? null,
        dnsProvider: s.acmeDnsProvider ?? null,
        dnsApiUrl: s.acmeDnsApiUrl ?? null,
        dnsZone: s.acmeDnsZone ?? null,
        dnsApiTokenSet: Boolean(s.acmeDnsApiToken),
        dnsHookCommandSet: Boolean(s.acmeDnsHookCommand),
      },
    },
  };
}

/** TlsError and invalid settings are the admin's to fix: 400 with the message. */
async function adminFixable<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof TlsError || e instanceof SettingsValidationError) throw invalidParam(e.message);
    throw e;
  }
}

export function register(r: ApiRouter, deps: TlsApiDeps, tokens: TokenResolver): void {
  const admin = requireAdmin(tokens);
  const { tls } = deps;

  r.route('GET', '/_hearth/api/v1/tls', [admin, (_req, res) => void res.json(view(tls))]);

  r.route('PUT', '/_hearth/api/v1/tls', [
    admin,
    async (req, res) => {
      const b = parseBody(putBody, req.body);
      if (b.mode === 'files' && !tls.hasFiles()) throw invalidParam('Import a certificate and its key first.');
      const patch: Record<string, unknown> = { tlsMode: b.mode };
      if (b.selfSignedNames !== undefined) patch.tlsSelfSignedNames = b.selfSignedNames;
      if (b.trustedProxies !== undefined) patch.trustedProxies = b.trustedProxies;
      const a = b.acme ?? {};
      const acmeKeys = {
        directoryUrl: 'acmeDirectoryUrl',
        email: 'acmeEmail',
        domains: 'acmeDomains',
        challengePort: 'acmeChallengePort',
        dnsProvider: 'acmeDnsProvider',
        dnsApiUrl: 'acmeDnsApiUrl',
        dnsZone: 'acmeDnsZone',
        dnsApiToken: 'acmeDnsApiToken',
      } as const;
      for (const [k, setting] of Object.entries(acmeKeys)) {
        const v = a[k as keyof typeof a];
        if (v !== undefined) patch[setting] = v;
      }
      await adminFixable(async () => {
        await deps.settings.update(patch);
        await tls.apply();
      });
      res.json(view(tls));
    },
  ]);

  r.route('POST', '/_hearth/api/v1/tls/self-signed', [
    admin,
    async (_req, res) => {
      if (tls.mode !== 'self-signed') throw invalidParam('Choose the self-signed mode first.');
      await adminFixable(() => tls.generateSelfSigned());
      res.json(view(tls));
    },
  ]);

  r.route('POST', '/_hearth/api/v1/tls/import', [
    admin,
    async (req, res) => {
      const b = parseBody(importBody, req.body);
      await adminFixable(async () => {
        tls.importFiles({ certPem: b.certificate, keyPem: b.privateKey });
        await deps.settings.update({ tlsMode: 'files' });
      });
      res.json(view(tls));
    },
  ]);

  r.route('POST', '/_hearth/api/v1/tls/acme/request', [
    admin,
    async (_req, res) => {
      if (tls.mode !== 'acme-http' && tls.mode !== 'acme-dns') throw invalidParam("Choose a Let's Encrypt mode first.");
      try {
        await tls.requestCertificate();
      } catch (e) {
        if (e instanceof TlsError) throw invalidParam(e.message);
        throw new MatrixError(502, 'M_UNKNOWN', `The certificate authority did not issue a certificate: ${(e as Error).message}`);
      }
      res.json(view(tls));
    },
  ]);

  r.route('GET', '/_hearth/api/v1/tls/ca.crt', [
    admin,
    (_req, res) => {
      const pem = tls.caCertificatePem();
      if (!pem) throw new MatrixError(404, 'M_NOT_FOUND', 'There is no Hearth CA: the mode is not self-signed.');
      res.type('application/x-x509-ca-cert').setHeader('Content-Disposition', 'attachment; filename="hearth-ca.crt"');
      res.send(Buffer.from(pem));
    },
  ]);
}
