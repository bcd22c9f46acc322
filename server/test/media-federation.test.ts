/**
 * Media across servers: our media served on the federation endpoints (server-server
 * content_repository.yaml: multipart/mixed, JSON part then bytes) behind X-Matrix, remote media
 * fetched once through a RemoteMediaFetcher and cached, and the housekeeping services the admin
 * API calls (list, quarantine, delete, purge of the remote cache).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { startTestServer, type TestServer } from './harness.ts';
import { openSqlJsDatabase } from '../storage/sqljs/open.ts';
import type { Database } from '../storage/storage.ts';
import { DEFAULT_SETTINGS, mergeSettings } from '../config/settings.ts';
import { createLogger } from '../logger.ts';
import { createApp } from '../api/http/app.ts';
import * as federationMediaApi from '../api/federation/media.ts';
import { createMediaServices, type MediaServices } from '../wiring-media.ts';
import { MatrixError } from '../errors.ts';

describe('media over federation and housekeeping', () => {
  let dataDir: string;
  let db: Database;
  let media: MediaServices;
  let http: Server;
  let base: string;
  const fetched: string[] = [];

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'hearth-media-'));
    db = await openSqlJsDatabase({ dataDir });
    const settings = mergeSettings(DEFAULT_SETTINGS, { dataDir, serverName: 'home.test' });
    media = await createMediaServices({ db, settings: () => settings, serverName: 'home.test', log: createLogger('error', () => {}) });
    media.setRemoteFetcher({
      async fetch(serverName, mediaId) {
        fetched.push(`${serverName}/${mediaId}`);
        if (mediaId === 'missing') throw new MatrixError(404, 'M_NOT_FOUND', 'no');
        return { stream: Readable.from([Buffer.from(`remote bytes of ${mediaId}`)]), contentType: 'text/plain', filename: 'r.txt' };
      },
    });
    const { app } = createApp({
      log: createLogger('error', () => {}),
      maxJsonBodyBytes: 1 << 20,
      mount: (r) => federationMediaApi.register(r, { federationAuth: (_req, _res, next) => next(), serverName: 'home.test', media: media.repository }),
    });
    http = createServer(app);
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  after(async () => {
    http.close();
    await media.repository.close();
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('our media is served to other servers as multipart/mixed', async () => {
    const mxc = await media.repository.upload('@alice:home.test', { body: Readable.from([Buffer.from('<svg/>')]), contentType: 'image/svg+xml', filename: 'x.svg' });
    const res = await fetch(`${base}/_matrix/federation/v1/media/download/${mxc.split('/').pop()}`);
    assert.equal(res.status, 200);
    const boundary = /^multipart\/mixed; boundary=(\w+)$/.exec(res.headers.get('content-type') ?? '')?.[1];
    assert.ok(boundary);
    const body = await res.text();
    const parts = body.split(`--${boundary}`);
    assert.equal(parts.length, 4); // preamble '', JSON part, media part, '--\r\n'
    assert.equal(parts[1], '\r\nContent-Type: application/json\r\n\r\n{}\r\n');
    assert.equal(parts[2], '\r\nContent-Type: image/svg+xml\r\nContent-Disposition: attachment; filename="x.svg"\r\n\r\n<svg/>\r\n');
    assert.equal(parts[3], '--\r\n');
    const none = await fetch(`${base}/_matrix/federation/v1/media/download/unknownMedia`);
    assert.equal(none.status, 404);
    await none.arrayBuffer();
  });

  test('remote media is fetched once, cached, and purged from the cache', async () => {
    const key = { origin: 'remote.test', mediaId: 'abc' };
    const first = await media.repository.download(key);
    const second = await media.repository.download(key);
    assert.equal(first.path, second.path);
    assert.deepEqual(fetched, ['remote.test/abc']);
    await assert.rejects(media.repository.download({ origin: 'remote.test', mediaId: 'missing' }), (e: MatrixError) => e.status === 404);
    await assert.rejects(media.repository.download(key, { allowRemote: false }), (e: MatrixError) => e.status === 404);
    assert.equal(await media.repository.purgeRemoteMedia(Date.now() + 1), 1);
    assert.equal(media.repository.info(key), undefined);
    await media.repository.download(key);
    assert.equal(fetched.length, 3);
  });

  test('admin services: list, quarantine, delete a user media', async () => {
    const user = '@bob:home.test';
    const mxcs = [];
    for (const t of ['one', 'two']) mxcs.push(await media.repository.upload(user, { body: Readable.from([Buffer.from(t)]), contentType: 'text/plain', filename: `${t}.txt` }));
    const listed = media.repository.listUserMedia(user, { from: 0, limit: 10, orderBy: 'created_ts', dir: 'f' });
    assert.equal(listed.total, 2);
    assert.equal(media.repository.userUsage(user), 6);
    const key = { origin: 'home.test', mediaId: mxcs[0]!.split('/').pop()! };
    assert.equal(await media.repository.quarantine(key, '@admin:home.test'), true);
    await assert.rejects(media.repository.download(key), (e: MatrixError) => e.status === 404);
    assert.equal(await media.repository.quarantine(key, null), true);
    assert.equal((await media.repository.download(key)).size, 3);
    assert.deepEqual((await media.repository.deleteUserMedia(user)).sort(), mxcs.map((m) => m.split('/').pop()!).sort());
    assert.equal(media.repository.listUserMedia(user, { from: 0, limit: 10, orderBy: 'created_ts', dir: 'f' }).total, 0);
    await assert.rejects(media.repository.download(key), (e: MatrixError) => e.status === 404);
  });
});

describe('federation media endpoints on a real server', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(() => srv.close());

  test('require X-Matrix authentication', async () => {
    const res = await srv.request('GET', '/_matrix/federation/v1/media/download/anything');
    assert.equal(res.status, 401);
    assert.equal(res.json.errcode, 'M_UNAUTHORIZED');
  });
});
