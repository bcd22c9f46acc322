/**
 * The desktop window's admin session (Homeserver.mintAdminSession, used by main/admin-session.ts
 * through main/index.ts): null before setup; afterwards a short-lived token on the first admin
 * that works against the admin API (/_hearth/api/v1 on the admin listener) and expires; a new mint
 * replaces the previous token on the same device instead of adding devices.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './harness.ts';

let f: TestServer;
const PASSWORD = 'kettle-orchard-lantern-42';

before(async () => {
  f = await startTestServer({ registration: 'closed' });
});
after(async () => {
  await f?.close();
});

async function admin(path: string, token?: string): Promise<{ status: number; json: any }> {
  const res = await fetch(f.hs.urls.admin + path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  return { status: res.status, json: await res.json() };
}

test('before setup there is no admin, so no session', async () => {
  assert.equal(await f.hs.mintAdminSession(), null);
});

test('after setup: a token on the first admin that works against the admin API, then expires', async () => {
  const setup = await fetch(`${f.hs.urls.admin}/_hearth/api/v1/setup`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ serverName: 'localhost', admin: { username: 'mum', password: PASSWORD }, tlsMode: 'none', registration: 'closed', federationEnabled: false }),
  });
  assert.equal(setup.status, 200);

  const s = await f.hs.mintAdminSession(60_000);
  assert.ok(s);
  assert.equal(s.userId, '@mum:localhost');
  assert.ok(s.expiresTs > Date.now() + 50_000 && s.expiresTs <= Date.now() + 60_000);
  const status = await admin('/_hearth/api/v1/status', s.accessToken);
  assert.equal(status.status, 200, JSON.stringify(status.json));
  assert.equal((await admin('/_hearth/api/v1/status')).status, 401, 'the admin API needs the token');

  // A new mint replaces the previous token on the same device.
  const short = await f.hs.mintAdminSession(300);
  assert.ok(short);
  assert.equal(short.deviceId, s.deviceId);
  assert.equal((await admin('/_hearth/api/v1/status', s.accessToken)).status, 401, 'the replaced token is revoked');
  assert.equal((await admin('/_hearth/api/v1/status', short.accessToken)).status, 200);
  const devices = await f.request('GET', '/_matrix/client/v3/devices', { token: short.accessToken });
  assert.equal(devices.json.devices.filter((d: { device_id: string }) => d.device_id === short.deviceId).length, 1, 'one desktop device, however often it mints');

  await new Promise((r) => setTimeout(r, 400));
  const expired = await admin('/_hearth/api/v1/status', short.accessToken);
  assert.equal(expired.status, 401);
  assert.equal(expired.json.errcode, 'M_UNKNOWN_TOKEN');
});
