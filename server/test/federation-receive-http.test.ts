/**
 * The receiving and resident side over real HTTP + TLS + X-Matrix: a Hearth (federation-harness)
 * and a fake remote server that signs its requests and events itself. make_join/send_join
 * (room version check, restricted joins co-signed), PUT /send (per-PDU results, replay answered
 * from storage without a second copy, the 50-PDU limit, a mismatched origin, server ACLs), the
 * event and state endpoints (and 403 for a server not in the room), make_leave/send_leave,
 * make_knock/send_knock, and an invite for a local user to a room we are not in, shown in sync.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildEvent } from '../core/events/build.ts';
import { getRoomVersion, type RoomVersion } from '../core/room-versions.ts';
import { verifyEventSignatures } from '../core/events/build.ts';
import type { JsonObject, StoredPdu } from '../core/events/types.ts';
import { startFakeRemote, startFederatedServer, type FakeRemote, type FederatedServer } from './federation-harness.ts';

const enc = encodeURIComponent;
const FED = '/_matrix/federation';

function wire(pdu: StoredPdu): Record<string, unknown> {
  const { event_id: _id, ...rest } = pdu;
  return rest;
}

/** The fake remote signs an event (a make_* template, or its own) the way a server does. */
function sign(f: FakeRemote, v: RoomVersion, e: Record<string, any>): StoredPdu {
  return buildEvent(
    v,
    {
      type: e.type,
      state_key: e.state_key,
      content: e.content as JsonObject,
      sender: e.sender,
      room_id: e.room_id,
      prev_events: e.prev_events,
      auth_events: e.auth_events,
      depth: e.depth,
      origin_server_ts: e.origin_server_ts ?? Date.now(),
    },
    { serverName: f.serverName, signingKey: f.key },
  );
}

async function join(a: FederatedServer, f: FakeRemote, roomId: string, user: string): Promise<{ v: RoomVersion; join: StoredPdu; res: any }> {
  const made = await f.request(a, 'GET', `${FED}/v1/make_join/${enc(roomId)}/${enc(user)}?ver=10&ver=12`);
  assert.equal(made.status, 200, JSON.stringify(made.json));
  const v = getRoomVersion(made.json.room_version)!;
  const pdu = sign(f, v, made.json.event);
  const sent = await f.request(a, 'PUT', `${FED}/v2/send_join/${enc(roomId)}/${enc(pdu.event_id)}`, { body: wire(pdu) });
  assert.equal(sent.status, 200, JSON.stringify(sent.json));
  return { v, join: pdu, res: sent.json };
}

test('resident joins, transactions, event endpoints, ACLs, leaves, knocks and invites over federation', async () => {
  const a = await startFederatedServer();
  const f = await startFakeRemote();
  const stranger = await startFakeRemote();
  try {
    const alice = await a.registerUser('alice');
    const bob = `@bob:${f.serverName}`;
    const created = await a.request('POST', '/_matrix/client/v3/createRoom', { token: alice.access_token, body: { preset: 'public_chat', room_version: '12' } });
    const roomId: string = created.json.room_id;

    // make_join without `ver` means "room version 1 only".
    const old = await f.request(a, 'GET', `${FED}/v1/make_join/${enc(roomId)}/${enc(bob)}`);
    assert.equal(old.status, 400);
    assert.equal(old.json.errcode, 'M_INCOMPATIBLE_ROOM_VERSION');
    // A user of another server cannot be joined by this one.
    assert.equal((await f.request(a, 'GET', `${FED}/v1/make_join/${enc(roomId)}/${enc(alice.user_id)}?ver=12`)).status, 403);

    const { v, join: joinEvent, res } = await join(a, f, roomId, bob);
    assert.ok(res.state.some((e: any) => e.type === 'm.room.create'), 'the state before the join');
    assert.ok(res.auth_chain.length > 0);
    assert.ok(res.servers_in_room.includes(a.serverName));

    // PUT /send: a message from bob.
    const stateIds = (await f.request(a, 'GET', `${FED}/v1/state_ids/${enc(roomId)}?event_id=${enc(joinEvent.event_id)}`)).json;
    assert.ok(Array.isArray(stateIds.pdu_ids) && stateIds.pdu_ids.length >= 4, JSON.stringify(stateIds));
    const state = (await f.request(a, 'GET', `${FED}/v1/state/${enc(roomId)}?event_id=${enc(joinEvent.event_id)}`)).json;
    const powerLevels = state.pdus.find((e: any) => e.type === 'm.room.power_levels');
    const plIndex = state.pdus.indexOf(powerLevels);
    const msg = sign(f, v, {
      type: 'm.room.message',
      content: { msgtype: 'm.text', body: 'hello from afar' },
      sender: bob,
      room_id: roomId,
      prev_events: [joinEvent.event_id],
      auth_events: [stateIds.pdu_ids[plIndex], joinEvent.event_id],
      depth: joinEvent.depth + 1,
    });
    const txn = { origin: f.serverName, origin_server_ts: Date.now(), pdus: [wire(msg)], edus: [{ edu_type: 'm.typing', content: { room_id: roomId, user_id: bob, typing: true } }] };
    const first = await f.request(a, 'PUT', `${FED}/v1/send/t1`, { body: txn });
    assert.equal(first.status, 200, JSON.stringify(first.json));
    assert.deepEqual(first.json, { pdus: { [msg.event_id]: {} } });
    const messages = async () =>
      (await a.request('GET', `/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=50`, { token: alice.access_token })).json.chunk.filter(
        (e: any) => e.type === 'm.room.message',
      );
    assert.deepEqual((await messages()).map((e: any) => e.content.body), ['hello from afar']);
    const sync = await a.request('GET', '/_matrix/client/v3/sync?timeout=0', { token: alice.access_token });
    const typing = sync.json.rooms.join[roomId].ephemeral.events.find((e: any) => e.type === 'm.typing');
    assert.deepEqual(typing?.content.user_ids, [bob], 'the typing EDU reached sync');

    // Receipts, presence, to-device and device-list EDUs reach alice's sync.
    const edus = await f.request(a, 'PUT', `${FED}/v1/send/t-edus`, {
      body: {
        origin: f.serverName,
        origin_server_ts: Date.now(),
        pdus: [],
        edus: [
          { edu_type: 'm.receipt', content: { [roomId]: { 'm.read': { [bob]: { event_ids: [msg.event_id], data: { ts: 1 } } } } } },
          { edu_type: 'm.presence', content: { push: [{ user_id: bob, presence: 'online', last_active_ago: 5, currently_active: true }] } },
          { edu_type: 'm.direct_to_device', content: { sender: bob, type: 'm.test', message_id: 'm1', messages: { [alice.user_id]: { '*': { hello: 'device' } } } } },
          { edu_type: 'm.device_list_update', content: { user_id: bob, device_id: 'BOBDEV', stream_id: 1, prev_id: [], deleted: false } },
          // Spoofed: a user of another server, ignored.
          { edu_type: 'm.typing', content: { room_id: roomId, user_id: alice.user_id, typing: true } },
        ],
      },
    });
    assert.equal(edus.status, 200);
    const after = await a.request('GET', `/_matrix/client/v3/sync?timeout=0&since=${sync.json.next_batch}`, { token: alice.access_token });
    const eph = after.json.rooms?.join?.[roomId]?.ephemeral?.events ?? [];
    assert.ok(eph.some((e: any) => e.type === 'm.receipt' && e.content[msg.event_id]?.['m.read']?.[bob]), JSON.stringify(eph));
    assert.ok(!eph.some((e: any) => e.type === 'm.typing' && e.content.user_ids.includes(alice.user_id)), 'a spoofed typing EDU is ignored');
    assert.ok(after.json.presence.events.some((e: any) => e.sender === bob && e.content.presence === 'online'));
    assert.deepEqual(after.json.to_device.events.map((e: any) => [e.sender, e.type, e.content.hello]), [[bob, 'm.test', 'device']]);
    assert.ok(after.json.device_lists?.changed?.includes(bob), JSON.stringify(after.json.device_lists));

    // Replay: the same answer, no second copy.
    const replay = await f.request(a, 'PUT', `${FED}/v1/send/t1`, { body: txn });
    assert.deepEqual(replay.json, first.json);
    assert.equal((await messages()).length, 1);
    // Limits and origin.
    const tooMany = await f.request(a, 'PUT', `${FED}/v1/send/t2`, { body: { ...txn, pdus: Array.from({ length: 51 }, () => wire(msg)) } });
    assert.equal(tooMany.status, 400);
    const wrongOrigin = await f.request(a, 'PUT', `${FED}/v1/send/t3`, { body: { ...txn, origin: 'elsewhere.example' } });
    assert.equal(wrongOrigin.status, 400);

    // Event endpoints.
    const ev = await f.request(a, 'GET', `${FED}/v1/event/${enc(msg.event_id)}`);
    assert.equal(ev.status, 200);
    assert.equal(ev.json.pdus[0].content.body, 'hello from afar');
    assert.ok(verifyEventSignatures(v, ev.json.pdus[0], { [f.serverName]: { [f.key.keyId]: f.key.publicKeyBase64 } }).ok, 'served as signed');
    const auth = await f.request(a, 'GET', `${FED}/v1/event_auth/${enc(roomId)}/${enc(msg.event_id)}`);
    assert.ok(auth.json.auth_chain.some((e: any) => e.type === 'm.room.create'));
    const back = await f.request(a, 'GET', `${FED}/v1/backfill/${enc(roomId)}?v=${enc(msg.event_id)}&limit=3`);
    assert.equal(back.json.pdus.length, 3);
    assert.equal(back.json.pdus[0].content.body, 'hello from afar');
    const missing = await f.request(a, 'POST', `${FED}/v1/get_missing_events/${enc(roomId)}`, {
      body: { earliest_events: [joinEvent.event_id], latest_events: [msg.event_id], limit: 10 },
    });
    assert.deepEqual(missing.json.events, [], 'nothing between the join and the message');
    const ts = await f.request(a, 'GET', `${FED}/v1/timestamp_to_event/${enc(roomId)}?ts=${Date.now() + 60_000}&dir=b`);
    assert.equal(ts.json.event_id, msg.event_id);
    // A server with nobody in the room sees nothing.
    const nosy = await stranger.request(a, 'GET', `${FED}/v1/state_ids/${enc(roomId)}?event_id=${enc(msg.event_id)}`);
    assert.equal(nosy.status, 403);

    // Server ACL: once the room denies bob's server, its PDUs fail and its room requests are refused.
    const acl = await a.request('PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.server_acl/`, {
      token: alice.access_token,
      body: { allow: ['*'], deny: [f.serverName.split(':')[0]!], allow_ip_literals: true },
    });
    assert.equal(acl.status, 200);
    const denied = await f.request(a, 'PUT', `${FED}/v1/send/t4`, { body: { ...txn, edus: [] } });
    assert.match(denied.json.pdus[msg.event_id].error, /ACL/);
    assert.equal((await f.request(a, 'GET', `${FED}/v1/event_auth/${enc(roomId)}/${enc(msg.event_id)}`)).status, 403);
    await a.request('PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.server_acl/`, { token: alice.access_token, body: { allow: ['*'] } });

    // make_leave / send_leave.
    const madeLeave = await f.request(a, 'GET', `${FED}/v1/make_leave/${enc(roomId)}/${enc(bob)}`);
    assert.equal(madeLeave.status, 200, JSON.stringify(madeLeave.json));
    const leave = sign(f, v, madeLeave.json.event);
    const sentLeave = await f.request(a, 'PUT', `${FED}/v2/send_leave/${enc(roomId)}/${enc(leave.event_id)}`, { body: wire(leave) });
    assert.equal(sentLeave.status, 200, JSON.stringify(sentLeave.json));
    const members = await a.request('GET', `/_matrix/client/v3/rooms/${enc(roomId)}/joined_members`, { token: alice.access_token });
    assert.equal(members.json.joined[bob], undefined);

    // Knocking on a knock room.
    const knockRoom = (await a.request('POST', '/_matrix/client/v3/createRoom', { token: alice.access_token, body: { preset: 'private_chat', room_version: '10', name: 'Knock here' } })).json.room_id;
    await a.request('PUT', `/_matrix/client/v3/rooms/${enc(knockRoom)}/state/m.room.join_rules/`, { token: alice.access_token, body: { join_rule: 'knock' } });
    const madeKnock = await f.request(a, 'GET', `${FED}/v1/make_knock/${enc(knockRoom)}/${enc(bob)}?ver=10`);
    assert.equal(madeKnock.status, 200, JSON.stringify(madeKnock.json));
    const knock = sign(f, getRoomVersion('10')!, madeKnock.json.event);
    const sentKnock = await f.request(a, 'PUT', `${FED}/v1/send_knock/${enc(knockRoom)}/${enc(knock.event_id)}`, { body: wire(knock) });
    assert.equal(sentKnock.status, 200, JSON.stringify(sentKnock.json));
    assert.ok(sentKnock.json.knock_room_state.some((e: any) => e.type === 'm.room.name' && e.content.name === 'Knock here'));

    // Restricted join (v10): bob may join because he is in `roomId`; our server authorises it.
    await join(a, f, roomId, bob);
    const restricted = (await a.request('POST', '/_matrix/client/v3/createRoom', {
      token: alice.access_token,
      body: { room_version: '10', preset: 'private_chat', initial_state: [{ type: 'm.room.join_rules', state_key: '', content: { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: roomId }] } }] },
    })).json.room_id;
    const r = await join(a, f, restricted, bob);
    assert.equal(r.join.content.join_authorised_via_users_server, alice.user_id);
    assert.ok(r.res.event?.signatures?.[a.serverName], 'the join comes back co-signed');
    const carolOutsider = `@carol:${f.serverName}`;
    const refused = await f.request(a, 'GET', `${FED}/v1/make_join/${enc(restricted)}/${enc(carolOutsider)}?ver=10`);
    assert.equal(refused.status, 403);

    // An invite for a local user to a room we are not in: co-signed, stored, shown in sync.
    const dave = await a.registerUser('dave');
    const fv = getRoomVersion('10')!;
    const remoteRoom = `!elsewhere:${f.serverName}`;
    const invite = sign(f, fv, {
      type: 'm.room.member',
      state_key: dave.user_id,
      content: { membership: 'invite' },
      sender: bob,
      room_id: remoteRoom,
      prev_events: ['$prev'],
      auth_events: ['$create', '$pl', '$bob'],
      depth: 5,
    });
    const invited = await f.request(a, 'PUT', `${FED}/v2/invite/${enc(remoteRoom)}/${enc(invite.event_id)}`, {
      body: { room_version: '10', event: wire(invite), invite_room_state: [{ type: 'm.room.name', state_key: '', sender: bob, content: { name: 'Over there' } }] },
    });
    assert.equal(invited.status, 200, JSON.stringify(invited.json));
    assert.ok(invited.json.event.signatures[a.serverName], 'co-signed by the invitee server');
    const daveSync = await a.request('GET', '/_matrix/client/v3/sync?timeout=0', { token: dave.access_token });
    const inviteState = daveSync.json.rooms.invite[remoteRoom]?.invite_state.events;
    assert.ok(inviteState?.some((e: any) => e.type === 'm.room.name' && e.content.name === 'Over there'), JSON.stringify(daveSync.json.rooms));
    // An invite for someone who does not exist here.
    const ghost = sign(f, fv, { ...invite, state_key: `@ghost:${a.serverName}`, content: { membership: 'invite' } });
    const ghostRes = await f.request(a, 'PUT', `${FED}/v2/invite/${enc(remoteRoom)}/${enc(ghost.event_id)}`, { body: { room_version: '10', event: wire(ghost) } });
    assert.equal(ghostRes.status, 404);
  } finally {
    await stranger.close();
    await f.close();
    await a.close();
  }
});
