/**
 * The federation self-test (GET /_hearth/api/v1/federation/self-test) against real Hearth
 * instances with TLS listeners: one with a certificate from the test CA passes (warning that it expires soon); a
 * server name whose port nothing listens on, an expired certificate and a certificate for another
 * name each fail with the plain-language reason, and the later checks are skipped.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFederatedServer, testCa, type FederatedServer } from './federation-harness.ts';
import { startAdminClient, USER_TOKEN, type AdminClient } from './storage-care-fixture.ts';

const PATH = '/_hearth/api/v1/federation/self-test';

/** A certificate from the test CA with the given names and validity (openssl ca sets exact dates). */
function issueCertificate(name: string, san: string, dates: { start: string; end: string }): { cert: string; key: string } {
  const ca = testCa();
  const dir = join(ca.dir, name);
  mkdirSync(join(dir, 'db'), { recursive: true });
  const f = (n: string): string => join(dir, n);
  writeFileSync(f('db/index.txt'), '');
  writeFileSync(f('db/serial'), '01\n');
  writeFileSync(
    f('ca.cnf'),
    `[ca]\ndefault_ca = c\n[c]\ndatabase = ${f('db/index.txt')}\nnew_certs_dir = ${f('db')}\nserial = ${f('db/serial')}\n` +
      `default_md = sha256\npolicy = p\nx509_extensions = ext\n[p]\ncommonName = supplied\n[ext]\nsubjectAltName = ${san}\nextendedKeyUsage = serverAuth\n`,
  );
  execFileSync('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`, '-keyout', f('key.pem'), '-out', f('csr.pem')], { stdio: 'pipe' });
  execFileSync('openssl', ['ca', '-batch', '-config', f('ca.cnf'), '-cert', ca.caFile, '-keyfile', join(ca.dir, 'ca.key'), '-in', f('csr.pem'), '-out', f('cert.pem'), '-notext', '-startdate', dates.start, '-enddate', dates.end], { stdio: 'pipe' });
  return { cert: f('cert.pem'), key: f('key.pem') };
}

const check = (result: any, id: string): any => result.checks.find((c: any) => c.id === id);

describe('federation self-test', () => {
  const servers: FederatedServer[] = [];
  const admins: AdminClient[] = [];
  let good: AdminClient;
  let wrongPort: AdminClient;
  let expired: AdminClient;
  let mismatched: AdminClient;
  let goodServer: FederatedServer;

  before(async () => {
    const nextYear = `${new Date().getUTCFullYear() + 1}0101000000Z`;
    const old = issueCertificate('expired', 'IP:127.0.0.1,DNS:localhost', { start: '20200101000000Z', end: '20200102000000Z' });
    const other = issueCertificate('other', 'DNS:other.example', { start: '20200101000000Z', end: nextYear });
    // Port 1: a free port found now could be handed to one of the servers started next (they
    // bind ephemeral ports at the same time), and nothing binds below the ephemeral range here.
    const unused = 1;
    servers.push(
      ...(await Promise.all([
        startFederatedServer(),
        // The name points at a port nothing listens on (the TLS listener is on another one).
        startFederatedServer({ settings: { serverName: `127.0.0.1:${unused}` } }),
        startFederatedServer({ settings: { tlsCert: old.cert, tlsKey: old.key } }),
        startFederatedServer({ settings: { tlsCert: other.cert, tlsKey: other.key } }),
      ])),
    );
    goodServer = servers[0]!;
    admins.push(...(await Promise.all(servers.map((s) => startAdminClient(s)))));
    [good, wrongPort, expired, mismatched] = admins as [AdminClient, AdminClient, AdminClient, AdminClient];
  });

  after(async () => {
    await Promise.all(admins.map((a) => a.close()));
    await Promise.all(servers.map((s) => s.close()));
  });

  it('passes for a TLS instance whose certificate the trusted CA signed', async () => {
    const r = await good.request('GET', PATH);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.serverName, goodServer.serverName);
    assert.equal(r.json.ok, true, JSON.stringify(r.json.checks, null, 1));
    // The harness's certificates last two days, so the certificate passes with an expiry warning.
    assert.deepEqual(r.json.checks.map((c: any) => [c.id, c.status]), [['resolve', 'pass'], ['port', 'pass'], ['certificate', 'warn'], ['key', 'pass']]);
    assert.match(check(r.json, 'certificate').detail, /is valid but expires in [01] day\(s\)/);
    assert.equal(r.json.resolution.method, 'ip-literal');
    assert.deepEqual(r.json.resolution.targets[0].addresses, ['127.0.0.1']);
    assert.ok(r.json.certificate.names.includes('127.0.0.1'));
    assert.match(check(r.json, 'key').detail, /correctly signed/);
  });

  it('fails the port check when nothing listens on the port the name points at', async () => {
    const r = await wrongPort.request('GET', PATH);
    assert.equal(r.status, 200);
    assert.equal(r.json.ok, false);
    const port = check(r.json, 'port');
    assert.equal(port.status, 'fail');
    assert.match(port.detail, /router probably does not forward port \d+ to this computer/);
    assert.equal(check(r.json, 'certificate').status, 'skipped');
    assert.equal(check(r.json, 'key').status, 'skipped');
  });

  it('fails the certificate check for an expired certificate', async () => {
    const r = await expired.request('GET', PATH);
    assert.equal(r.json.ok, false);
    const cert = check(r.json, 'certificate');
    assert.equal(cert.status, 'fail');
    assert.match(cert.detail, /expired on 2020-01-02/);
    assert.equal(r.json.certificate.validTo, '2020-01-02T00:00:00.000Z');
    assert.equal(check(r.json, 'key').status, 'skipped');
  });

  it('fails the certificate check for a certificate made out to another name', async () => {
    const r = await mismatched.request('GET', PATH);
    assert.equal(r.json.ok, false);
    const cert = check(r.json, 'certificate');
    assert.equal(cert.status, 'fail');
    assert.match(cert.detail, /The certificate is for other\.example, but other servers expect a certificate for 127\.0\.0\.1/);
  });

  it('is for admins only', async () => {
    const r = await good.request('GET', PATH, { token: USER_TOKEN });
    assert.equal(r.status, 403);
    assert.equal(r.json.errcode, 'M_FORBIDDEN');
  });
});
