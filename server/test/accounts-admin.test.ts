// Synapse shared-secret registration (/_synapse/admin/v1/register) and the /login and /register
// rate limits, over real HTTP.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startAccountsFixture, type AccountsFixture } from './accounts-fixture.ts';

const PATH = '/_synapse/admin/v1/register';
const SECRET = 'shh-its-a-secret';

function mac(secret: string, nonce: string, username: string, password: string, admin: boolean, userType?: string): string {
  const h = createHmac('sha1', secret);
  h.update(`${nonce}\0${username}\0${password}\0${admin ? 'admin' : 'notadmin'}`);
  if (userType !== undefined) h.update(`\0${userType}`);
  return h.digest('hex');
}

describe('shared-secret registration', () => {
  let fx: AccountsFixture;
  before(async () => {
    fx = await startAccountsFixture({ mode: 'closed', sharedSecret: SECRET });
  });
  after(() => fx.close());

  const nonce = async (): Promise<string> => {
    const res = await fx.request('GET', PATH);
    assert.equal(res.status, 200);
    assert.match(res.json.nonce, /^[0-9a-f]{32}$/);
    return res.json.nonce;
  };

  it('registers an admin with a correct MAC, even with registration closed', async () => {
    const n = await nonce();
    const res = await fx.request('POST', PATH, {
      body: { nonce: n, username: 'root', password: 'rootpw', admin: true, displayname: 'The Admin', mac: mac(SECRET, n, 'root', 'rootpw', true) },
    });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(Object.keys(res.json).sort(), ['access_token', 'device_id', 'home_server', 'user_id']);
    assert.equal(res.json.user_id, '@root:localhost');
    assert.equal(res.json.home_server, 'localhost');
    assert.equal(fx.services.store.getUser('@root:localhost')!.isAdmin, true);
    const profile = fx.db.read((r) => r.get('SELECT displayname FROM profiles WHERE user_id = ?', ['@root:localhost']));
    assert.equal(profile?.displayname, 'The Admin');
    const who = await fx.request('GET', '/_matrix/client/v3/account/whoami', { token: res.json.access_token });
    assert.equal(who.json.user_id, '@root:localhost');
    // The nonce was single-use.
    const reuse = await fx.request('POST', PATH, {
      body: { nonce: n, username: 'root2', password: 'rootpw', admin: false, mac: mac(SECRET, n, 'root2', 'rootpw', false) },
    });
    assert.deepEqual([reuse.status, reuse.json.errcode], [400, 'M_UNKNOWN']);
  });

  it('includes user_type in the MAC', async () => {
    const n = await nonce();
    const res = await fx.request('POST', PATH, {
      body: { nonce: n, username: 'botty', password: 'pw', admin: false, user_type: 'bot', mac: mac(SECRET, n, 'botty', 'pw', false, 'bot') },
    });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(fx.services.store.getUser('@botty:localhost')!.userType, 'bot');
    assert.equal(fx.services.store.getUser('@botty:localhost')!.isAdmin, false);
  });

  it('refuses a wrong MAC and spends the nonce', async () => {
    const n = await nonce();
    const bad = await fx.request('POST', PATH, {
      body: { nonce: n, username: 'mallory', password: 'pw', admin: true, mac: mac(SECRET, n, 'mallory', 'pw', false) },
    });
    assert.deepEqual([bad.status, bad.json.errcode], [403, 'M_FORBIDDEN']);
    const retry = await fx.request('POST', PATH, {
      body: { nonce: n, username: 'mallory', password: 'pw', admin: true, mac: mac(SECRET, n, 'mallory', 'pw', true) },
    });
    assert.equal(retry.status, 400);
    assert.equal(fx.services.store.getUser('@mallory:localhost'), undefined);
    const junk = await fx.request('POST', PATH, { body: { nonce: await nonce(), username: 'm', password: 'pw', mac: 'zz' } });
    assert.equal(junk.status, 403);
  });

  it('checks the username and the body', async () => {
    let n = await nonce();
    const taken = await fx.request('POST', PATH, { body: { nonce: n, username: 'root', password: 'pw', admin: false, mac: mac(SECRET, n, 'root', 'pw', false) } });
    assert.deepEqual([taken.status, taken.json.errcode], [400, 'M_USER_IN_USE']);
    n = await nonce();
    const invalid = await fx.request('POST', PATH, { body: { nonce: n, username: 'a b', password: 'pw', admin: false, mac: mac(SECRET, n, 'a b', 'pw', false) } });
    assert.deepEqual([invalid.status, invalid.json.errcode], [400, 'M_INVALID_USERNAME']);
    const missing = await fx.request('POST', PATH, { body: { username: 'x' } });
    assert.deepEqual([missing.status, missing.json.errcode], [400, 'M_MISSING_PARAM']);
    const notJson = await fx.request('POST', PATH, { rawBody: '{' });
    assert.deepEqual([notJson.status, notJson.json.errcode], [400, 'M_NOT_JSON']);
  });

  it('answers 400 when no secret is configured', async () => {
    fx.sharedSecret = undefined;
    try {
      const get = await fx.request('GET', PATH);
      assert.deepEqual([get.status, get.json.errcode, get.json.error], [400, 'M_UNKNOWN', 'Shared secret registration is not enabled']);
      const post = await fx.request('POST', PATH, { body: { nonce: 'x', username: 'x', password: 'x', mac: 'x' } });
      assert.equal(post.status, 400);
    } finally {
      fx.sharedSecret = SECRET;
    }
  });

  it('nonces expire after 60 s', async () => {
    let now = Date.now();
    const fx2 = await startAccountsFixture({ sharedSecret: SECRET, services: { clock: () => now } });
    try {
      const n = (await fx2.request('GET', PATH)).json.nonce;
      now += 61_000;
      const res = await fx2.request('POST', PATH, { body: { nonce: n, username: 'late', password: 'pw', admin: false, mac: mac(SECRET, n, 'late', 'pw', false) } });
      assert.deepEqual([res.status, res.json.errcode], [400, 'M_UNKNOWN']);
    } finally {
      await fx2.close();
    }
  });
});

describe('rate limits', () => {
  let fx: AccountsFixture;
  before(async () => {
    fx = await startAccountsFixture({ services: { rateLimit: { burst: 3, perSecond: 0.5 } } });
  });
  after(() => fx.close());

  it('limits /login with 429, retry_after_ms and Retry-After', async () => {
    const attempt = () => fx.request('POST', '/_matrix/client/v3/login', { body: { type: 'm.login.password', user: 'ghost', password: 'x' } });
    for (let i = 0; i < 3; i++) assert.equal((await attempt()).status, 403);
    const limited = await attempt();
    assert.equal(limited.status, 429);
    assert.equal(limited.json.errcode, 'M_LIMIT_EXCEEDED');
    assert.ok(limited.json.retry_after_ms > 0 && limited.json.retry_after_ms <= 2000, String(limited.json.retry_after_ms));
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  });

  it('limits /register separately', async () => {
    const attempt = () => fx.request('POST', '/_matrix/client/v3/register', { body: {} });
    for (let i = 0; i < 3; i++) assert.equal((await attempt()).status, 401);
    const limited = await attempt();
    assert.deepEqual([limited.status, limited.json.errcode], [429, 'M_LIMIT_EXCEEDED']);
  });
});
