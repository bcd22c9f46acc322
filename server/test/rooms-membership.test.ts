/**
 * Membership over real HTTP: joining, inviting, leaving, forgetting, kicking, banning, knocking
 * (joining.yaml, inviting.yaml, leaving.yaml, kicking.yaml, banning.yaml, knocking.yaml).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRoomsFixture, C, enc, uid } from './rooms-fixture.ts';

test('invite → join → leave → forget, with the forbidden cases', async () => {
  const f = await startRoomsFixture();
  try {
    const alice = f.as('alice');
    const bob = f.as('bob');
    const carol = f.as('carol');
    const roomId = (await alice('POST', `${C}/createRoom`, { preset: 'private_chat' })).json.room_id;
    const r = enc(roomId);
    // Private room: no join without invite.
    const denied = await bob('POST', `${C}/join/${r}`, {});
    assert.equal(denied.status, 403);
    assert.equal(denied.json.errcode, 'M_FORBIDDEN');
    // Carol (not in the room) cannot invite.
    const carolInvite = await carol('POST', `${C}/rooms/${r}/invite`, { user_id: uid('bob') });
    assert.equal(carolInvite.status, 403);
    const missing = await alice('POST', `${C}/rooms/${r}/invite`, {});
    assert.equal(missing.status, 400);
    assert.equal(missing.json.errcode, 'M_MISSING_PARAM');
    const badUser = await alice('POST', `${C}/rooms/${r}/invite`, { user_id: 'bob' });
    assert.equal(badUser.json.errcode, 'M_INVALID_PARAM');
    const inv = await alice('POST', `${C}/rooms/${r}/invite`, { user_id: uid('bob'), reason: 'welcome' });
    assert.equal(inv.status, 200, JSON.stringify(inv.json));
    const join = await bob('POST', `${C}/rooms/${r}/join`, {});
    assert.equal(join.status, 200);
    assert.equal(join.json.room_id, roomId);
    const again = await bob('POST', `${C}/rooms/${r}/join`, {});
    assert.equal(again.status, 200, 'joining twice is fine');
    const inviteJoined = await alice('POST', `${C}/rooms/${r}/invite`, { user_id: uid('bob') });
    assert.equal(inviteJoined.status, 403);
    // Forget before leaving is refused.
    const early = await bob('POST', `${C}/rooms/${r}/forget`, {});
    assert.equal(early.status, 400);
    const leave = await bob('POST', `${C}/rooms/${r}/leave`, { reason: 'bye' });
    assert.equal(leave.status, 200);
    const member = await alice('GET', `${C}/rooms/${r}/state/m.room.member/${enc(uid('bob'))}`);
    assert.deepEqual(member.json, { membership: 'leave', reason: 'bye' });
    assert.equal((await bob('GET', `${C}/joined_rooms`)).json.joined_rooms.length, 0);
    const forget = await bob('POST', `${C}/rooms/${r}/forget`, {});
    assert.equal(forget.status, 200);
    assert.equal(f.rooms.reader.memberships(uid('bob'), f.notifier.current).length, 0, 'forgotten rooms leave sync');
    const neverWasHere = await carol('POST', `${C}/rooms/${r}/leave`, {});
    assert.equal(neverWasHere.status, 403);
    const unknownRoom = await bob('POST', `${C}/rooms/${enc('!nope:localhost')}/leave`, {});
    assert.equal(unknownRoom.status, 404);
    const unknownJoin = await bob('POST', `${C}/join/${enc('!nope:elsewhere.org')}`, {});
    assert.equal(unknownJoin.status, 404);
    const unknownAlias = await bob('POST', `${C}/join/${enc('#nope:localhost')}`, {});
    assert.equal(unknownAlias.status, 404);
    // Rejecting an invite is a leave.
    await alice('POST', `${C}/rooms/${r}/invite`, { user_id: uid('carol') });
    const reject = await carol('POST', `${C}/rooms/${r}/leave`, {});
    assert.equal(reject.status, 200);
  } finally {
    await f.close();
  }
});

test('join by alias in a public room; kick; ban and unban with power checks', async () => {
  const f = await startRoomsFixture();
  try {
    const alice = f.as('alice');
    const bob = f.as('bob');
    const carol = f.as('carol');
    const roomId = (await alice('POST', `${C}/createRoom`, { preset: 'public_chat', room_alias_name: 'pub' })).json.room_id;
    const r = enc(roomId);
    const byAlias = await bob('POST', `${C}/join/${enc('#pub:localhost')}`, {});
    assert.equal(byAlias.status, 200);
    assert.equal(byAlias.json.room_id, roomId);
    await carol('POST', `${C}/join/${r}`, {});
    // Bob has no kick power.
    const bobKick = await bob('POST', `${C}/rooms/${r}/kick`, { user_id: uid('carol') });
    assert.equal(bobKick.status, 403);
    const kickMissing = await alice('POST', `${C}/rooms/${r}/kick`, {});
    assert.equal(kickMissing.json.errcode, 'M_MISSING_PARAM');
    const kick = await alice('POST', `${C}/rooms/${r}/kick`, { user_id: uid('carol'), reason: 'noise' });
    assert.equal(kick.status, 200);
    const kickAgain = await alice('POST', `${C}/rooms/${r}/kick`, { user_id: uid('carol') });
    assert.equal(kickAgain.status, 403, 'carol is no longer in the room');
    // Kicked users may rejoin a public room; banned ones may not.
    assert.equal((await carol('POST', `${C}/join/${r}`, {})).status, 200);
    const bobBan = await bob('POST', `${C}/rooms/${r}/ban`, { user_id: uid('carol') });
    assert.equal(bobBan.status, 403);
    const ban = await alice('POST', `${C}/rooms/${r}/ban`, { user_id: uid('carol'), reason: 'spam' });
    assert.equal(ban.status, 200);
    const rejoin = await carol('POST', `${C}/join/${r}`, {});
    assert.equal(rejoin.status, 403);
    const banLeave = await carol('POST', `${C}/rooms/${r}/leave`, {});
    assert.equal(banLeave.status, 403, 'a banned user cannot change their membership');
    const unbanNotBanned = await alice('POST', `${C}/rooms/${r}/unban`, { user_id: uid('bob') });
    assert.equal(unbanNotBanned.status, 403);
    const bobUnban = await bob('POST', `${C}/rooms/${r}/unban`, { user_id: uid('carol') });
    assert.equal(bobUnban.status, 403);
    const unban = await alice('POST', `${C}/rooms/${r}/unban`, { user_id: uid('carol') });
    assert.equal(unban.status, 200);
    const m = await alice('GET', `${C}/rooms/${r}/state/m.room.member/${enc(uid('carol'))}`);
    assert.equal(m.json.membership, 'leave');
    assert.equal((await carol('POST', `${C}/join/${r}`, {})).status, 200);
    // Ban of a user who was never in the room works too (pre-emptive ban).
    assert.equal((await alice('POST', `${C}/rooms/${r}/ban`, { user_id: uid('dave') })).status, 200);
    assert.equal((await f.as('dave')('POST', `${C}/join/${r}`, {})).status, 403);
  } finally {
    await f.close();
  }
});

test('knocking: allowed by knock join rule (v7+), refused otherwise; invite accepts the knock', async () => {
  const f = await startRoomsFixture();
  try {
    const alice = f.as('alice');
    const bob = f.as('bob');
    const knockRoom = (
      await alice('POST', `${C}/createRoom`, { room_version: '10', initial_state: [{ type: 'm.room.join_rules', content: { join_rule: 'knock' } }] })
    ).json.room_id;
    const k = await bob('POST', `${C}/knock/${enc(knockRoom)}`, { reason: 'let me in' });
    assert.equal(k.status, 200, JSON.stringify(k.json));
    assert.equal(k.json.room_id, knockRoom);
    const state = await alice('GET', `${C}/rooms/${enc(knockRoom)}/state/m.room.member/${enc(uid('bob'))}`);
    assert.deepEqual(state.json, { membership: 'knock', reason: 'let me in' });
    // Stripped state for the knocker.
    const stripped = f.rooms.reader.strippedState(knockRoom, uid('bob'));
    assert.ok(stripped.some((e) => e.type === 'm.room.join_rules'));
    assert.ok(stripped.some((e) => e.type === 'm.room.member' && e.state_key === uid('bob')));
    assert.equal((await alice('POST', `${C}/rooms/${enc(knockRoom)}/invite`, { user_id: uid('bob') })).status, 200);
    assert.equal((await bob('POST', `${C}/join/${enc(knockRoom)}`, {})).status, 200);

    const inviteRoom = (await alice('POST', `${C}/createRoom`, { room_version: '10' })).json.room_id;
    const refused = await bob('POST', `${C}/knock/${enc(inviteRoom)}`, {});
    assert.equal(refused.status, 403);
    const oldRoom = (await alice('POST', `${C}/createRoom`, { room_version: '6', initial_state: [{ type: 'm.room.join_rules', content: { join_rule: 'knock' } }] })).json.room_id;
    const v6 = await bob('POST', `${C}/knock/${enc(oldRoom)}`, {});
    assert.equal(v6.status, 403, 'room version 6 has no knocking');
    const unknown = await bob('POST', `${C}/knock/${enc('!nope:localhost')}`, {});
    assert.equal(unknown.status, 404);
  } finally {
    await f.close();
  }
});

test('restricted join (v8+): members of an allowed room may join', async () => {
  const f = await startRoomsFixture();
  try {
    const alice = f.as('alice');
    const bob = f.as('bob');
    const space = (await alice('POST', `${C}/createRoom`, { preset: 'public_chat', room_version: '10' })).json.room_id;
    const restricted = (
      await alice('POST', `${C}/createRoom`, {
        room_version: '10',
        initial_state: [{ type: 'm.room.join_rules', content: { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: space }] } }],
      })
    ).json.room_id;
    assert.equal((await bob('POST', `${C}/join/${enc(restricted)}`, {})).status, 403);
    await bob('POST', `${C}/join/${enc(space)}`, {});
    const ok = await bob('POST', `${C}/join/${enc(restricted)}`, {});
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    const m = await alice('GET', `${C}/rooms/${enc(restricted)}/state/m.room.member/${enc(uid('bob'))}`);
    assert.equal(m.json.join_authorised_via_users_server, uid('alice'));
  } finally {
    await f.close();
  }
});

test('userDeactivated makes the user leave every room', async () => {
  const f = await startRoomsFixture();
  try {
    const alice = f.as('alice');
    const roomId = (await alice('POST', `${C}/createRoom`, { preset: 'public_chat' })).json.room_id;
    await f.as('bob')('POST', `${C}/join/${enc(roomId)}`, {});
    f.bus.publish('userDeactivated', { userId: uid('bob') });
    for (let i = 0; i < 50 && f.store.member(roomId, uid('bob'))?.membership !== 'leave'; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(f.store.member(roomId, uid('bob'))?.membership, 'leave');
  } finally {
    await f.close();
  }
});
