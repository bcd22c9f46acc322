// Synapse's media admin API handlers (api/admin/synapse/media.ts) over real HTTP against a
// recording media repository: Synapse's request parameters and response shapes, local-only
// deletion, admins only.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { createApp } from '../api/http/app.ts';
import { createLogger } from '../logger.ts';
import * as mediaApi from '../api/admin/synapse/media.ts';
import type { MediaAdmin } from '../api/admin/synapse/media.ts';
import type { MediaRecord } from '../storage/media.ts';

const A = '/_synapse/admin/v1';

const record: MediaRecord = {
  origin: 'localhost',
  mediaId: 'abc',
  fileId: '00',
  userId: '@u:localhost',
  contentType: 'image/png',
  uploadName: 'cat.png',
  size: 67,
  sha256: null,
  createdTs: 100400,
  uploadedTs: 100400,
  expiresTs: null,
  lastAccessTs: 100500,
  quarantinedBy: null,
  safeFromQuarantine: false,
};

async function serve(media: MediaAdmin): Promise<{ server: Server; url: string }> {
  const { app } = createApp({
    log: createLogger('silent'),
    maxJsonBodyBytes: 65536,
    mount: (r) =>
      mediaApi.register(r, {
        tokens: { resolve: (t) => ({ userId: t === 'admin' ? '@root:localhost' : '@u:localhost', deviceId: 'D', isAdmin: t === 'admin', accessTokenId: 1 }) },
        serverName: 'localhost',
        roomMedia: () => ({ local: [], remote: [] }),
        media,
      }),
  });
  const server = createServer(app);
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('Synapse media admin API', () => {
  const calls: unknown[][] = [];
  const fake: MediaAdmin = {
    listUserMedia: (userId, opts) => (calls.push(['list', userId, opts]), { media: [record], total: 3 }),
    deleteMedia: async (key) => (calls.push(['delete', key]), key.mediaId === 'abc'),
    deleteUserMedia: async (userId) => (calls.push(['deleteUser', userId]), ['abc']),
    deleteLocalMediaBefore: async (ts, size) => (calls.push(['deleteBefore', ts, size]), ['abc', 'def']),
    purgeRemoteMedia: async (ts) => (calls.push(['purge', ts]), 4),
    quarantine: async (key, by) => (calls.push(['quarantine', key, by]), true),
  };
  let withRepo: { server: Server; url: string };
  const req = async (base: string, method: string, path: string, token = 'admin') => {
    const r = await fetch(base + A + path, { method, headers: { Authorization: `Bearer ${token}` } });
    return { status: r.status, json: (await r.json()) as any };
  };

  before(async () => {
    withRepo = await serve(fake);
  });
  after(() => withRepo.server.close());

  it('lists a user media with Synapse fields, newest first by default', async () => {
    const r = await req(withRepo.url, 'GET', '/users/%40u%3Alocalhost/media?limit=1');
    assert.deepEqual(r.json, {
      media: [{ created_ts: 100400, last_access_ts: 100500, media_id: 'abc', media_length: 67, media_type: 'image/png', quarantined_by: null, safe_from_quarantine: false, upload_name: 'cat.png' }],
      total: 3,
      next_token: 1,
    });
    assert.deepEqual(calls.at(-1), ['list', '@u:localhost', { from: 0, limit: 1, orderBy: 'created_ts', dir: 'b' }]);
    await req(withRepo.url, 'GET', '/users/%40u%3Alocalhost/media?order_by=media_length');
    assert.deepEqual(calls.at(-1), ['list', '@u:localhost', { from: 0, limit: 100, orderBy: 'size', dir: 'f' }]);
    assert.equal((await req(withRepo.url, 'GET', '/users/%40u%3Alocalhost/media?order_by=colour')).status, 400);
  });

  it('deletes media (local only), by user and by age and size; purges the remote cache; quarantines', async () => {
    assert.deepEqual((await req(withRepo.url, 'DELETE', '/media/localhost/abc')).json, { deleted_media: ['abc'], total: 1 });
    assert.equal((await req(withRepo.url, 'DELETE', '/media/localhost/zzz')).status, 404);
    assert.equal((await req(withRepo.url, 'DELETE', '/media/other.org/abc')).status, 400);
    assert.deepEqual((await req(withRepo.url, 'DELETE', '/users/%40u%3Alocalhost/media')).json, { deleted_media: ['abc'], total: 1 });
    assert.deepEqual((await req(withRepo.url, 'POST', '/media/localhost/delete?before_ts=5000&size_gt=10')).json, { deleted_media: ['abc', 'def'], total: 2 });
    assert.deepEqual(calls.at(-1), ['deleteBefore', 5000, 10]);
    assert.equal((await req(withRepo.url, 'POST', '/media/localhost/delete')).status, 400);
    assert.deepEqual((await req(withRepo.url, 'POST', '/purge_media_cache?before_ts=7')).json, { deleted: 4 });
    assert.deepEqual((await req(withRepo.url, 'POST', '/media/quarantine/other.org/x')).json, {});
    assert.deepEqual(calls.at(-1), ['quarantine', { origin: 'other.org', mediaId: 'x' }, '@root:localhost']);
    assert.equal((await req(withRepo.url, 'POST', '/purge_media_cache?before_ts=7', 'user')).status, 403);
  });
});
