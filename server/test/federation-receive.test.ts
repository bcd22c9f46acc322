/**
 * The federation receiver (services/federation/receiver/incoming-pdu.ts) fed with PDUs built and
 * signed as by a remote server `remote.test`: accepted events reach the timeline and sync state;
 * the adversarial cases (bad signature, wrong content hash, failing auth, unknown key, oversized
 * PDU, soft failure) are each handled as the spec says with nothing else disturbed; gaps are
 * filled with /get_missing_events and /state_ids; forks are resolved.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { signingKeyFromSeed } from '../core/crypto/ed25519.ts';
import { stateMapKey } from '../core/events/types.ts';
import { uid } from './rooms-fixture.ts';
import { REMOTE, rid, startReceiveFixture, wire, type ReceiveFixture } from './federation-receive-fixture.ts';

const alice = { userId: uid('alice'), deviceId: 'DEV' };
const bob = rid('bob');

async function roomWithBob(f: ReceiveFixture): Promise<string> {
  const { roomId } = await f.rooms.creator.createRoom(alice.userId, { preset: 'public_chat' });
  const join = f.remoteEvent(roomId, { sender: bob, type: 'm.room.member', stateKey: bob, content: { membership: 'join' } });
  const r = await f.receiver.receive(REMOTE, wire(join));
  assert.equal(r.status, 'accepted', JSON.stringify(r));
  return roomId;
}

/** What must not change when a bad PDU is handled. */
function snapshot(f: ReceiveFixture, roomId: string) {
  return {
    extremities: f.store.forwardExtremities(roomId).sort(),
    state: [...f.store.currentStateIds(roomId)].sort(),
    latest: f.store.latestPosition(roomId),
  };
}

test('a remote join and message are accepted, reach the timeline and the current state', async () => {
  const f = await startReceiveFixture();
  try {
    const roomId = await roomWithBob(f);
    assert.equal(f.store.member(roomId, bob)?.membership, 'join');
    assert.ok(f.rooms.reader.joinedMembers(roomId).includes(bob));
    const msg = f.remoteEvent(roomId, { sender: bob, type: 'm.room.message', content: { msgtype: 'm.text', body: 'hello from remote' } });
    const r = await f.receiver.receive(REMOTE, wire(msg));
    assert.equal(r.status, 'accepted');
    assert.deepEqual(f.store.forwardExtremities(roomId), [msg.event_id]);
    const tl = f.rooms.reader.timeline(alice, roomId, null, f.notifier.current, 10);
    assert.equal(tl.events.at(-1)?.content.body, 'hello from remote');
    // Idempotent: the same PDU again is known, nothing new is stored.
    const before = snapshot(f, roomId);
    assert.equal((await f.receiver.receive(REMOTE, wire(msg))).status, 'known');
    assert.deepEqual(snapshot(f, roomId), before);
    // A local event builds on the remote one.
    const id = await f.rooms.timeline.send(alice, roomId, 'm.room.message', { msgtype: 'm.text', body: 'hi bob' }, 't1');
    assert.deepEqual(f.store.getEvent(id)!.pdu.prev_events, [msg.event_id]);
  } finally {
    await f.close();
  }
});

test('adversarial PDUs: bad signature, unknown key, oversized, wrong content hash, failing auth', async () => {
  const f = await startReceiveFixture();
  try {
    const roomId = await roomWithBob(f);
    const before = snapshot(f, roomId);

    // Bad signature: content tampered after signing in a way the signature covers (membership).
    const forged = wire(f.remoteEvent(roomId, { sender: bob, type: 'm.room.topic', stateKey: '', content: { topic: 'x' } }));
    (forged.content as Record<string, unknown>).topic = 'y';
    (forged as Record<string, unknown>).type = 'm.room.name';
    const bad = await f.receiver.receive(REMOTE, forged);
    assert.equal(bad.status, 'dropped');
    assert.match((bad as { reason: string }).reason, /signature/);

    // Unknown key: signed with a key remote.test never published.
    const rogue = signingKeyFromSeed(randomBytes(32), 'rogue');
    const unknownKey = await f.receiver.receive(REMOTE, wire(f.remoteEvent(roomId, { sender: bob, type: 'm.room.message', content: { body: 'k' }, key: rogue })));
    assert.equal(unknownKey.status, 'dropped');

    // Oversized: over 65,536 bytes.
    const big = await f.receiver.receive(REMOTE, wire(f.remoteEvent(roomId, { sender: bob, type: 'm.room.message', content: { body: 'x'.repeat(70_000) } })));
    assert.equal(big.status, 'dropped');
    assert.match((big as { reason: string }).reason, /65536/);
    assert.deepEqual(snapshot(f, roomId), before, 'dropped PDUs change nothing');

    // Wrong content hash: the body (not covered by the signature) changed in transit → stored redacted.
    const tampered = f.remoteEvent(roomId, { sender: bob, type: 'm.room.message', content: { msgtype: 'm.text', body: 'original' } });
    const sent = wire(tampered);
    (sent.content as Record<string, unknown>).body = 'tampered';
    const redacted = await f.receiver.receive(REMOTE, sent);
    assert.equal(redacted.status, 'accepted');
    assert.deepEqual(f.store.getEvent(redacted.eventId!)!.pdu.content, {}, 'stored in redacted form');
    assert.equal(redacted.eventId, tampered.event_id, 'the event id is the reference hash, unchanged by content');

    // Failing auth: bob (power 0) changes the power levels → rejected, stored as rejected, state unchanged.
    const mid = snapshot(f, roomId);
    const pl = f.rooms.sender.cache.get(roomId)!.state.get(stateMapKey('m.room.power_levels', ''))!;
    const coup = f.remoteEvent(roomId, { sender: bob, type: 'm.room.power_levels', stateKey: '', content: { ...pl.content, users: { [bob]: 100 } } });
    const rejected = await f.receiver.receive(REMOTE, wire(coup));
    assert.equal(rejected.status, 'rejected');
    assert.equal(f.store.getDagEvent(coup.event_id)?.kind, 'rejected');
    assert.equal(f.store.getEvent(coup.event_id), undefined, 'not in the timeline');
    assert.deepEqual(snapshot(f, roomId), mid, 'a rejected event changes nothing');
    // An event citing the rejected event as an auth event is rejected too.
    const child = f.remoteEvent(roomId, { sender: bob, type: 'm.room.message', content: { body: 'c' } });
    child.auth_events = [...child.auth_events, coup.event_id];
    assert.notEqual((await f.receiver.receive(REMOTE, wire(child))).status, 'accepted');
  } finally {
    await f.close();
  }
});

test('soft failure: an event allowed by its own state but not the current one is kept out of the timeline', async () => {
  const f = await startReceiveFixture();
  try {
    const roomId = await roomWithBob(f);
    // Built (auth events, prev events) before bob's server saw the ban.
    const late = f.remoteEvent(roomId, { sender: bob, type: 'm.room.message', content: { body: 'sent before I saw the ban' } });
    await f.rooms.membership.ban(alice.userId, roomId, bob, 'spam');
    const before = snapshot(f, roomId);
    const r = await f.receiver.receive(REMOTE, wire(late));
    assert.equal(r.status, 'soft_failed', JSON.stringify(r));
    assert.equal(f.store.getDagEvent(late.event_id)?.kind, 'soft_failed');
    assert.deepEqual(snapshot(f, roomId), before, 'not an extremity, not in the timeline');
  } finally {
    await f.close();
  }
});

test('forks: two remote events on the same parent become two extremities; the next local event joins them', async () => {
  const f = await startReceiveFixture();
  try {
    const roomId = await roomWithBob(f);
    const tip = f.store.forwardExtremities(roomId);
    const a = f.remoteEvent(roomId, { sender: bob, type: 'm.room.member', stateKey: bob, content: { membership: 'join', displayname: 'Bob A' }, prev: tip });
    const localTopic = await f.rooms.state.putState(alice, roomId, 'm.room.name', '', { name: 'local' });
    assert.equal((await f.receiver.receive(REMOTE, wire(a))).status, 'accepted');
    assert.deepEqual(f.store.forwardExtremities(roomId).sort(), [a.event_id, localTopic].sort());
    const current = f.store.currentStateIds(roomId);
    assert.equal(current.get(stateMapKey('m.room.member', bob)), a.event_id, 'resolved state has the remote member change');
    assert.equal(current.get(stateMapKey('m.room.name', '')), localTopic, 'and the local name');
    const id = await f.rooms.timeline.send(alice, roomId, 'm.room.message', { body: 'merge' }, 't2');
    assert.deepEqual([...f.store.getEvent(id)!.pdu.prev_events].sort(), [a.event_id, localTopic].sort());
    assert.deepEqual(f.store.forwardExtremities(roomId), [id]);
    // Sync sees the remote topic as part of the room state.
    const state = f.rooms.reader.stateAt(alice, roomId, f.notifier.current);
    assert.equal(state.find((e) => e.type === 'm.room.member' && e.state_key === bob)?.content.displayname, 'Bob A');
  } finally {
    await f.close();
  }
});

test('a redaction that arrives before its target (on a parallel branch) applies when the target arrives', async () => {
  const f = await startReceiveFixture();
  try {
    const roomId = await roomWithBob(f);
    const tip = f.store.forwardExtremities(roomId);
    const target = f.remoteEvent(roomId, { sender: bob, type: 'm.room.message', content: { msgtype: 'm.text', body: 'oops' }, prev: tip });
    const redaction = f.remoteEvent(roomId, { sender: bob, type: 'm.room.redaction', content: {}, prev: tip, redacts: target.event_id });
    assert.equal((await f.receiver.receive(REMOTE, wire(redaction))).status, 'accepted');
    assert.equal((await f.receiver.receive(REMOTE, wire(target))).status, 'accepted');
    assert.equal(f.store.getEvent(target.event_id)!.redactedBy, redaction.event_id);
    const seen = f.rooms.timeline.event(alice, roomId, target.event_id) as { content: Record<string, unknown>; unsigned?: { redacted_because?: { event_id: string } } };
    assert.deepEqual(seen.content, {}, 'served redacted');
    assert.equal(seen.unsigned?.redacted_because?.event_id, redaction.event_id);
  } finally {
    await f.close();
  }
});

test('gaps: missing prev events come from /get_missing_events, else the state from /state_ids', async () => {
  const f = await startReceiveFixture();
  try {
    const roomId = await roomWithBob(f);
    const e1 = f.remoteEvent(roomId, { sender: bob, type: 'm.room.member', stateKey: bob, content: { membership: 'join', displayname: 'one' } });
    const e2 = f.remoteEvent(roomId, { sender: bob, type: 'm.room.message', content: { body: 'two' }, prev: [e1.event_id], depth: e1.depth + 1 });
    let asked: unknown;
    f.setRemote({
      getMissingEvents: async (_d, _r, body) => {
        asked = body;
        return { events: [wire(e1)] };
      },
    });
    const r = await f.receiver.receive(REMOTE, wire(e2));
    assert.equal(r.status, 'accepted', JSON.stringify(r));
    assert.deepEqual((asked as { latest_events: string[] }).latest_events, [e2.event_id]);
    assert.ok(f.store.getEvent(e1.event_id), 'the missing event is in the timeline');
    assert.deepEqual(f.store.forwardExtremities(roomId), [e2.event_id]);

    // A gap get_missing_events cannot fill: the state at the unknown prev event via /state_ids + /event.
    const hidden = f.remoteEvent(roomId, { sender: bob, type: 'm.room.message', content: { body: 'never sent' } });
    const e3 = f.remoteEvent(roomId, { sender: bob, type: 'm.room.message', content: { body: 'three' }, prev: [hidden.event_id], depth: hidden.depth + 1 });
    const stateIds = [...f.store.currentStateIds(roomId).values()];
    f.setRemote({
      getMissingEvents: async () => ({ events: [] }),
      stateIds: async () => ({ pdu_ids: stateIds, auth_chain_ids: [] }),
      event: async (_d, id) => ({ pdus: id === hidden.event_id ? [wire(hidden)] : [] }),
    });
    const r3 = await f.receiver.receive(REMOTE, wire(e3));
    assert.equal(r3.status, 'accepted', JSON.stringify(r3));
    assert.equal(f.store.getDagEvent(hidden.event_id)?.kind, 'outlier');
    assert.deepEqual(f.store.forwardExtremities(roomId).sort(), [e2.event_id, e3.event_id].sort());
  } finally {
    await f.close();
  }
});
