/**
 * TLS modes without an ACME server (services/admin/tls.ts): a self-signed certificate from
 * Hearth's local CA is served by the TLS listener and verifies against that CA (downloadable on
 * the client listener for phones); regenerating and importing swap the certificate on the
 * running listener; imported files are checked; 'proxy' mode trusts only configured addresses.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer } from './harness.ts';
import { createApp } from '../api/http/app.ts';
import { createLogger } from '../logger.ts';
import * as tlsApi from '../api/admin/hearth/tls.ts';
import { TlsError, TlsManager, createCertificateAuthority, issueServerCertificate, type TlsSettings } from '../services/admin/tls.ts';

const quiet = { info() {}, warn() {}, error() {} };

/** Connects with full verification against `ca` (or none) and returns the peer certificate. */
function peer(port: number, servername: string, ca?: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const sock = tlsConnect({ host: '127.0.0.1', port, servername, ca, rejectUnauthorized: ca !== undefined }, () => {
      const c = sock.getPeerCertificate();
      sock.end();
      resolve(c);
    });
    sock.once('error', reject);
  });
}

describe('TLS', () => {
  it('self-signed: the TLS listener serves a certificate that verifies against the downloadable CA; regenerating swaps it live', async () => {
    const srv = await startTestServer({ federationListen: { host: '127.0.0.1', port: 0 }, tlsMode: 'self-signed', tlsSelfSignedNames: ['hearth.home'] });
    try {
      const tls = srv.hs.adminTools!.tls;
      const port = Number(new URL(srv.hs.urls.federation!).port);
      const download = await fetch(`${srv.url}/_hearth/ca.crt`);
      assert.equal(download.status, 200);
      assert.equal(download.headers.get('content-type'), 'application/x-x509-ca-cert');
      const ca = await download.text();
      assert.match(ca, /^-----BEGIN CERTIFICATE-----/);

      const status = tls.status();
      assert.equal(status.mode, 'self-signed');
      assert.ok(status.certificate!.names.includes('localhost'));
      assert.ok(status.certificate!.names.includes('hearth.home'));
      assert.ok(status.caCertificate!.subject.includes('Hearth CA'));

      // Full verification (chain and host name) against the CA a phone would install.
      const first = await peer(port, 'hearth.home', ca);
      assert.equal(first.serialNumber.toUpperCase(), status.certificate!.serialNumber.toUpperCase());
      const res = await fetch(`${srv.url}/_matrix/client/versions`);
      assert.equal(res.status, 200);

      const regenerated = await tls.generateSelfSigned();
      const second = await peer(port, 'localhost', ca);
      assert.notEqual(second.serialNumber, first.serialNumber);
      assert.equal(second.serialNumber.toUpperCase(), regenerated.serialNumber.toUpperCase());
      // Same CA: the phone keeps trusting the server after a regeneration.
      assert.equal(await (await fetch(`${srv.url}/_hearth/ca.crt`)).text(), ca);
    } finally {
      await srv.close();
    }
  });

  it('the CA download is not there unless the mode is self-signed', async () => {
    const srv = await startTestServer({});
    try {
      assert.equal((await fetch(`${srv.url}/_hearth/ca.crt`)).status, 404);
      assert.equal(srv.hs.adminTools!.tls.status().mode, 'none');
      assert.equal(srv.hs.adminTools!.tls.status().certificate, null);
    } finally {
      await srv.close();
    }
  });

  it('imported files are checked, then served without a restart', async () => {
    const ca = await createCertificateAuthority('Family CA');
    const mine = await issueServerCertificate(ca, ['matrix.family.example']);
    const other = await issueServerCertificate(ca, ['other.example']);
    const srv = await startTestServer({ federationListen: { host: '127.0.0.1', port: 0 }, tlsMode: 'self-signed' });
    try {
      const tls = srv.hs.adminTools!.tls;
      const port = Number(new URL(srv.hs.urls.federation!).port);
      assert.throws(() => tls.importFiles({ certPem: mine.certPem, keyPem: other.keyPem }), (e: Error) => e instanceof TlsError && /does not belong/.test(e.message));
      assert.throws(() => tls.importFiles({ certPem: 'not a certificate', keyPem: mine.keyPem }), TlsError);
      assert.throws(() => tls.importFiles({ certPem: mine.certPem, keyPem: 'nope' }), TlsError);
      const info = tls.importFiles(mine);
      assert.deepEqual(info.names, ['matrix.family.example']);
      const served = await peer(port, 'matrix.family.example', ca.certPem);
      assert.equal(served.serialNumber.toUpperCase(), info.serialNumber.toUpperCase());
    } finally {
      await srv.close();
    }
  });

  it("'files' mode reads the imported copy after a restart", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hearth-tls-'));
    let s: TlsSettings = { serverName: 'localhost', dataDir, tlsMode: 'self-signed' };
    const make = (): TlsManager => new TlsManager({ settings: () => s, log: quiet });
    try {
      const ca = await createCertificateAuthority('Family CA');
      const pair = await issueServerCertificate(ca, ['files.example']);
      const a = make();
      await a.apply();
      const imported = a.importFiles(pair);
      await a.close();
      s = { ...s, tlsMode: 'files' };
      const b = make();
      await b.apply();
      assert.equal(b.status().certificate!.serialNumber, imported.serialNumber);
      await b.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('admin endpoints: mode changes, generate, import, CA download; admins only, secrets write-only', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hearth-tls-api-'));
    const s: TlsSettings & Record<string, unknown> = { serverName: 'localhost', dataDir };
    const tls = new TlsManager({ settings: () => s, log: quiet });
    const tokens = { resolve: (t: string) => ({ userId: `@${t}:localhost`, deviceId: 'D', isAdmin: t === 'admin', accessTokenId: 1 }) };
    const { app } = createApp({
      log: createLogger('error', () => {}),
      maxJsonBodyBytes: 1 << 20,
      mount: (r) => tlsApi.register(r, { tls, settings: { update: async (p) => Object.assign(s, p) } }, tokens),
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}/_hearth/api/v1/tls`;
    const call = async (method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: any; text: string }> => {
      const res = await fetch(base + path, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, json, text };
    };
    try {
      assert.equal((await call('GET', '', 'someone')).status, 403);
      const none = await call('GET', '', 'admin');
      assert.deepEqual([none.json.mode, none.json.certificate], ['none', null]);
      assert.equal((await call('PUT', '', 'admin', { mode: 'magic' })).json.errcode, 'M_BAD_JSON');
      assert.equal((await call('PUT', '', 'admin', { mode: 'files' })).status, 400, 'files mode needs an import first');
      assert.equal((await call('POST', '/self-signed', 'admin')).status, 400);

      const self = await call('PUT', '', 'admin', { mode: 'self-signed', selfSignedNames: ['hearth.home'] });
      assert.equal(self.status, 200);
      assert.ok(self.json.certificate.names.includes('hearth.home'));
      assert.ok(self.json.caCertificate);
      const regenerated = await call('POST', '/self-signed', 'admin');
      assert.notEqual(regenerated.json.certificate.serialNumber, self.json.certificate.serialNumber);
      const ca = await call('GET', '/ca.crt', 'admin');
      assert.match(ca.text, /^-----BEGIN CERTIFICATE-----/);

      // A directory that answers 404 at once: the background request fails fast (no CA here).
      const directoryUrl = base.replace('/tls', '/no-acme-here');
      const acme = await call('PUT', '', 'admin', { mode: 'acme-dns', acme: { directoryUrl, dnsProvider: 'desec', dnsApiToken: 'secret-token', dnsApiUrl: 'http://127.0.0.1:1/api/v1' } });
      assert.equal(acme.status, 200);
      assert.equal(acme.json.settings.acme.dnsApiTokenSet, true);
      assert.ok(!acme.text.includes('secret-token'), 'the token is never sent back');
      assert.equal(acme.json.temporary, true, 'a temporary certificate until the CA answers');
      const failed = await call('POST', '/acme/request', 'admin');
      assert.equal(failed.status, 502);
      assert.match((await call('GET', '', 'admin')).json.lastError, /./);

      const theirCa = await createCertificateAuthority('Their CA');
      const pair = await issueServerCertificate(theirCa, ['their.example']);
      const other = await issueServerCertificate(theirCa, ['other.example']);
      assert.equal((await call('POST', '/import', 'admin', { certificate: pair.certPem, privateKey: other.keyPem })).status, 400);
      const imported = await call('POST', '/import', 'admin', { certificate: pair.certPem, privateKey: pair.keyPem });
      assert.equal(imported.status, 200);
      assert.deepEqual([imported.json.mode, imported.json.certificate.names], ['files', ['their.example']]);
      assert.equal((await call('GET', '/ca.crt', 'admin')).status, 404);
    } finally {
      server.close();
      await tls.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("'proxy' mode trusts X-Forwarded-For only from the configured addresses", () => {
    let s: TlsSettings = { serverName: 'localhost', dataDir: '/nonexistent', tlsMode: 'proxy', trustedProxies: ['127.0.0.1', '10.1.0.0/16', '::1'] };
    const tls = new TlsManager({ settings: () => s, log: quiet });
    assert.equal(tls.trustsProxy('127.0.0.1'), true);
    assert.equal(tls.trustsProxy('::ffff:127.0.0.1'), true);
    assert.equal(tls.trustsProxy('10.1.200.3'), true);
    assert.equal(tls.trustsProxy('::1'), true);
    assert.equal(tls.trustsProxy('10.2.0.1'), false);
    assert.equal(tls.trustsProxy('192.168.1.10'), false);
    assert.equal(tls.trustsProxy('garbage'), false);
    s = { ...s, tlsMode: 'none' };
    assert.equal(tls.trustsProxy('127.0.0.1'), false, 'other modes never trust forwarded headers');
  });

  it("the client listener's req.ip follows X-Forwarded-For only from a trusted proxy", async () => {
    // The last-seen address of a device is the request's req.ip.
    const lastSeenIp = async (settings: TlsSettings | object): Promise<string | undefined> => {
      const srv = await startTestServer(settings);
      try {
        const user = await srv.registerUser('proxied');
        const get = async (): Promise<string | undefined> =>
          (await srv.request('GET', '/_matrix/client/v3/devices', { token: user.access_token, headers: { 'X-Forwarded-For': '203.0.113.7' } })).json.devices[0].last_seen_ip;
        await get();
        return await get();
      } finally {
        await srv.close();
      }
    };
    assert.equal(await lastSeenIp({ tlsMode: 'proxy', trustedProxies: ['127.0.0.1'] }), '203.0.113.7');
    assert.equal(await lastSeenIp({ tlsMode: 'proxy', trustedProxies: ['10.0.0.1'] }), '127.0.0.1');
    assert.equal(await lastSeenIp({ tlsMode: 'none', trustedProxies: ['127.0.0.1'] }), '127.0.0.1');
  });
});
