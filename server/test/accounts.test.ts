// Registration, login, whoami, logout and refresh over real HTTP (registration.yaml, login.yaml,
// logout.yaml, refresh.yaml, whoami.yaml).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startAccountsFixture, type AccountsFixture } from './accounts-fixture.ts';

const V3 = '/_matrix/client/v3';

describe('registration', () => {
  let fx: AccountsFixture;
  before(async () => {
    fx = await startAccountsFixture();
  });
  after(() => fx.close());

  it('answers a request without auth with 401 flows and a session', async () => {
    const res = await fx.request('POST', `${V3}/register`, { body: { username: 'flowcheck', password: 'pw123456' } });
    assert.equal(res.status, 401);
    assert.deepEqual(res.json.flows, [{ stages: ['m.login.dummy'] }]);
    assert.equal(typeof res.json.session, 'string');
    assert.deepEqual(res.json.completed, []);
    assert.deepEqual(res.json.params, {});
    assert.equal(res.json.errcode, undefined);
  });

  it('registers with the dummy stage in a session and logs in', async () => {
    const first = await fx.request('POST', `${V3}/register`, { body: { username: 'Alice', password: 'pw123456' } });
    assert.equal(first.status, 401);
    const res = await fx.request('POST', `${V3}/register`, {
      body: { username: 'Alice', password: 'pw123456', initial_device_display_name: 'Phone', auth: { type: 'm.login.dummy', session: first.json.session } },
    });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.user_id, '@alice:localhost');
    assert.equal(typeof res.json.access_token, 'string');
    assert.equal(typeof res.json.device_id, 'string');
    assert.equal(res.json.refresh_token, undefined, 'no refresh token unless asked');
    assert.equal(res.json.expires_in_ms, undefined);
    const who = await fx.request('GET', `${V3}/account/whoami`, { token: res.json.access_token });
    assert.deepEqual(who.json, { user_id: '@alice:localhost', device_id: res.json.device_id, is_guest: false });
    const dev = await fx.request('GET', `${V3}/devices/${res.json.device_id}`, { token: res.json.access_token });
    assert.equal(dev.json.display_name, 'Phone');
    // Profile row created with the localpart as display name.
    const profile = fx.db.read((r) => r.get('SELECT displayname FROM profiles WHERE user_id = ?', ['@alice:localhost']));
    assert.equal(profile?.displayname, 'alice');
    // Session is used up.
    const again = await fx.request('POST', `${V3}/register`, { body: { username: 'alice2', password: 'x', auth: { type: 'm.login.dummy', session: first.json.session } } });
    assert.equal(again.status, 400);
  });

  it('rejects a taken username before auth', async () => {
    await fx.registerUser('bob');
    const res = await fx.request('POST', `${V3}/register`, { body: { username: 'bob', password: 'pw' } });
    assert.equal(res.status, 400);
    assert.equal(res.json.errcode, 'M_USER_IN_USE');
    const avail = await fx.request('GET', `${V3}/register/available?username=bob`);
    assert.equal(avail.status, 400);
    assert.equal(avail.json.errcode, 'M_USER_IN_USE');
    const free = await fx.request('GET', `${V3}/register/available?username=nobody`);
    assert.deepEqual([free.status, free.json], [200, { available: true }]);
  });

  it('rejects invalid usernames', async () => {
    for (const username of ['has space', 'colon:x', 'émile', '']) {
      const res = await fx.request('POST', `${V3}/register`, { body: { username, password: 'pw' } });
      assert.equal(res.status, 400, username);
      assert.equal(res.json.errcode, 'M_INVALID_USERNAME', username);
    }
    const avail = await fx.request('GET', `${V3}/register/available?username=a%20b`);
    assert.equal(avail.json.errcode, 'M_INVALID_USERNAME');
  });

  it('generates a localpart when none is given; honours device_id and inhibit_login', async () => {
    const res = await fx.request('POST', `${V3}/register`, { body: { password: 'pw', device_id: 'MYDEVICE', auth: { type: 'm.login.dummy' } } });
    assert.equal(res.status, 200);
    assert.match(res.json.user_id, /^@[a-z0-9]+:localhost$/);
    assert.equal(res.json.device_id, 'MYDEVICE');
    const inhibited = await fx.request('POST', `${V3}/register`, { body: { username: 'quiet', password: 'pw', inhibit_login: true, auth: { type: 'm.login.dummy' } } });
    assert.equal(inhibited.status, 200);
    assert.deepEqual(Object.keys(inhibited.json).sort(), ['home_server', 'user_id']);
  });

  it('gives a refresh token only when asked', async () => {
    const res = await fx.registerUser('refresher', 'pw', { refresh_token: true });
    assert.equal(typeof res.refresh_token, 'string');
    assert.equal(typeof res.expires_in_ms, 'number');
  });

  it('refuses guests, bad JSON, wrong types and unknown kinds', async () => {
    const guest = await fx.request('POST', `${V3}/register?kind=guest`, { body: {} });
    assert.deepEqual([guest.status, guest.json.errcode], [403, 'M_GUEST_ACCESS_FORBIDDEN']);
    const kind = await fx.request('POST', `${V3}/register?kind=robot`, { body: {} });
    assert.equal(kind.status, 400);
    const notJson = await fx.request('POST', `${V3}/register`, { rawBody: '{nope' });
    assert.deepEqual([notJson.status, notJson.json.errcode], [400, 'M_NOT_JSON']);
    const badType = await fx.request('POST', `${V3}/register`, { body: { username: 5 } });
    assert.equal(badType.status, 400);
    assert.equal(badType.json.errcode, 'M_BAD_JSON', 'a present field of the wrong type');
    const array = await fx.request('POST', `${V3}/register`, { body: [] });
    assert.deepEqual([array.status, array.json.errcode], [400, 'M_BAD_JSON']);
  });

  it('requires a password once auth is complete', async () => {
    const res = await fx.request('POST', `${V3}/register`, { body: { username: 'nopass', auth: { type: 'm.login.dummy' } } });
    assert.deepEqual([res.status, res.json.errcode], [400, 'M_MISSING_PARAM']);
  });

  it('refuses an unknown stage with 401 and an errcode', async () => {
    const res = await fx.request('POST', `${V3}/register`, { body: { username: 'stagey', password: 'pw', auth: { type: 'm.login.password' } } });
    assert.equal(res.status, 401);
    assert.equal(res.json.errcode, 'M_UNRECOGNIZED');
    assert.ok(Array.isArray(res.json.flows));
  });

  it('answers 403 when registration is closed, and offers captcha in captcha mode', async () => {
    fx.mode = 'closed';
    try {
      const res = await fx.request('POST', `${V3}/register`, { body: { username: 'closed', password: 'pw' } });
      assert.deepEqual([res.status, res.json.errcode], [403, 'M_FORBIDDEN']);
      fx.mode = 'captcha';
      const cap = await fx.request('POST', `${V3}/register`, { body: { username: 'captcha', password: 'pw' } });
      assert.equal(cap.status, 401);
      assert.deepEqual(cap.json.flows, [{ stages: ['m.login.recaptcha'] }]);
    } finally {
      fx.mode = 'open';
    }
  });

  it('answers requestToken with M_THREEPID_DENIED', async () => {
    const res = await fx.request('POST', `${V3}/register/email/requestToken`, { body: { client_secret: 'x', email: 'a@b.c', send_attempt: 1 } });
    assert.deepEqual([res.status, res.json.errcode], [403, 'M_THREEPID_DENIED']);
  });
});

describe('registration tokens', () => {
  let fx: AccountsFixture;
  before(async () => {
    fx = await startAccountsFixture({ mode: 'token' });
    await fx.services.store.createRegistrationToken({ token: 'twice', usesAllowed: 2, expiryTime: null });
    await fx.services.store.createRegistrationToken({ token: 'expired', usesAllowed: null, expiryTime: Date.now() - 1000 });
  });
  after(() => fx.close());

  const reg = (username: string, auth?: unknown) => fx.request('POST', `${V3}/register`, { body: { username, password: 'pw', auth } });

  it('checks validity on the v1 path', async () => {
    const v = await fx.request('GET', '/_matrix/client/v1/register/m.login.registration_token/validity?token=twice');
    assert.deepEqual([v.status, v.json], [200, { valid: true }]);
    const e = await fx.request('GET', '/_matrix/client/v1/register/m.login.registration_token/validity?token=expired');
    assert.deepEqual(e.json, { valid: false });
    const u = await fx.request('GET', '/_matrix/client/v1/register/m.login.registration_token/validity?token=unknown');
    assert.deepEqual(u.json, { valid: false });
    const v3 = await fx.request('GET', `${V3}/register/m.login.registration_token/validity?token=twice`);
    assert.equal(v3.status, 404);
  });

  it('offers the token flow, rejects bad tokens and consumes uses exactly', async () => {
    const first = await reg('tok1');
    assert.equal(first.status, 401);
    assert.deepEqual(first.json.flows, [{ stages: ['m.login.registration_token'] }]);
    const dummy = await reg('tok1', { type: 'm.login.dummy', session: first.json.session });
    assert.equal(dummy.status, 401);
    const bad = await reg('tok1', { type: 'm.login.registration_token', token: 'expired', session: first.json.session });
    assert.equal(bad.status, 401);
    assert.equal(bad.json.errcode, 'M_UNAUTHORIZED');
    assert.equal(fx.services.store.getRegistrationToken('expired')!.pending, 0);

    const ok1 = await reg('tok1', { type: 'm.login.registration_token', token: 'twice', session: first.json.session });
    assert.equal(ok1.status, 200, JSON.stringify(ok1.json));
    assert.deepEqual(pick(fx.services.store.getRegistrationToken('twice')!), { pending: 0, completed: 1 });

    // A second session holds the last use while pending: a third is refused.
    const s2 = await reg('tok2');
    const s3 = await reg('tok3');
    const mid = await fx.request('POST', `${V3}/register`, {
      body: { username: 'tok2', password: 'pw', auth: { type: 'm.login.registration_token', token: 'twice', session: s2.json.session } },
    });
    assert.equal(mid.status, 200);
    assert.deepEqual(pick(fx.services.store.getRegistrationToken('twice')!), { pending: 0, completed: 2 });
    const refused = await reg('tok3', { type: 'm.login.registration_token', token: 'twice', session: s3.json.session });
    assert.equal(refused.status, 401);
    assert.equal(refused.json.errcode, 'M_UNAUTHORIZED');
    const v = await fx.request('GET', '/_matrix/client/v1/register/m.login.registration_token/validity?token=twice');
    assert.deepEqual(v.json, { valid: false });
  });

  it('counts a pending use while a session holds the token', async () => {
    await fx.services.store.createRegistrationToken({ token: 'once', usesAllowed: 1, expiryTime: null });
    const a = await reg('pend1');
    const b = await reg('pend2');
    // Session a completes the token stage but fails afterwards (no password): it keeps the use.
    const noPassword = await fx.request('POST', `${V3}/register`, {
      body: { username: 'pend1', auth: { type: 'm.login.registration_token', token: 'once', session: a.json.session } },
    });
    assert.deepEqual([noPassword.status, noPassword.json.errcode], [400, 'M_MISSING_PARAM']);
    assert.deepEqual(pick(fx.services.store.getRegistrationToken('once')!), { pending: 1, completed: 0 });
    const other = await reg('pend2', { type: 'm.login.registration_token', token: 'once', session: b.json.session });
    assert.equal(other.status, 401);
    const done = await fx.request('POST', `${V3}/register`, {
      body: { username: 'pend1', password: 'pw', inhibit_login: true, auth: { session: a.json.session } },
    });
    assert.equal(done.status, 200, JSON.stringify(done.json));
    assert.deepEqual(pick(fx.services.store.getRegistrationToken('once')!), { pending: 0, completed: 1 });
  });

  it('validity is 403 when tokens are not in use', async () => {
    fx.mode = 'open';
    try {
      const v = await fx.request('GET', '/_matrix/client/v1/register/m.login.registration_token/validity?token=twice');
      assert.deepEqual([v.status, v.json.errcode], [403, 'M_FORBIDDEN']);
    } finally {
      fx.mode = 'token';
    }
  });
});

function pick(t: { pending: number; completed: number }) {
  return { pending: t.pending, completed: t.completed };
}

describe('login, whoami, logout', () => {
  let fx: AccountsFixture;
  before(async () => {
    fx = await startAccountsFixture();
    await fx.registerUser('carol', 'secret-pass');
  });
  after(() => fx.close());

  it('lists only the password flow', async () => {
    const res = await fx.request('GET', `${V3}/login`);
    assert.deepEqual(res.json, { flows: [{ type: 'm.login.password' }] });
    const r0 = await fx.request('GET', '/_matrix/client/r0/login');
    assert.equal(r0.status, 200);
  });

  it('logs in with identifier (localpart or full id) and with the deprecated user field', async () => {
    for (const body of [
      { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'carol' }, password: 'secret-pass' },
      { type: 'm.login.password', identifier: { type: 'm.id.user', user: '@carol:localhost' }, password: 'secret-pass' },
      { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'CAROL' }, password: 'secret-pass' },
      { type: 'm.login.password', user: 'carol', password: 'secret-pass' },
    ]) {
      const res = await fx.request('POST', `${V3}/login`, { body });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.json.user_id, '@carol:localhost');
      assert.equal(res.json.home_server, 'localhost');
      assert.equal(res.json.refresh_token, undefined);
      const who = await fx.request('GET', `${V3}/account/whoami`, { token: res.json.access_token });
      assert.equal(who.json.device_id, res.json.device_id);
    }
  });

  it('refuses wrong passwords, unknown users, other servers and odd requests', async () => {
    const cases: [unknown, number, string][] = [
      [{ type: 'm.login.password', identifier: { type: 'm.id.user', user: 'carol' }, password: 'wrong' }, 403, 'M_FORBIDDEN'],
      [{ type: 'm.login.password', identifier: { type: 'm.id.user', user: 'nobody' }, password: 'x' }, 403, 'M_FORBIDDEN'],
      [{ type: 'm.login.password', identifier: { type: 'm.id.user', user: '@carol:elsewhere' }, password: 'secret-pass' }, 403, 'M_FORBIDDEN'],
      [{ type: 'm.login.password', identifier: { type: 'm.id.thirdparty', medium: 'email', address: 'a@b.c' }, password: 'x' }, 403, 'M_FORBIDDEN'],
      [{ type: 'm.login.token', token: 'abc' }, 400, 'M_UNKNOWN'],
      [{ type: 'm.login.password', identifier: { type: 'm.id.user', user: 'carol' } }, 400, 'M_MISSING_PARAM'],
      [{ type: 'm.login.password', password: 'x' }, 400, 'M_MISSING_PARAM'],
      [{ password: 'x' }, 400, 'M_MISSING_PARAM'],
    ];
    for (const [body, status, errcode] of cases) {
      const res = await fx.request('POST', `${V3}/login`, { body });
      assert.deepEqual([res.status, res.json.errcode], [status, errcode], JSON.stringify(body));
    }
    const wrongType = await fx.request('POST', `${V3}/login`, { body: { type: 'm.login.password', user: 'carol', password: 5 } });
    assert.equal(wrongType.status, 400);
    assert.equal(wrongType.json.errcode, 'M_BAD_JSON', 'a present field of the wrong type');
    const notJson = await fx.request('POST', `${V3}/login`, { rawBody: 'nope' });
    assert.deepEqual([notJson.status, notJson.json.errcode], [400, 'M_NOT_JSON']);
  });

  it('reusing a device_id replaces that device’s tokens', async () => {
    const login = (device_id: string) =>
      fx.request('POST', `${V3}/login`, { body: { type: 'm.login.password', user: 'carol', password: 'secret-pass', device_id, initial_device_display_name: 'First' } });
    const a = await login('REUSED');
    assert.equal(a.json.device_id, 'REUSED');
    const b = await login('REUSED');
    assert.equal(b.json.device_id, 'REUSED');
    const old = await fx.request('GET', `${V3}/account/whoami`, { token: a.json.access_token });
    assert.deepEqual([old.status, old.json.errcode], [401, 'M_UNKNOWN_TOKEN']);
    const cur = await fx.request('GET', `${V3}/account/whoami`, { token: b.json.access_token });
    assert.equal(cur.status, 200);
    const devs = await fx.request('GET', `${V3}/devices`, { token: b.json.access_token });
    assert.equal(devs.json.devices.filter((d: any) => d.device_id === 'REUSED').length, 1);
  });

  it('whoami without or with a bad token', async () => {
    const none = await fx.request('GET', `${V3}/account/whoami`);
    assert.deepEqual([none.status, none.json.errcode], [401, 'M_MISSING_TOKEN']);
    const bad = await fx.request('GET', `${V3}/account/whoami`, { token: 'nope' });
    assert.deepEqual([bad.status, bad.json.errcode, bad.json.soft_logout], [401, 'M_UNKNOWN_TOKEN', false]);
  });

  it('logout invalidates the token and deletes the device', async () => {
    const s = await fx.request('POST', `${V3}/login`, { body: { type: 'm.login.password', user: 'carol', password: 'secret-pass' } });
    const other = await fx.request('POST', `${V3}/login`, { body: { type: 'm.login.password', user: 'carol', password: 'secret-pass' } });
    assert.equal((await fx.request('GET', `${V3}/account/whoami`, { token: s.json.access_token })).status, 200);
    const out = await fx.request('POST', `${V3}/logout`, { token: s.json.access_token });
    assert.deepEqual([out.status, out.json], [200, {}]);
    const after = await fx.request('GET', `${V3}/account/whoami`, { token: s.json.access_token });
    assert.deepEqual([after.status, after.json.errcode], [401, 'M_UNKNOWN_TOKEN']);
    const devs = await fx.request('GET', `${V3}/devices`, { token: other.json.access_token });
    assert.ok(!devs.json.devices.some((d: any) => d.device_id === s.json.device_id));
    assert.ok(fx.events.some((e) => e.name === 'deviceListChanged' && (e.payload as any).userId === '@carol:localhost'));
  });

  it('logout/all invalidates every token of the user', async () => {
    const a = await fx.request('POST', `${V3}/login`, { body: { type: 'm.login.password', user: 'carol', password: 'secret-pass' } });
    const b = await fx.request('POST', `${V3}/login`, { body: { type: 'm.login.password', user: 'carol', password: 'secret-pass' } });
    const out = await fx.request('POST', `${V3}/logout/all`, { token: a.json.access_token, body: {} });
    assert.equal(out.status, 200);
    for (const t of [a, b]) {
      const r = await fx.request('GET', `${V3}/account/whoami`, { token: t.json.access_token });
      assert.equal(r.status, 401);
    }
    assert.deepEqual(fx.services.store.listDevices('@carol:localhost'), []);
  });
});

describe('refresh tokens', () => {
  let fx: AccountsFixture;
  let now = Date.now();
  before(async () => {
    fx = await startAccountsFixture({ services: { clock: () => now, accessTokenLifetimeMs: 60_000 } });
    await fx.registerUser('dave', 'pw-dave');
  });
  after(() => fx.close());

  it('rotates: the old pair keeps working until the new pair is used', async () => {
    const login = await fx.request('POST', `${V3}/login`, { body: { type: 'm.login.password', user: 'dave', password: 'pw-dave', refresh_token: true } });
    assert.equal(login.status, 200);
    assert.equal(login.json.expires_in_ms, 60_000);
    const r1 = login.json.refresh_token as string;
    const a1 = login.json.access_token as string;
    assert.equal((await fx.request('GET', `${V3}/account/whoami`, { token: a1 })).status, 200);

    const ref = await fx.request('POST', `${V3}/refresh`, { body: { refresh_token: r1 } });
    assert.equal(ref.status, 200, JSON.stringify(ref.json));
    assert.equal(ref.json.expires_in_ms, 60_000);
    const a2 = ref.json.access_token as string;
    const r2 = ref.json.refresh_token as string;
    assert.notEqual(r2, r1);

    // Client lost the answer: repeating with r1 still works, replacing the unused pair.
    const again = await fx.request('POST', `${V3}/refresh`, { body: { refresh_token: r1 } });
    assert.equal(again.status, 200);
    assert.equal((await fx.request('GET', `${V3}/account/whoami`, { token: a2 })).status, 401, 'replaced unused pair is gone');
    const a3 = again.json.access_token as string;
    const r3 = again.json.refresh_token as string;

    // Old access token still valid until the new one is used.
    assert.equal((await fx.request('GET', `${V3}/account/whoami`, { token: a1 })).status, 200);
    const who = await fx.request('GET', `${V3}/account/whoami`, { token: a3 });
    assert.equal(who.status, 200);
    assert.equal(who.json.device_id, login.json.device_id);
    assert.equal((await fx.request('GET', `${V3}/account/whoami`, { token: a1 })).status, 401, 'old access token revoked after new one used');
    const reuse = await fx.request('POST', `${V3}/refresh`, { body: { refresh_token: r1 } });
    assert.deepEqual([reuse.status, reuse.json.errcode], [401, 'M_UNKNOWN_TOKEN']);

    // Using r3 retires nothing else; a4 works; r3 can no longer be reused once r4 is used.
    const ref4 = await fx.request('POST', `${V3}/refresh`, { body: { refresh_token: r3 } });
    assert.equal(ref4.status, 200);
    await fx.request('POST', `${V3}/refresh`, { body: { refresh_token: ref4.json.refresh_token } });
    const stale = await fx.request('POST', `${V3}/refresh`, { body: { refresh_token: r3 } });
    assert.equal(stale.status, 401);
  });

  it('expired access tokens get soft_logout', async () => {
    const login = await fx.request('POST', `${V3}/login`, { body: { type: 'm.login.password', user: 'dave', password: 'pw-dave', refresh_token: true } });
    now += 61_000;
    const res = await fx.request('GET', `${V3}/account/whoami`, { token: login.json.access_token });
    assert.deepEqual([res.status, res.json.errcode, res.json.soft_logout], [401, 'M_UNKNOWN_TOKEN', true]);
    const ref = await fx.request('POST', `${V3}/refresh`, { body: { refresh_token: login.json.refresh_token } });
    assert.equal(ref.status, 200);
    assert.equal((await fx.request('GET', `${V3}/account/whoami`, { token: ref.json.access_token })).status, 200);
  });

  it('refuses unknown refresh tokens and bad bodies', async () => {
    const res = await fx.request('POST', `${V3}/refresh`, { body: { refresh_token: 'nope' } });
    assert.deepEqual([res.status, res.json.errcode], [401, 'M_UNKNOWN_TOKEN']);
    const missing = await fx.request('POST', `${V3}/refresh`, { body: {} });
    assert.deepEqual([missing.status, missing.json.errcode], [400, 'M_MISSING_PARAM']);
    const r0 = await fx.request('POST', '/_matrix/client/r0/refresh', { body: { refresh_token: 'x' } });
    assert.equal(r0.status, 404);
  });
});
