/**
 * The media repository over real HTTP (spec: client-server authed-content-repo.yaml,
 * content-repo.yaml): a photo generated at test time uploaded and downloaded byte-identical,
 * thumbnails that decode at the requested sizes, range requests, the safe headers on an HTML
 * upload, asynchronous uploads, size and quota errors, the frozen legacy downloads, and avatars
 * through matrix-js-sdk.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { startTestServer, type TestServer } from './harness.ts';
import { makeClient } from './js-sdk-helpers.ts';

/** A 1600×1200 JPEG with noise (so it does not compress to nothing), like a small phone photo. */
async function makePhoto(width = 1600, height = 1200): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  let s = 7;
  for (let i = 0; i < raw.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    raw[i] = ((i % (width * 3)) / 12 + (s & 63)) & 255;
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
}

/** A two-frame animated GIF. */
async function makeAnimatedGif(): Promise<Buffer> {
  const frame = (r: number) => sharp({ create: { width: 200, height: 100, channels: 3, background: { r, g: 40, b: 90 } } }).png().toBuffer();
  return sharp([await frame(255), await frame(0)], { join: { animated: true } }).gif().toBuffer();
}

describe('media repository', () => {
  let srv: TestServer;
  let alice: { user_id: string; access_token: string };
  let bob: { user_id: string; access_token: string };
  let photo: Buffer;
  let photoMxc: string;

  const upload = async (token: string, body: Buffer | string, contentType: string, filename?: string) => {
    const q = filename ? `?filename=${encodeURIComponent(filename)}` : '';
    const res = await fetch(`${srv.url}/_matrix/media/v3/upload${q}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': contentType },
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, any> };
  };
  const get = (path: string, token: string | undefined, headers: Record<string, string> = {}) =>
    fetch(srv.url + path, { headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers } });
  const idOf = (mxc: string) => mxc.slice('mxc://'.length);

  before(async () => {
    srv = await startTestServer({ maxUploadBytes: 2 * 1024 * 1024, userMediaQuotaBytes: 4 * 1024 * 1024 });
    alice = await srv.registerUser('alice');
    bob = await srv.registerUser('bob');
    photo = await makePhoto();
    const r = await upload(alice.access_token, photo, 'image/jpeg', 'beach.jpg');
    assert.equal(r.status, 200, JSON.stringify(r.json));
    photoMxc = r.json.content_uri;
  });
  after(() => srv.close());

  test('an uploaded photo downloads byte-identical through the authenticated endpoint', async () => {
    assert.match(photoMxc, /^mxc:\/\/localhost\/[A-Za-z0-9_-]{24}$/);
    const res = await get(`/_matrix/client/v1/media/download/${idOf(photoMxc)}`, bob.access_token);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/jpeg');
    assert.equal(res.headers.get('content-disposition'), 'inline; filename="beach.jpg"');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('cross-origin-resource-policy'), 'cross-origin');
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(photo));
    // A filename in the path overrides the stored one.
    const named = await get(`/_matrix/client/v1/media/download/${idOf(photoMxc)}/holiday%20%C3%A9t%C3%A9.jpg`, bob.access_token);
    assert.equal(named.headers.get('content-disposition'), "inline; filename*=utf-8''holiday%20%C3%A9t%C3%A9.jpg");
    await named.arrayBuffer();
  });

  test('authenticated endpoints need a token; legacy downloads are frozen', async () => {
    const noToken = await get(`/_matrix/client/v1/media/download/${idOf(photoMxc)}`, undefined);
    assert.equal(noToken.status, 401);
    assert.equal(((await noToken.json()) as { errcode: string }).errcode, 'M_MISSING_TOKEN');
    for (const path of [`/_matrix/media/v3/download/${idOf(photoMxc)}`, `/_matrix/media/v3/thumbnail/${idOf(photoMxc)}?width=32&height=32`]) {
      const res = await get(path, alice.access_token);
      assert.equal(res.status, 404, path);
      assert.equal(((await res.json()) as { errcode: string }).errcode, 'M_NOT_FOUND');
    }
    const missing = await get('/_matrix/client/v1/media/download/localhost/doesNotExist', alice.access_token);
    assert.equal(missing.status, 404);
    await missing.arrayBuffer();
  });

  test('thumbnails come at the requested sizes and decode as images', async () => {
    const crop = await get(`/_matrix/client/v1/media/thumbnail/${idOf(photoMxc)}?width=96&height=96&method=crop`, alice.access_token);
    assert.equal(crop.status, 200);
    assert.equal(crop.headers.get('content-type'), 'image/jpeg');
    const cropMeta = await sharp(Buffer.from(await crop.arrayBuffer())).metadata();
    assert.deepEqual([cropMeta.format, cropMeta.width, cropMeta.height], ['jpeg', 96, 96]);

    const scale = await get(`/_matrix/client/v1/media/thumbnail/${idOf(photoMxc)}?width=320&height=240&method=scale`, alice.access_token);
    const scaleMeta = await sharp(Buffer.from(await scale.arrayBuffer())).metadata();
    assert.deepEqual([scaleMeta.width, scaleMeta.height], [320, 240]);

    // An odd size is served from the next standard size up (the spec allows larger thumbnails).
    const odd = await get(`/_matrix/client/v1/media/thumbnail/${idOf(photoMxc)}?width=500&height=100&method=scale`, alice.access_token);
    const oddMeta = await sharp(Buffer.from(await odd.arrayBuffer())).metadata();
    assert.deepEqual([oddMeta.width, oddMeta.height], [640, 480]);

    const bad = await get(`/_matrix/client/v1/media/thumbnail/${idOf(photoMxc)}?width=-1&height=10`, alice.access_token);
    assert.equal(bad.status, 400);
    await bad.arrayBuffer();
  });

  test('GIF thumbnails: first frame by default, animated WebP when asked', async () => {
    const gif = await upload(alice.access_token, await makeAnimatedGif(), 'image/gif', 'wave.gif');
    assert.equal(gif.status, 200);
    const id = idOf(gif.json.content_uri);
    const still = await get(`/_matrix/client/v1/media/thumbnail/${id}?width=96&height=96&method=crop`, alice.access_token);
    assert.equal(still.headers.get('content-type'), 'image/png');
    const stillMeta = await sharp(Buffer.from(await still.arrayBuffer())).metadata();
    assert.equal(stillMeta.pages ?? 1, 1);
    const moving = await get(`/_matrix/client/v1/media/thumbnail/${id}?width=96&height=96&method=scale&animated=true`, alice.access_token);
    assert.equal(moving.headers.get('content-type'), 'image/webp');
    const movingMeta = await sharp(Buffer.from(await moving.arrayBuffer()), { animated: true }).metadata();
    assert.equal(movingMeta.pages, 2);
  });

  test('range requests: 206 for a satisfiable range, 416 otherwise', async () => {
    const path = `/_matrix/client/v1/media/download/${idOf(photoMxc)}`;
    const part = await get(path, alice.access_token, { Range: 'bytes=100-199' });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 100-199/${photo.length}`);
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(photo.subarray(100, 200)));
    const suffix = await get(path, alice.access_token, { Range: 'bytes=-10' });
    assert.equal(suffix.status, 206);
    assert.ok(Buffer.from(await suffix.arrayBuffer()).equals(photo.subarray(photo.length - 10)));
    const beyond = await get(path, alice.access_token, { Range: `bytes=${photo.length + 5}-` });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), `bytes */${photo.length}`);
    await beyond.arrayBuffer();
  });

  test('an HTML upload is served as an attachment with the sandboxing headers', async () => {
    const html = '<html><script>alert(document.cookie)</script></html>';
    const r = await upload(alice.access_token, html, 'text/html', 'evil.html');
    const res = await get(`/_matrix/client/v1/media/download/${idOf(r.json.content_uri)}`, bob.access_token);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-disposition'), 'attachment; filename="evil.html"');
    assert.equal(
      res.headers.get('content-security-policy'),
      "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; style-src 'unsafe-inline'; media-src 'self'; object-src 'self';",
    );
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(await res.text(), html);
    const thumb = await get(`/_matrix/client/v1/media/thumbnail/${idOf(r.json.content_uri)}?width=32&height=32`, bob.access_token);
    assert.equal(thumb.status, 400);
    await thumb.arrayBuffer();
  });

  test('size limit is M_TOO_LARGE, quota is M_FORBIDDEN, config announces the limit', async () => {
    const config = await srv.request('GET', '/_matrix/client/v1/media/config', { token: alice.access_token });
    assert.deepEqual(config.json, { 'm.upload.size': 2 * 1024 * 1024 });
    const big = await upload(alice.access_token, Buffer.alloc(2 * 1024 * 1024 + 1), 'application/octet-stream');
    assert.equal(big.status, 413);
    assert.equal(big.json.errcode, 'M_TOO_LARGE');
    const carol = await srv.registerUser('carol');
    const chunk = Buffer.alloc(1536 * 1024, 1);
    for (let i = 0; i < 2; i++) assert.equal((await upload(carol.access_token, chunk, 'application/octet-stream')).status, 200);
    const over = await upload(carol.access_token, chunk, 'application/octet-stream');
    assert.equal(over.status, 403);
    assert.equal(over.json.errcode, 'M_FORBIDDEN');
    // Other users keep their own quota.
    assert.equal((await upload(bob.access_token, chunk, 'application/octet-stream')).status, 200);
  });

  test('asynchronous upload: create, wait, PUT, no overwrite, only by its creator', async () => {
    const created = await srv.request('POST', '/_matrix/media/v1/create', { token: alice.access_token, body: {} });
    assert.equal(created.status, 200);
    assert.ok(created.json.unused_expires_at > Date.now());
    const id = idOf(created.json.content_uri);
    const early = await get(`/_matrix/client/v1/media/download/${id}?timeout_ms=50`, bob.access_token);
    assert.equal(early.status, 504);
    assert.equal(((await early.json()) as { errcode: string }).errcode, 'M_NOT_YET_UPLOADED');

    const waiting = get(`/_matrix/client/v1/media/download/${id}?timeout_ms=10000`, bob.access_token);
    const put = (token: string) =>
      fetch(`${srv.url}/_matrix/media/v3/upload/${id}?filename=note.txt`, { method: 'PUT', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'text/plain' }, body: 'hello' });
    const byBob = await put(bob.access_token);
    assert.equal(byBob.status, 403);
    await byBob.arrayBuffer();
    const first = await put(alice.access_token);
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), {});
    const res = await waiting;
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=UTF-8');
    assert.equal(await res.text(), 'hello');
    const again = await put(alice.access_token);
    assert.equal(again.status, 409);
    assert.equal(((await again.json()) as { errcode: string }).errcode, 'M_CANNOT_OVERWRITE_MEDIA');
    const unknown = await fetch(`${srv.url}/_matrix/media/v3/upload/localhost/nope`, { method: 'PUT', headers: { Authorization: `Bearer ${alice.access_token}` }, body: 'x' });
    assert.equal(unknown.status, 404);
    await unknown.arrayBuffer();
  });

  test('URL previews are off by default', async () => {
    const res = await srv.request('GET', `/_matrix/client/v1/media/preview_url?url=${encodeURIComponent('https://example.org/')}`, { token: alice.access_token });
    assert.equal(res.status, 404);
    assert.equal(res.json.errcode, 'M_UNRECOGNIZED');
  });

  test('avatars and room avatars work end to end with matrix-js-sdk (authenticated media URLs)', async () => {
    const client = makeClient(srv.url, { userId: alice.user_id, accessToken: alice.access_token, deviceId: 'AVATARS' } as never);
    const avatar = await sharp({ create: { width: 400, height: 400, channels: 3, background: '#c33' } }).png().toBuffer();
    const { content_uri } = await client.uploadContent(avatar, { type: 'image/png', name: 'me.png' });
    await client.setAvatarUrl(content_uri);
    assert.equal((await client.getProfileInfo(alice.user_id)).avatar_url, content_uri);
    const { room_id } = await client.createRoom({ name: 'Family' });
    await client.sendStateEvent(room_id, 'm.room.avatar' as never, { url: content_uri } as never, '');
    const state = (await client.getStateEvent(room_id, 'm.room.avatar', '')) as { url: string };
    const member = (await client.getStateEvent(room_id, 'm.room.member', alice.user_id)) as { avatar_url?: string };
    assert.equal(member.avatar_url, content_uri);
    const url = client.mxcUrlToHttp(state.url, 96, 96, 'crop', false, true, true);
    assert.ok(url?.startsWith(`${srv.url}/_matrix/client/v1/media/thumbnail/`), url ?? 'null');
    const res = await get(url!.slice(srv.url.length), alice.access_token);
    assert.equal(res.status, 200);
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    assert.deepEqual([meta.width, meta.height], [96, 96]);
    client.stopClient();
  });
});
