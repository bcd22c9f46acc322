// Devices, user-interactive auth with the account password, password change, deactivation and
// third-party id endpoints over real HTTP (device_management.yaml, password_management.yaml,
// account_deactivation.yaml, administrative_contact.yaml).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startAccountsFixture, type AccountsFixture } from './accounts-fixture.ts';

const V3 = '/_matrix/client/v3';

async function login(fx: AccountsFixture, user: string, password: string, extra: Record<string, unknown> = {}) {
  const res = await fx.request('POST', `${V3}/login`, { body: { type: 'm.login.password', user, password, ...extra } });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json as { access_token: string; device_id: string; user_id: string };
}

describe('devices', () => {
  let fx: AccountsFixture;
  let main: { access_token: string; device_id: string };
  before(async () => {
    fx = await startAccountsFixture();
    main = await fx.registerUser('erin', 'erin-pw', { initial_device_display_name: 'Laptop', device_id: 'MAIN' });
  });
  after(() => fx.close());

  it('lists devices with last-seen data', async () => {
    const res = await fx.request('GET', `${V3}/devices`, { token: main.access_token });
    assert.equal(res.status, 200);
    assert.equal(res.json.devices.length, 1);
    const d = res.json.devices[0];
    assert.equal(d.device_id, 'MAIN');
    assert.equal(d.display_name, 'Laptop');
    assert.equal(d.last_seen_ip, '127.0.0.1');
    assert.equal(typeof d.last_seen_ts, 'number');
    // Batched last-seen data reaches storage on flush.
    await fx.services.tokens.flushLastSeen();
    assert.equal(fx.services.store.getDevice('@erin:localhost', 'MAIN')!.lastSeenIp, '127.0.0.1');
  });

  it('gets, renames and 404s', async () => {
    const get = await fx.request('GET', `${V3}/devices/MAIN`, { token: main.access_token });
    assert.equal(get.json.device_id, 'MAIN');
    const missing = await fx.request('GET', `${V3}/devices/NOPE`, { token: main.access_token });
    assert.deepEqual([missing.status, missing.json.errcode], [404, 'M_NOT_FOUND']);
    const before = fx.events.length;
    const put = await fx.request('PUT', `${V3}/devices/MAIN`, { token: main.access_token, body: { display_name: 'Desk' } });
    assert.deepEqual([put.status, put.json], [200, {}]);
    assert.equal((await fx.request('GET', `${V3}/devices/MAIN`, { token: main.access_token })).json.display_name, 'Desk');
    assert.equal(fx.events.length, before + 1);
    const putMissing = await fx.request('PUT', `${V3}/devices/NOPE`, { token: main.access_token, body: { display_name: 'x' } });
    assert.equal(putMissing.status, 404);
    const badBody = await fx.request('PUT', `${V3}/devices/MAIN`, { token: main.access_token, body: { display_name: 3 } });
    assert.equal(badBody.status, 400);
    const noAuth = await fx.request('GET', `${V3}/devices`);
    assert.equal(noAuth.status, 401);
  });

  it('deleting a device needs the password (UIA) and revokes its tokens', async () => {
    const other = await login(fx, 'erin', 'erin-pw', { device_id: 'OTHER' });
    const first = await fx.request('DELETE', `${V3}/devices/OTHER`, { token: main.access_token });
    assert.equal(first.status, 401);
    assert.deepEqual(first.json.flows, [{ stages: ['m.login.password'] }]);
    const session = first.json.session;

    const wrong = await fx.request('DELETE', `${V3}/devices/OTHER`, {
      token: main.access_token,
      body: { auth: { type: 'm.login.password', session, identifier: { type: 'm.id.user', user: 'erin' }, password: 'bad' } },
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.errcode, 'M_FORBIDDEN');
    assert.equal(wrong.json.session, session);
    assert.equal((await fx.request('GET', `${V3}/account/whoami`, { token: other.access_token })).status, 200);

    const eventsBefore = fx.events.length;
    const ok = await fx.request('DELETE', `${V3}/devices/OTHER`, {
      token: main.access_token,
      body: { auth: { type: 'm.login.password', session, identifier: { type: 'm.id.user', user: '@erin:localhost' }, password: 'erin-pw' } },
    });
    assert.deepEqual([ok.status, ok.json], [200, {}]);
    const revoked = await fx.request('GET', `${V3}/account/whoami`, { token: other.access_token });
    assert.deepEqual([revoked.status, revoked.json.errcode], [401, 'M_UNKNOWN_TOKEN']);
    const ev = fx.events.slice(eventsBefore).find((e) => e.name === 'deviceListChanged') as { payload: { userId: string; streamPosition: number } };
    assert.equal(ev.payload.userId, '@erin:localhost');
    assert.ok(ev.payload.streamPosition > 0);
    // The session was used up.
    const replay = await fx.request('DELETE', `${V3}/devices/MAIN`, { token: main.access_token, body: { auth: { session } } });
    assert.equal(replay.status, 400);
  });

  it('password stage refuses someone else’s credentials', async () => {
    await fx.registerUser('frank', 'frank-pw');
    const res = await fx.request('POST', `${V3}/delete_devices`, {
      token: main.access_token,
      body: { devices: ['MAIN'], auth: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'frank' }, password: 'frank-pw' } },
    });
    assert.equal(res.status, 401);
    assert.equal(res.json.errcode, 'M_FORBIDDEN');
  });

  it('a UIA session cannot be reused for another user or operation', async () => {
    const frank = await login(fx, 'frank', 'frank-pw');
    const first = await fx.request('POST', `${V3}/delete_devices`, { token: main.access_token, body: { devices: [] } });
    const hijack = await fx.request('POST', `${V3}/delete_devices`, {
      token: frank.access_token,
      body: { devices: [], auth: { type: 'm.login.password', session: first.json.session, user: 'frank', password: 'frank-pw' } },
    });
    assert.deepEqual([hijack.status, hijack.json.errcode], [403, 'M_FORBIDDEN']);
    const otherOp = await fx.request('POST', `${V3}/account/password`, {
      token: main.access_token,
      body: { new_password: 'x', auth: { type: 'm.login.password', session: first.json.session, user: 'erin', password: 'erin-pw' } },
    });
    assert.deepEqual([otherOp.status, otherOp.json.errcode], [403, 'M_FORBIDDEN']);
    const unknown = await fx.request('POST', `${V3}/delete_devices`, { token: main.access_token, body: { devices: [], auth: { session: 'nope' } } });
    assert.equal(unknown.status, 400);
  });

  it('delete_devices removes several devices at once and validates its body', async () => {
    await login(fx, 'erin', 'erin-pw', { device_id: 'D1' });
    await login(fx, 'erin', 'erin-pw', { device_id: 'D2' });
    const missing = await fx.request('POST', `${V3}/delete_devices`, { token: main.access_token, body: {} });
    assert.deepEqual([missing.status, missing.json.errcode], [400, 'M_MISSING_PARAM']);
    const res = await fx.request('POST', `${V3}/delete_devices`, {
      token: main.access_token,
      body: { devices: ['D1', 'D2', 'UNKNOWN'], auth: { type: 'm.login.password', user: 'erin', password: 'erin-pw' } },
    });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const list = await fx.request('GET', `${V3}/devices`, { token: main.access_token });
    assert.deepEqual(list.json.devices.map((d: any) => d.device_id), ['MAIN']);
  });
});

describe('password change and deactivation', () => {
  let fx: AccountsFixture;
  before(async () => {
    fx = await startAccountsFixture();
  });
  after(() => fx.close());

  it('changes the password and logs out other devices by default', async () => {
    const me = await fx.registerUser('gina', 'old-pw');
    const other = await login(fx, 'gina', 'old-pw');
    const missing = await fx.request('POST', `${V3}/account/password`, { token: me.access_token, body: {} });
    assert.deepEqual([missing.status, missing.json.errcode], [400, 'M_MISSING_PARAM']);
    const challenge = await fx.request('POST', `${V3}/account/password`, { token: me.access_token, body: { new_password: 'new-pw' } });
    assert.equal(challenge.status, 401);
    const res = await fx.request('POST', `${V3}/account/password`, {
      token: me.access_token,
      body: { new_password: 'new-pw', auth: { type: 'm.login.password', session: challenge.json.session, identifier: { type: 'm.id.user', user: 'gina' }, password: 'old-pw' } },
    });
    assert.deepEqual([res.status, res.json], [200, {}]);
    assert.equal((await fx.request('GET', `${V3}/account/whoami`, { token: me.access_token })).status, 200, 'current device kept');
    assert.equal((await fx.request('GET', `${V3}/account/whoami`, { token: other.access_token })).status, 401, 'other device logged out');
    const oldLogin = await fx.request('POST', `${V3}/login`, { body: { type: 'm.login.password', user: 'gina', password: 'old-pw' } });
    assert.equal(oldLogin.status, 403);
    await login(fx, 'gina', 'new-pw');
  });

  it('keeps other devices with logout_devices: false', async () => {
    const me = await fx.registerUser('hank', 'pw1');
    const other = await login(fx, 'hank', 'pw1');
    const res = await fx.request('POST', `${V3}/account/password`, {
      token: me.access_token,
      body: { new_password: 'pw2', logout_devices: false, auth: { type: 'm.login.password', user: 'hank', password: 'pw1' } },
    });
    assert.equal(res.status, 200);
    assert.equal((await fx.request('GET', `${V3}/account/whoami`, { token: other.access_token })).status, 200);
  });

  it('deactivation needs the password, revokes tokens and blocks login', async () => {
    const me = await fx.registerUser('ivan', 'ivan-pw');
    const other = await login(fx, 'ivan', 'ivan-pw');
    const challenge = await fx.request('POST', `${V3}/account/deactivate`, { token: me.access_token, body: {} });
    assert.equal(challenge.status, 401);
    assert.deepEqual(challenge.json.flows, [{ stages: ['m.login.password'] }]);
    const res = await fx.request('POST', `${V3}/account/deactivate`, {
      token: me.access_token,
      body: { erase: false, auth: { type: 'm.login.password', session: challenge.json.session, user: 'ivan', password: 'ivan-pw' } },
    });
    assert.deepEqual([res.status, res.json], [200, { id_server_unbind_result: 'no-support' }]);
    assert.ok(fx.events.some((e) => e.name === 'userDeactivated' && (e.payload as any).userId === '@ivan:localhost'));
    for (const t of [me, other]) assert.equal((await fx.request('GET', `${V3}/account/whoami`, { token: t.access_token })).status, 401);
    const again = await fx.request('POST', `${V3}/login`, { body: { type: 'm.login.password', user: 'ivan', password: 'ivan-pw' } });
    assert.deepEqual([again.status, again.json.errcode], [403, 'M_FORBIDDEN']);
    // The user id stays taken.
    const reg = await fx.request('GET', `${V3}/register/available?username=ivan`);
    assert.equal(reg.json.errcode, 'M_USER_IN_USE');
  });
});

describe('third-party identifiers', () => {
  let fx: AccountsFixture;
  let token: string;
  before(async () => {
    fx = await startAccountsFixture();
    token = (await fx.registerUser('judy', 'pw')).access_token;
  });
  after(() => fx.close());

  it('lists none and refuses to add or bind with spec errors', async () => {
    assert.deepEqual((await fx.request('GET', `${V3}/account/3pid`, { token })).json, { threepids: [] });
    const add = await fx.request('POST', `${V3}/account/3pid/add`, { token, body: { client_secret: 'c', sid: 's' } });
    assert.deepEqual([add.status, add.json.errcode], [400, 'M_THREEPID_AUTH_FAILED']);
    const addMissing = await fx.request('POST', `${V3}/account/3pid/add`, { token, body: {} });
    assert.deepEqual([addMissing.status, addMissing.json.errcode], [400, 'M_MISSING_PARAM']);
    const bind = await fx.request('POST', `${V3}/account/3pid/bind`, { token, body: { client_secret: 'c', sid: 's', id_server: 'x', id_access_token: 'y' } });
    assert.deepEqual([bind.status, bind.json.errcode], [403, 'M_THREEPID_DENIED']);
    const legacy = await fx.request('POST', `${V3}/account/3pid`, { token, body: { three_pid_creds: { sid: 's', client_secret: 'c' } } });
    assert.deepEqual([legacy.status, legacy.json.errcode], [403, 'M_THREEPID_AUTH_FAILED']);
    for (const p of ['delete', 'unbind']) {
      const r = await fx.request('POST', `${V3}/account/3pid/${p}`, { token, body: { medium: 'email', address: 'a@b.c' } });
      assert.deepEqual([r.status, r.json], [200, { id_server_unbind_result: 'no-support' }]);
    }
    for (const p of ['account/3pid/email', 'account/3pid/msisdn', 'account/password/email', 'register/msisdn']) {
      const r = await fx.request('POST', `${V3}/${p}/requestToken`, { body: { client_secret: 'c', send_attempt: 1 } });
      assert.deepEqual([r.status, r.json.errcode], [403, 'M_THREEPID_DENIED'], p);
    }
  });
});
