/** Server-side key backups over real HTTP (key_backup.yaml): versions, keys at three levels,
 * etag and count, the keep-the-better-key rule, M_NOT_FOUND and M_WRONG_ROOM_KEYS_VERSION. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startE2eeTestApp, type E2eeTestApp } from './e2ee-harness.ts';

let app: E2eeTestApp;
let tok: string;
before(async () => {
  app = await startE2eeTestApp();
  tok = app.login('@alice:localhost', 'ADEV');
});
after(async () => {
  await app.close();
});

const ALGO = 'm.megolm_backup.v1.curve25519-aes-sha2';
const ROOM = '!room:localhost';
const P = '/_matrix/client/v3';
const key = (first_message_index: number, forwarded_count: number, is_verified: boolean, tag: string) => ({
  first_message_index,
  forwarded_count,
  is_verified,
  session_data: { ephemeral: 'e', ciphertext: tag, mac: 'm' },
});
const req = (method: string, path: string, body?: unknown) => app.request(method, P + path, { token: tok, body });

test('versions: none yet → 404; create, read, update, delete', async () => {
  const none = await req('GET', '/room_keys/version');
  assert.equal(none.status, 404);
  assert.equal(none.json.errcode, 'M_NOT_FOUND');

  const c = await req('POST', '/room_keys/version', { algorithm: ALGO, auth_data: { public_key: 'abc' } });
  assert.equal(c.status, 200);
  assert.equal(typeof c.json.version, 'string');
  const v = c.json.version as string;

  const cur = await req('GET', '/room_keys/version');
  assert.deepEqual(cur.json, { algorithm: ALGO, auth_data: { public_key: 'abc' }, count: 0, etag: cur.json.etag, version: v });
  assert.equal(typeof cur.json.etag, 'string');
  assert.equal((await req('GET', `/room_keys/version/${v}`)).status, 200);
  const unknown = await req('GET', '/room_keys/version/999');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.errcode, 'M_NOT_FOUND');

  const upd = await req('PUT', `/room_keys/version/${v}`, { algorithm: ALGO, auth_data: { public_key: 'def' }, version: v });
  assert.equal(upd.status, 200);
  assert.deepEqual((await req('GET', `/room_keys/version/${v}`)).json.auth_data, { public_key: 'def' });
  const wrongAlgo = await req('PUT', `/room_keys/version/${v}`, { algorithm: 'other', auth_data: {} });
  assert.equal(wrongAlgo.status, 400);
  assert.equal(wrongAlgo.json.errcode, 'M_INVALID_PARAM');
  const mismatch = await req('PUT', `/room_keys/version/${v}`, { algorithm: ALGO, auth_data: {}, version: '77' });
  assert.equal(mismatch.status, 400);
  assert.equal((await req('PUT', '/room_keys/version/999', { algorithm: ALGO, auth_data: {} })).status, 404);
  const missing = await req('POST', '/room_keys/version', { algorithm: ALGO });
  assert.equal(missing.status, 400);
  assert.equal(missing.json.errcode, 'M_MISSING_PARAM');

  assert.equal((await req('DELETE', `/room_keys/version/${v}`)).status, 200);
  // Deleting again succeeds; a version that never existed is 404.
  assert.equal((await req('DELETE', `/room_keys/version/${v}`)).status, 200);
  assert.equal((await req('DELETE', '/room_keys/version/999')).status, 404);
  assert.equal((await req('GET', '/room_keys/version')).status, 404);
  // Version numbers are not reused.
  const c2 = await req('POST', '/room_keys/version', { algorithm: ALGO, auth_data: {} });
  assert.notEqual(c2.json.version, v);
});

test('keys: put at three levels, get, the better key wins, etag and count, delete', async () => {
  const v = (await req('POST', '/room_keys/version', { algorithm: ALGO, auth_data: {} })).json.version as string;
  const one = await req('PUT', `/room_keys/keys/${encodeURIComponent(ROOM)}/s1?version=${v}`, key(5, 1, false, 'first'));
  assert.equal(one.status, 200);
  assert.equal(one.json.count, 1);
  const etag1 = one.json.etag;

  const room = await req('PUT', `/room_keys/keys/${encodeURIComponent(ROOM)}?version=${v}`, { sessions: { s2: key(0, 0, true, 's2') } });
  assert.equal(room.json.count, 2);
  assert.notEqual(room.json.etag, etag1);
  const all = await req('PUT', `/room_keys/keys?version=${v}`, { rooms: { '!other:localhost': { sessions: { s3: key(0, 0, false, 's3') } } } });
  assert.equal(all.json.count, 3);

  // Worse keys do not replace: unverified loses to verified, higher index and more forwards lose.
  await req('PUT', `/room_keys/keys/${encodeURIComponent(ROOM)}/s2?version=${v}`, key(0, 0, false, 'worse'));
  await req('PUT', `/room_keys/keys/${encodeURIComponent(ROOM)}/s1?version=${v}`, key(6, 0, false, 'worse'));
  await req('PUT', `/room_keys/keys/${encodeURIComponent(ROOM)}/s1?version=${v}`, key(5, 2, false, 'worse'));
  assert.equal((await req('GET', `/room_keys/keys/${encodeURIComponent(ROOM)}/s1?version=${v}`)).json.session_data.ciphertext, 'first');
  assert.equal((await req('GET', `/room_keys/keys/${encodeURIComponent(ROOM)}/s2?version=${v}`)).json.session_data.ciphertext, 's2');
  // Better ones do: lower index, then verified.
  const better = await req('PUT', `/room_keys/keys/${encodeURIComponent(ROOM)}/s1?version=${v}`, key(3, 4, false, 'better'));
  assert.equal((await req('GET', `/room_keys/keys/${encodeURIComponent(ROOM)}/s1?version=${v}`)).json.session_data.ciphertext, 'better');
  await req('PUT', `/room_keys/keys/${encodeURIComponent(ROOM)}/s1?version=${v}`, key(9, 9, true, 'verified'));
  assert.deepEqual((await req('GET', `/room_keys/keys/${encodeURIComponent(ROOM)}/s1?version=${v}`)).json, key(9, 9, true, 'verified'));
  assert.equal(better.json.count, 3);

  const info = await req('GET', `/room_keys/version/${v}`);
  assert.equal(info.json.count, 3);

  const everything = await req('GET', `/room_keys/keys?version=${v}`);
  assert.deepEqual(Object.keys(everything.json.rooms).sort(), ['!other:localhost', ROOM]);
  assert.deepEqual(Object.keys(everything.json.rooms[ROOM].sessions).sort(), ['s1', 's2']);
  const inRoom = await req('GET', `/room_keys/keys/${encodeURIComponent(ROOM)}?version=${v}`);
  assert.deepEqual(Object.keys(inRoom.json.sessions).sort(), ['s1', 's2']);
  assert.deepEqual((await req('GET', `/room_keys/keys/${encodeURIComponent('!empty:localhost')}?version=${v}`)).json, { sessions: {} });
  const noKey = await req('GET', `/room_keys/keys/${encodeURIComponent(ROOM)}/nope?version=${v}`);
  assert.equal(noKey.status, 404);
  assert.equal(noKey.json.errcode, 'M_NOT_FOUND');

  const delOne = await req('DELETE', `/room_keys/keys/${encodeURIComponent(ROOM)}/s1?version=${v}`);
  assert.equal(delOne.json.count, 2);
  const delRoom = await req('DELETE', `/room_keys/keys/${encodeURIComponent(ROOM)}?version=${v}`);
  assert.equal(delRoom.json.count, 1);
  const delAll = await req('DELETE', `/room_keys/keys?version=${v}`);
  assert.equal(delAll.json.count, 0);
});

test('key errors: wrong version → 403 M_WRONG_ROOM_KEYS_VERSION, unknown → 404, missing version, bad body', async () => {
  const old = (await req('POST', '/room_keys/version', { algorithm: ALGO, auth_data: {} })).json.version as string;
  const current = (await req('POST', '/room_keys/version', { algorithm: ALGO, auth_data: {} })).json.version as string;
  const wrong = await req('PUT', `/room_keys/keys/${encodeURIComponent(ROOM)}/s1?version=${old}`, key(0, 0, false, 'x'));
  assert.equal(wrong.status, 403);
  assert.equal(wrong.json.errcode, 'M_WRONG_ROOM_KEYS_VERSION');
  assert.equal(wrong.json.current_version, current);

  const get404 = await req('GET', '/room_keys/keys?version=12345');
  assert.equal(get404.status, 404);
  assert.equal(get404.json.errcode, 'M_NOT_FOUND');
  assert.equal((await req('DELETE', '/room_keys/keys?version=12345')).status, 404);

  const noVersion = await req('PUT', `/room_keys/keys/${encodeURIComponent(ROOM)}/s1`, key(0, 0, false, 'x'));
  assert.equal(noVersion.status, 400);
  assert.equal(noVersion.json.errcode, 'M_MISSING_PARAM');
  const badBody = await req('PUT', `/room_keys/keys/${encodeURIComponent(ROOM)}/s1?version=${current}`, { first_message_index: 'zero' });
  assert.equal(badBody.status, 400);
  const notJson = await app.request('PUT', `${P}/room_keys/keys?version=${current}`, { token: tok, rawBody: '{' });
  assert.equal(notJson.json.errcode, 'M_NOT_JSON');

  // Another user's backups are invisible.
  const bobTok = app.login('@bob:localhost', 'BDEV');
  const theirs = await app.request('GET', `${P}/room_keys/version/${current}`, { token: bobTok });
  assert.equal(theirs.status, 404);
  // With no backup at all, a key write is 404.
  const none = await app.request('PUT', `${P}/room_keys/keys?version=1`, { token: bobTok, body: { rooms: {} } });
  assert.equal(none.status, 404);
});
