/**
 * ACME against Debian's pebble on loopback (issue 4, "Tests"): pebble validates HTTP-01 by
 * fetching our challenge port and DNS-01 by asking pebble-challtestsrv's DNS, which our fake
 * deSEC API fills. A certificate is issued and served by the TLS listener, and renewal swaps it
 * in without a restart (the peer certificate's serial changes on the same listener).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, type Server } from 'node:http';
import { get as httpsGet } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer } from './harness.ts';
import { TlsManager, RENEW_BEFORE_MS, createCertificateAuthority, issueServerCertificate } from '../services/admin/tls.ts';
import { duckDnsProvider, hookProvider } from '../services/admin/acme.ts';

const HAVE_PEBBLE = spawnSync('sh', ['-c', 'command -v pebble && command -v pebble-challtestsrv']).status === 0;
const quiet = { info() {}, warn() {}, error() {} };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The peer certificate's serial number and issuer, over a fresh TLS connection. */
function peerCertificate(port: number, servername: string): Promise<{ serial: string; issuer: string }> {
  return new Promise((resolve, reject) => {
    const sock = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      const c = sock.getPeerCertificate();
      sock.end();
      resolve({ serial: c.serialNumber, issuer: String(c.issuer.CN) });
    });
    sock.once('error', reject);
  });
}

interface Pebble {
  directoryUrl: string;
  caFile: string;
  challengePort: number;
  /** challtestsrv's management API (set-txt / clear-txt). */
  challtestsrv: string;
  stop(): Promise<void>;
}

async function startPebble(dir: string): Promise<Pebble> {
  const [acmePort, mgmtPort, challengePort, tlsPort, dnsPort, ctsPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
  // pebble's own HTTPS certificate, from a throwaway CA the ACME client is told to trust.
  const ca = await createCertificateAuthority('pebble test CA');
  const leaf = await issueServerCertificate(ca, ['127.0.0.1', 'localhost']);
  const caFile = join(dir, 'pebble-ca.pem');
  writeFileSync(caFile, ca.certPem);
  writeFileSync(join(dir, 'pebble.crt'), leaf.certPem);
  writeFileSync(join(dir, 'pebble.key'), leaf.keyPem);
  writeFileSync(
    join(dir, 'pebble.json'),
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${mgmtPort}`,
        certificate: join(dir, 'pebble.crt'),
        privateKey: join(dir, 'pebble.key'),
        httpPort: challengePort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  );
  const out = process.env.HEARTH_TEST_LOG ? 'inherit' : 'ignore';
  const cts = spawn(
    'pebble-challtestsrv',
    ['-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${ctsPort}`, '-defaultIPv4', '127.0.0.1', '-defaultIPv6', ''],
    { stdio: ['ignore', out, out] },
  );
  const pebble = spawn('pebble', ['-config', join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dnsPort}`], {
    stdio: ['ignore', out, out],
    // No random validation sleeps or nonce rejections: keep the test fast and deterministic.
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
  });
  const directoryUrl = `https://127.0.0.1:${acmePort}/dir`;
  const kill = (p: ChildProcess): Promise<void> =>
    new Promise((r) => {
      if (p.exitCode !== null) return r();
      p.once('exit', () => r());
      p.kill('SIGTERM');
    });
  try {
    await waitFor(
      () =>
        new Promise((resolve) => {
          httpsGet(directoryUrl, { ca: ca.certPem }, (res) => {
            res.resume();
            resolve(res.statusCode === 200);
          }).once('error', () => resolve(false));
        }),
      'pebble',
    );
    await waitFor(async () => (await fetch(`http://127.0.0.1:${ctsPort}/`).catch(() => undefined)) !== undefined, 'challtestsrv');
  } catch (e) {
    await Promise.all([kill(pebble), kill(cts)]);
    throw e;
  }
  return { directoryUrl, caFile, challengePort, challtestsrv: `http://127.0.0.1:${ctsPort}`, stop: () => Promise.all([kill(pebble), kill(cts)]).then(() => undefined) };
}

describe('ACME with pebble', { skip: HAVE_PEBBLE ? false : 'pebble is not installed (apt-get install pebble)' }, () => {
  let dir: string;
  let pebble: Pebble;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-acme-'));
    pebble = await startPebble(dir);
  });
  after(async () => {
    await pebble?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('HTTP-01: a certificate is issued, served by the TLS listener, and renewal swaps it without a restart', async () => {
    const srv = await startTestServer({
      federationListen: { host: '127.0.0.1', port: 0 },
      tlsMode: 'acme-http',
      acmeDirectoryUrl: pebble.directoryUrl,
      acmeDirectoryCaFile: pebble.caFile,
      acmeDomains: ['hearth.test'],
      acmeEmail: 'admin@hearth.test',
      acmeChallengePort: pebble.challengePort,
    });
    try {
      const tls = srv.hs.adminTools!.tls;
      const port = Number(new URL(srv.hs.urls.federation!).port);
      // Start-up serves a temporary certificate and asks pebble in the background.
      const first = await tls.requestCertificate();
      assert.equal(tls.status().temporary, false);
      assert.deepEqual(first.names, ['hearth.test']);
      assert.match(first.issuer, /Pebble/);
      const served = await peerCertificate(port, 'hearth.test');
      assert.equal(served.serial.toUpperCase(), first.serialNumber.toUpperCase());
      assert.match(served.issuer, /Pebble/);

      // Not due yet: nothing happens.
      assert.equal(await tls.renewIfDue(Date.now()), false);
      // 29 days before expiry it is due: a new certificate, on the same running listener.
      assert.equal(await tls.renewIfDue(first.notAfter - RENEW_BEFORE_MS + 86_400_000), true);
      const second = tls.status().certificate!;
      assert.notEqual(second.serialNumber, first.serialNumber);
      const after = await peerCertificate(port, 'hearth.test');
      assert.equal(after.serial.toUpperCase(), second.serialNumber.toUpperCase());
      assert.equal(srv.hs.urls.federation, `https://127.0.0.1:${port}`);
      const versions = await fetch(`http://127.0.0.1:${new URL(srv.url).port}/_matrix/client/versions`);
      assert.equal(versions.status, 200);
    } finally {
      await srv.close();
    }
  });

  it('DNS-01 through the deSEC API (a local fake feeding the test DNS server) issues a certificate', async () => {
    const calls: { auth: string | undefined; body: { subname: string; type: string; records: string[] }[] }[] = [];
    // The fake deSEC: records the RRset PUT, then publishes it in challtestsrv's DNS.
    const fake: Server = createHttpServer(async (req, res) => {
      let text = '';
      for await (const c of req) text += c;
      if (req.method !== 'PUT' || req.url !== '/api/v1/domains/family.dedyn.io/rrsets/') {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(text) as { subname: string; type: string; records: string[] }[];
      calls.push({ auth: req.headers.authorization, body });
      const host = `${body[0]!.subname}.family.dedyn.io.`;
      const value = body[0]!.records[0]?.replace(/^"|"$/g, '');
      await fetch(`${pebble.challtestsrv}/${value ? 'set-txt' : 'clear-txt'}`, { method: 'POST', body: JSON.stringify(value ? { host, value } : { host }) });
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(text);
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const dataDir = mkdtempSync(join(tmpdir(), 'hearth-acme-dns-'));
    const tls = new TlsManager({
      log: quiet,
      settings: () => ({
        serverName: 'family.dedyn.io',
        dataDir,
        tlsMode: 'acme-dns',
        acmeDirectoryUrl: pebble.directoryUrl,
        acmeDirectoryCaFile: pebble.caFile,
        acmeDnsProvider: 'desec',
        acmeDnsApiUrl: `http://127.0.0.1:${(fake.address() as { port: number }).port}/api/v1`,
        acmeDnsApiToken: 'desec-token',
      }),
    });
    try {
      const swapped: string[] = [];
      tls.onChange((p) => swapped.push(p.certPem));
      await tls.apply(); // temporary certificate, then the request in the background
      const info = await tls.requestCertificate();
      assert.deepEqual(info.names, ['family.dedyn.io']);
      assert.match(info.issuer, /Pebble/);
      assert.equal(calls[0]!.auth, 'Token desec-token');
      assert.equal(calls[0]!.body[0]!.subname, '_acme-challenge');
      assert.equal(calls[0]!.body[0]!.type, 'TXT');
      assert.equal(calls[0]!.body[0]!.records.length, 1);
      assert.deepEqual(calls.at(-1)!.body[0]!.records, [], 'the TXT record is removed afterwards');
      assert.ok(swapped.length >= 2, 'temporary certificate, then the issued one');
    } finally {
      await tls.close();
      await new Promise((r) => fake.close(r));
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('DNS-01 providers', () => {
  it('DuckDNS: sets and clears the TXT value through its update API', async () => {
    const seen: URLSearchParams[] = [];
    const fake = createHttpServer((req, res) => {
      const q = new URL(req.url!, 'http://x').searchParams;
      seen.push(q);
      res.end(q.get('token') === 'duck-token' ? 'OK' : 'KO');
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const apiUrl = `http://127.0.0.1:${(fake.address() as { port: number }).port}`;
    try {
      const p = duckDnsProvider({ apiUrl, token: 'duck-token' });
      await p.set('_acme-challenge.family.duckdns.org', 'txt-value');
      await p.clear('_acme-challenge.family.duckdns.org', 'txt-value');
      assert.deepEqual([seen[0]!.get('domains'), seen[0]!.get('txt'), seen[0]!.get('clear')], ['family', 'txt-value', null]);
      assert.equal(seen[1]!.get('clear'), 'true');
      await assert.rejects(duckDnsProvider({ apiUrl, token: 'wrong' }).set('_acme-challenge.family.duckdns.org', 'v'), /refused/);
      await assert.rejects(p.set('_acme-challenge.example.org', 'v'), /duckdns\.org/);
    } finally {
      await new Promise((r) => fake.close(r));
    }
  });

  it('hook: runs the command with the record in its environment; a failing command fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-hook-'));
    try {
      const out = join(dir, 'out');
      const p = hookProvider(`echo "$HEARTH_ACME_ACTION $HEARTH_ACME_RECORD $HEARTH_ACME_TXT" >> ${out}`);
      await p.set('_acme-challenge.home.example', 'abc');
      await p.clear('_acme-challenge.home.example', 'abc');
      assert.equal(readFileSync(out, 'utf8'), 'set _acme-challenge.home.example abc\nclear _acme-challenge.home.example abc\n');
      await assert.rejects(hookProvider('echo no >&2; exit 3').set('x', 'y'), /DNS hook failed \(set\): no/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
