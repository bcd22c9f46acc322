/**
 * Remote media over federation (server-server content_repository.yaml; client-server
 * authed-content-repo.yaml): a user of B downloads and thumbnails a photo uploaded on A through
 * B's authenticated endpoints, B caches it (it still serves it with A stopped), unknown media is
 * 404 and an unreachable origin a clear 502. A hand-made remote covers what Hearth never sends:
 * a `Location` part (followed, redirects included), a pre-v1.11 server (legacy download fallback),
 * a truncated answer and one over the size limit. The multipart reader is also tested directly,
 * fed one byte at a time.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import { freePort, startFederatedServer, testCa, type FederatedServer } from './federation-harness.ts';
import { FederationClient, FederationError, HttpsConnector } from '../services/federation/client.ts';
import { dispositionFilename, FederationMediaFetcher, multipartBoundary, readMultipartMedia } from '../services/federation/media-fetcher.ts';
import { MatrixError } from '../errors.ts';

const B_MAX_UPLOAD = 200_000;

function multipart(boundary: string, mediaHeaders: string, body: Buffer | string = ''): Buffer {
  return Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Type: application/json\r\n\r\n{}\r\n--${boundary}\r\n${mediaHeaders}\r\n\r\n`),
    Buffer.from(body),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A stream of `data` cut into pieces of `size` bytes. */
function pieces(data: Buffer, size: number): Readable {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return Readable.from(out);
}

describe('multipart media reader', () => {
  // Bytes that look like the start of the delimiter, to catch a reader that gives up too early.
  const media = Buffer.concat([Buffer.from('\r\n--bound\r\n--boun'), Buffer.from(Array.from({ length: 300 }, (_, i) => i % 256))]);
  const body = multipart('boundary42', 'Content-Type: image/png\r\nContent-Disposition: inline; filename="a b.png"', media);

  test('reads the media part whole however the answer is cut', async () => {
    for (const size of [1, 2, 7, 13, body.length]) {
      const part = await readMultipartMedia(pieces(body, size), 'boundary42', 10_000);
      assert.deepEqual(part.metadata, {});
      assert.equal(part.headers.get('content-type'), 'image/png');
      assert.ok((await collect(part.body)).equals(media), `pieces of ${size}`);
    }
  });

  test('a truncated or oversized answer fails the body stream, a malformed one fails at once', async () => {
    const cut = await readMultipartMedia(pieces(body.subarray(0, body.length - 20), 5), 'boundary42', 10_000);
    await assert.rejects(collect(cut.body), (e: MatrixError) => e.status === 502 && /truncated/.test(e.message));
    const small = await readMultipartMedia(pieces(body, 64), 'boundary42', 100);
    await assert.rejects(collect(small.body), (e: MatrixError) => e.status === 502 && e.errcode === 'M_TOO_LARGE');
    const onePart = Buffer.from('--b\r\nContent-Type: application/json\r\n\r\n{}\r\n--b--\r\n');
    await assert.rejects(readMultipartMedia(pieces(onePart, 3), 'b', 100), /fewer than two parts/);
    const notJson = multipart('b', 'Content-Type: text/plain', 'x').toString().replace('{}', '{nope');
    await assert.rejects(readMultipartMedia(Readable.from([Buffer.from(notJson)]), 'b', 100), /not JSON/);
  });

  test('headers: boundary, filename forms', () => {
    assert.equal(multipartBoundary('multipart/mixed; boundary="a:b c"'), 'a:b c');
    assert.equal(multipartBoundary('Multipart/Mixed;boundary=xyz'), 'xyz');
    assert.equal(multipartBoundary('application/json'), undefined);
    assert.equal(dispositionFilename('inline; filename="a \\"b\\".png"'), 'a "b".png');
    assert.equal(dispositionFilename("attachment; filename=plain.txt; filename*=utf-8''%C3%A9t%C3%A9.txt"), 'été.txt');
    assert.equal(dispositionFilename('attachment'), null);
  });

  test('a Location to a private address is refused when federation may not reach those', async () => {
    const connector = new HttpsConnector({ settings: () => ({ verifyTls: true, allowPrivateAddresses: false }) });
    const client = new FederationClient({ connector, isServerAllowed: (s: string) => s !== 'denied.example' } as never);
    const fetcher = new FederationMediaFetcher({
      client: {
        requestStream: async () => ({
          status: 200,
          headers: { 'content-type': 'multipart/mixed; boundary=b' },
          body: Readable.from([multipart('b', 'Location: https://127.0.0.1:1/secret')]),
        }),
        getUrlStream: (url, opts) => client.getUrlStream(url, opts),
      },
      maxBytes: () => 1000,
    });
    await assert.rejects(fetcher.fetch('remote.example', 'abc'), (e: MatrixError) => e.status === 502 && /private or loopback/.test(e.message));
    await assert.rejects(client.getUrlStream('http://remote.example/x'), (e: FederationError) => e.kind === 'refused');
    await assert.rejects(client.getUrlStream('https://denied.example/x'), (e: FederationError) => e.kind === 'refused' && /deny\/allow/.test(e.message));
    connector.close();
  });
});

describe('remote media between two Hearth servers', () => {
  let a: FederatedServer;
  let b: FederatedServer;
  let aStopped = false;
  let fake: Server;
  let fakeName: string;
  const fakeSeen: string[] = [];
  let bob: { access_token: string };
  let photo: Buffer;
  let photoId: string;

  before(async () => {
    const ca = testCa();
    const port = await freePort();
    fakeName = `127.0.0.1:${port}`;
    fake = createServer({ cert: readFileSync(ca.certFile), key: readFileSync(ca.keyFile) }, (req, res) => {
      const url = new URL(req.url!, `https://${fakeName}`);
      const path = decodeURIComponent(url.pathname);
      fakeSeen.push(path + url.search);
      const send = (status: number, headers: Record<string, string>, body: Buffer | string): void => void res.writeHead(status, headers).end(body);
      const mixed = { 'Content-Type': 'multipart/mixed; boundary=fakebound' };
      switch (path) {
        case '/_matrix/federation/v1/media/download/redirected':
          return send(200, mixed, multipart('fakebound', `Location: https://${fakeName}/cdn/first`));
        case '/cdn/first':
          return send(302, { Location: '/cdn/cat.txt' }, '');
        case '/cdn/cat.txt':
          return send(200, { 'Content-Type': 'text/plain', 'Content-Disposition': "attachment; filename*=utf-8''chat%20%C3%A9.txt" }, 'meow');
        case `/_matrix/media/v3/download/${fakeName}/old`:
          return send(200, { 'Content-Type': 'application/pdf', 'Content-Disposition': 'attachment; filename="old.pdf"' }, '%PDF-1.4 old');
        case '/_matrix/federation/v1/media/download/cut':
          res.writeHead(200, mixed);
          res.write(multipart('fakebound', 'Content-Type: text/plain', 'partial bytes').subarray(0, -30));
          return void setTimeout(() => res.destroy(), 20);
        case '/_matrix/federation/v1/media/download/huge':
          return send(200, mixed, multipart('fakebound', 'Content-Type: application/octet-stream', Buffer.alloc(B_MAX_UPLOAD + 1)));
        default:
          // The answer of a server that predates the federation media endpoints.
          return send(404, { 'Content-Type': 'application/json' }, JSON.stringify({ errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' }));
      }
    });
    await new Promise<void>((resolve) => fake.listen(port, '127.0.0.1', resolve));
    [a, b] = await Promise.all([startFederatedServer(), startFederatedServer({ settings: { maxUploadBytes: B_MAX_UPLOAD } })]);
    const alice = await a.registerUser('alice');
    bob = await b.registerUser('bob');
    photo = await sharp(Buffer.from(Array.from({ length: 64 * 48 * 3 }, (_, i) => (i * 37) % 256)), { raw: { width: 64, height: 48, channels: 3 } }).png().toBuffer();
    const up = await fetch(`${a.url}/_matrix/media/v3/upload?filename=garden.png`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${alice.access_token}`, 'Content-Type': 'image/png' },
      body: new Uint8Array(photo),
    });
    assert.equal(up.status, 200);
    photoId = ((await up.json()) as { content_uri: string }).content_uri.split('/').pop()!;
  });

  after(async () => {
    await Promise.all([b?.close(), aStopped ? undefined : a?.close()]);
    await new Promise<void>((resolve) => {
      fake.close(() => resolve());
      fake.closeAllConnections();
    });
  });

  const getFromB = (path: string): Promise<Response> => fetch(`${b.url}/_matrix/client/v1/media/${path}`, { headers: { Authorization: `Bearer ${bob.access_token}` } });
  const errcodeOf = async (res: Response): Promise<{ status: number; errcode: string; error: string }> => ({ status: res.status, ...((await res.json()) as { errcode: string; error: string }) });

  test("B serves A's photo byte-identical, with A's content type and filename", async () => {
    const res = await getFromB(`download/${a.serverName}/${photoId}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.equal(res.headers.get('content-disposition'), 'inline; filename="garden.png"');
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(photo));
  });

  test("B makes thumbnails of A's photo from its cached copy", async () => {
    const res = await getFromB(`thumbnail/${a.serverName}/${photoId}?width=32&height=32&method=crop`);
    assert.equal(res.status, 200);
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    assert.deepEqual([meta.width, meta.height], [32, 32]);
  });

  test('media A does not have is 404 M_NOT_FOUND on B', async () => {
    assert.deepEqual(await errcodeOf(await getFromB(`download/${a.serverName}/noSuchMedia`)), { status: 404, errcode: 'M_NOT_FOUND', error: 'Remote media not found' });
  });

  test('a Location part is followed (through its own redirect) with the headers found there', async () => {
    const res = await getFromB(`download/${fakeName}/redirected`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=UTF-8');
    assert.equal(res.headers.get('content-disposition'), "inline; filename*=utf-8''chat%20%C3%A9.txt");
    assert.equal(await res.text(), 'meow');
  });

  test('a server without the federation endpoint is asked on the legacy download path', async () => {
    const res = await getFromB(`download/${fakeName}/old`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/pdf');
    assert.equal(await res.text(), '%PDF-1.4 old');
    assert.ok(fakeSeen.includes(`/_matrix/media/v3/download/${fakeName}/old?allow_remote=false&allow_redirect=true`), fakeSeen.join('\n'));
    // Unknown on both paths: not found.
    assert.equal((await errcodeOf(await getFromB(`download/${fakeName}/neither`))).status, 404);
  });

  test('a truncated or oversized answer is a 502 and nothing is cached', async () => {
    const cut = await errcodeOf(await getFromB(`download/${fakeName}/cut`));
    assert.deepEqual([cut.status, cut.errcode], [502, 'M_UNKNOWN']);
    const huge = await errcodeOf(await getFromB(`download/${fakeName}/huge`));
    assert.deepEqual([huge.status, huge.errcode], [502, 'M_TOO_LARGE']);
    const seen = fakeSeen.length;
    assert.equal((await getFromB(`download/${fakeName}/cut`)).status, 502);
    assert.equal(fakeSeen.length, seen + 1, 'asked again, not served from a cache');
  });

  test('with A stopped, B still serves the cached photo; uncached media of A is a clear 502', async () => {
    await a.close();
    aStopped = true;
    const res = await getFromB(`download/${a.serverName}/${photoId}`);
    assert.equal(res.status, 200);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(photo));
    const down = await errcodeOf(await getFromB(`download/${a.serverName}/otherMedia`));
    assert.equal(down.status, 502);
    assert.equal(down.errcode, 'M_UNKNOWN');
    assert.match(down.error, new RegExp(`Could not fetch media from ${a.serverName.replace('.', '\\.')}`));
    const alive = await fetch(`${b.url}/_matrix/client/versions`);
    assert.equal(alive.status, 200);
    await alive.arrayBuffer();
  });
});
