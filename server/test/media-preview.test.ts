/**
 * URL previews (spec: client-server authed-content-repo.yaml GET /media/preview_url) against a
 * page served by a local test server, and the SSRF guard: a private address is refused unless
 * the allow-list names it, and so is a redirect from an allowed address to a forbidden one.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { startTestServer, type TestServer } from './harness.ts';
import { parseHtmlMeta } from '../services/media/url-preview.ts';
import { buildAllowlist, isAddressAllowed } from '../services/media/safe-fetch.ts';

describe('URL previews', () => {
  let site: Server;
  let base: string;
  let allowed: TestServer;
  let strict: TestServer;
  let token: string;
  let strictToken: string;
  let image: Buffer;

  before(async () => {
    image = await sharp({ create: { width: 120, height: 60, channels: 3, background: '#3a7' } }).png().toBuffer();
    site = createServer((req, res) => {
      if (req.url === '/page') {
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        res.end(`<!doctype html><html><head><title>Ignored &amp; title</title>
          <meta property="og:title" content="Grandma&#39;s birthday">
          <meta name="description" content="Photos from the party">
          <meta property="og:image" content="/cake.png"></head><body>hello</body></html>`);
      } else if (req.url === '/cake.png') {
        res.setHeader('Content-Type', 'image/png');
        res.end(image);
      } else if (req.url === '/to-metadata') {
        res.writeHead(302, { Location: 'http://169.254.169.254/latest/meta-data/' }).end();
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    allowed = await startTestServer({ urlPreviewEnabled: true, urlPreviewIpRangeAllowlist: ['127.0.0.1'] });
    strict = await startTestServer({ urlPreviewEnabled: true });
    token = (await allowed.registerUser('alice')).access_token;
    strictToken = (await strict.registerUser('alice')).access_token;
  });
  after(async () => {
    await allowed.close();
    await strict.close();
    site.close();
  });

  const preview = (srv: TestServer, tok: string, url: string) =>
    srv.request('GET', `/_matrix/client/v1/media/preview_url?url=${encodeURIComponent(url)}`, { token: tok });

  test('a page on an allow-listed address is previewed with its OpenGraph data and image', async () => {
    const res = await preview(allowed, token, `${base}/page`);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json['og:title'], "Grandma's birthday");
    assert.equal(res.json['og:description'], 'Photos from the party');
    assert.match(res.json['og:image'], /^mxc:\/\/localhost\//);
    assert.equal(res.json['og:image:type'], 'image/png');
    assert.equal(res.json['og:image:width'], 120);
    assert.equal(res.json['matrix:image:size'], image.length);
    const img = await fetch(`${allowed.url}/_matrix/client/v1/media/download/${res.json['og:image'].slice(6)}`, { headers: { Authorization: `Bearer ${token}` } });
    assert.ok(Buffer.from(await img.arrayBuffer()).equals(image));
    // The legacy path answers too (it requires a token as well).
    const legacy = await allowed.request('GET', `/_matrix/media/v3/preview_url?url=${encodeURIComponent(`${base}/page`)}`, { token });
    assert.equal(legacy.json['og:title'], "Grandma's birthday");
  });

  test('a redirect to a forbidden address is refused', async () => {
    const res = await preview(allowed, token, `${base}/to-metadata`);
    assert.equal(res.status, 403);
    assert.equal(res.json.errcode, 'M_FORBIDDEN');
  });

  test('a private address is refused when the allow-list does not include it', async () => {
    for (const url of [`${base}/page`, `http://localhost:${new URL(base).port}/page`, 'http://[::1]/', 'http://10.1.2.3/']) {
      const res = await preview(strict, strictToken, url);
      assert.equal(res.status, 403, url);
      assert.equal(res.json.errcode, 'M_FORBIDDEN');
    }
    const bad = await preview(strict, strictToken, 'file:///etc/passwd');
    assert.equal(bad.status, 400);
  });

  test('address checks: mapped IPv6 and allow-list ranges', () => {
    const none = buildAllowlist([]);
    assert.equal(isAddressAllowed('93.184.216.34', none), true);
    assert.equal(isAddressAllowed('::ffff:7f00:1', none), false);
    assert.equal(isAddressAllowed('::ffff:127.0.0.1', none), false);
    assert.equal(isAddressAllowed('fe80::1', none), false);
    const lan = buildAllowlist(['192.168.1.0/24']);
    assert.equal(isAddressAllowed('192.168.1.20', lan), true);
    assert.equal(isAddressAllowed('192.168.2.20', lan), false);
  });

  test('HTML meta parsing: OpenGraph first, <title> and description as fallbacks', () => {
    assert.deepEqual(parseHtmlMeta('<head><title> A  &lt;b&gt; </title><meta content="d" name="description"></head>'), {
      'og:title': 'A <b>',
      'og:description': 'd',
    });
    assert.deepEqual(parseHtmlMeta(`<meta property='og:title' content='T'><meta property="og:site_name" content="S">`), { 'og:title': 'T', 'og:site_name': 'S' });
  });
});
