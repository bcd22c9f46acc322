/**
 * Profiles over real HTTP (profile.yaml): whole-profile and per-field reads without a token,
 * setting and deleting displayname, avatar_url and custom fields for yourself only, M_NOT_FOUND
 * for unknown users and fields, and the member event updated in joined rooms.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './harness.ts';

const V3 = '/_matrix/client/v3';

describe('profile over HTTP', () => {
  let ts: TestServer;
  let alice: { userId: string; token: string };
  let bob: { userId: string; token: string };

  const register = async (username: string) => {
    const res = await ts.request('POST', `${V3}/register`, { body: { username, password: 'pw-123456', auth: { type: 'm.login.dummy' } } });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    return { userId: res.json.user_id as string, token: res.json.access_token as string };
  };

  before(async () => {
    ts = await startTestServer({ registration: 'open' } as never);
    alice = await register('alice');
    bob = await register('bob');
  });
  after(() => ts.close());

  const path = (u: string, key?: string) => `${V3}/profile/${encodeURIComponent(u)}${key ? `/${key}` : ''}`;

  it('reads a new user profile without a token', async () => {
    const res = await ts.request('GET', path(alice.userId));
    assert.equal(res.status, 200);
    assert.equal(res.json.displayname, 'alice');
    const field = await ts.request('GET', path(alice.userId, 'displayname'));
    assert.deepEqual(field.json, { displayname: 'alice' });
  });

  it('answers M_NOT_FOUND for unknown users and unset fields', async () => {
    const res = await ts.request('GET', path('@ghost:localhost'));
    assert.deepEqual([res.status, res.json.errcode], [404, 'M_NOT_FOUND']);
    const field = await ts.request('GET', path(alice.userId, 'avatar_url'));
    assert.deepEqual([field.status, field.json.errcode], [404, 'M_NOT_FOUND']);
  });

  it('sets and deletes fields for yourself only', async () => {
    const set = await ts.request('PUT', path(alice.userId, 'displayname'), { token: alice.token, body: { displayname: 'Alice A.' } });
    assert.equal(set.status, 200, JSON.stringify(set.json));
    assert.equal((await ts.request('PUT', path(alice.userId, 'avatar_url'), { token: alice.token, body: { avatar_url: 'mxc://localhost/abc' } })).status, 200);
    assert.equal((await ts.request('PUT', path(alice.userId, 'm.tz'), { token: alice.token, body: { 'm.tz': 'Europe/Paris' } })).status, 200);
    assert.equal((await ts.request('PUT', path(alice.userId, 'org.example.pronouns'), { token: alice.token, body: { 'org.example.pronouns': ['she'] } })).status, 200);
    const all = await ts.request('GET', path(alice.userId));
    assert.deepEqual(all.json, { displayname: 'Alice A.', avatar_url: 'mxc://localhost/abc', 'm.tz': 'Europe/Paris', 'org.example.pronouns': ['she'] });

    const forbidden = await ts.request('PUT', path(alice.userId, 'displayname'), { token: bob.token, body: { displayname: 'Mallory' } });
    assert.deepEqual([forbidden.status, forbidden.json.errcode], [403, 'M_FORBIDDEN']);
    const noToken = await ts.request('PUT', path(alice.userId, 'displayname'), { body: { displayname: 'x' } });
    assert.equal(noToken.status, 401);
    const missing = await ts.request('PUT', path(alice.userId, 'displayname'), { token: alice.token, body: { other: 1 } });
    assert.deepEqual([missing.status, missing.json.errcode], [400, 'M_MISSING_PARAM']);
    const badKey = await ts.request('PUT', path(alice.userId, 'Bad-Key'), { token: alice.token, body: { 'Bad-Key': 1 } });
    assert.deepEqual([badKey.status, badKey.json.errcode], [400, 'M_INVALID_PARAM']);
    const badType = await ts.request('PUT', path(alice.userId, 'displayname'), { token: alice.token, body: { displayname: 42 } });
    assert.equal(badType.status, 400);
    const notJson = await ts.request('PUT', path(alice.userId, 'displayname'), { token: alice.token, rawBody: 'nope', headers: { 'Content-Type': 'application/json' } });
    assert.deepEqual([notJson.status, notJson.json.errcode], [400, 'M_NOT_JSON']);
    const tooLarge = await ts.request('PUT', path(alice.userId, 'org.example.big'), { token: alice.token, body: { 'org.example.big': 'x'.repeat(40_000) } });
    assert.equal(tooLarge.status, 200);
    const overflow = await ts.request('PUT', path(alice.userId, 'org.example.big2'), { token: alice.token, body: { 'org.example.big2': 'x'.repeat(40_000) } });
    assert.equal(overflow.json.errcode, 'M_PROFILE_TOO_LARGE');

    const del = await ts.request('DELETE', path(alice.userId, 'm.tz'), { token: alice.token });
    assert.equal(del.status, 200);
    assert.equal((await ts.request('GET', path(alice.userId, 'm.tz'))).status, 404);
    const delOther = await ts.request('DELETE', path(alice.userId, 'displayname'), { token: bob.token });
    assert.equal(delOther.status, 403);
  });

  it('a new display name reaches the member event of joined rooms', async () => {
    const created = await ts.request('POST', `${V3}/createRoom`, { token: bob.token, body: {} });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const roomId = created.json.room_id;
    assert.equal((await ts.request('PUT', path(bob.userId, 'displayname'), { token: bob.token, body: { displayname: 'Bobby' } })).status, 200);
    const member = await ts.request('GET', `${V3}/rooms/${encodeURIComponent(roomId)}/state/m.room.member/${encodeURIComponent(bob.userId)}`, { token: bob.token });
    assert.equal(member.json.displayname, 'Bobby');
  });
});
