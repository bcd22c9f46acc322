import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getRoomVersion, ROOM_VERSIONS, type RoomVersion } from '../room-versions.ts';
import {
  buildEvent,
  checkReceivedEvent,
  isEventSignedBy,
  requiredSignatureServers,
  signEvent,
  verifyEventSignatures,
  type ProtoEvent,
} from './build.ts';
import { signingKeyFromSeed } from '../crypto/ed25519.ts';
import { checkContentHash, referenceHashBase64, wireForm } from './hashes.ts';
import { computeEventId, roomIdFromCreateEvent } from './event-id.ts';
import { checkPduFormat } from './format.ts';
import { redactEvent } from './redaction.ts';
import { isValidEventId } from '../ids.ts';
import type { Pdu, StoredPdu } from './types.ts';

const v = (id: string): RoomVersion => getRoomVersion(id)!;
const ALL = [...ROOM_VERSIONS.values()];
const alice = signingKeyFromSeed(Buffer.alloc(32, 1), 'a1');
const bob = signingKeyFromSeed(Buffer.alloc(32, 2), 'b1');
const mallory = signingKeyFromSeed(Buffer.alloc(32, 3), 'a1');
const keys = {
  'alice.example': { 'ed25519:a1': alice.publicKeyBase64 },
  'bob.example': { 'ed25519:b1': bob.publicKeyBase64 },
};
const opts = { serverName: 'alice.example', signingKey: alice, eventIdLocalpart: 'loc1' };

/** A create event then a message referencing it, built for `version`. */
function buildPair(version: RoomVersion): { create: StoredPdu; message: StoredPdu; roomId: string } {
  const createProto: ProtoEvent = {
    type: 'm.room.create',
    state_key: '',
    content: version.implicitRoomCreator ? { room_version: version.id } : { creator: '@alice:alice.example', room_version: version.id },
    sender: '@alice:alice.example',
    prev_events: [],
    auth_events: [],
    depth: 1,
    origin_server_ts: 1_700_000_000_000,
  };
  if (!version.roomIdFromCreateEvent) createProto.room_id = '!room:alice.example';
  const create = buildEvent(version, createProto, { ...opts, eventIdLocalpart: 'create' });
  const roomId = version.roomIdFromCreateEvent ? roomIdFromCreateEvent(version, create) : '!room:alice.example';
  const hashes = new Map([[create.event_id, referenceHashBase64(version, create)]]);
  const message = buildEvent(
    version,
    {
      type: 'm.room.message',
      content: { msgtype: 'm.text', body: 'hello' },
      sender: '@alice:alice.example',
      room_id: roomId,
      prev_events: [create.event_id],
      auth_events: version.roomIdFromCreateEvent ? [] : [create.event_id],
      depth: 2,
      origin_server_ts: 1_700_000_000_001,
      unsigned: { transaction_id: 't1' },
    },
    { ...opts, referenceHashes: hashes },
  );
  return { create, message, roomId };
}

test('build → format → verify round trip for every room version', () => {
  for (const version of ALL) {
    const { create, message, roomId } = buildPair(version);
    for (const ev of [create, message]) {
      assert.deepEqual(checkPduFormat(version, ev), { ok: true }, `v${version.id} ${ev.type}`);
      assert.deepEqual(verifyEventSignatures(version, ev, keys), { ok: true }, `v${version.id} ${ev.type}`);
      assert.ok(checkContentHash(version, ev), `v${version.id}`);
      assert.ok(isValidEventId(ev.event_id, version), `v${version.id} ${ev.event_id}`);
      const received = checkReceivedEvent(version, ev, keys);
      assert.ok(received.ok && received.contentHashValid && received.event === ev);
      // the redacted copy still verifies (signatures cover the redacted form)
      assert.deepEqual(verifyEventSignatures(version, redactEvent(version, ev) as Pdu, keys), { ok: true });
    }
    assert.deepEqual(message.unsigned, { transaction_id: 't1' });
    assert.equal(message.room_id, roomId);
    if (version.eventIdFormat === 'v1') {
      assert.equal(create.event_id, '$create:alice.example');
      assert.deepEqual(message.prev_events, [[create.event_id, { sha256: referenceHashBase64(version, create) }]]);
      assert.deepEqual(message.auth_events, [[create.event_id, { sha256: referenceHashBase64(version, create) }]]);
    } else {
      assert.equal(computeEventId(version, message), message.event_id);
      assert.deepEqual(message.prev_events, [create.event_id]);
    }
    if (version.roomIdFromCreateEvent) {
      assert.ok(!('room_id' in create));
      assert.equal(roomId, `!${create.event_id.slice(1)}`);
      assert.deepEqual(message.auth_events, []);
    } else {
      assert.equal(create.room_id, '!room:alice.example');
    }
  }
});

test('the signed PDU has exactly the fields of its format', () => {
  const { message: m1 } = buildPair(v('1'));
  assert.deepEqual(Object.keys(m1).sort(), [
    'auth_events', 'content', 'depth', 'event_id', 'hashes', 'origin_server_ts', 'prev_events', 'room_id', 'sender', 'signatures', 'type', 'unsigned',
  ]);
  const { message: m10 } = buildPair(v('10'));
  assert.ok(!('event_id' in wireForm(v('10'), m10)));
  assert.deepEqual(Object.keys(m10.signatures), ['alice.example']);
  assert.deepEqual(Object.keys(m10.signatures['alice.example']!), ['ed25519:a1']);
});

test('redacts: top level before v11, in content from v11', () => {
  for (const version of ALL) {
    const { message, roomId } = buildPair(version);
    const redaction = buildEvent(
      version,
      {
        type: 'm.room.redaction',
        content: { reason: 'oops' },
        redacts: message.event_id,
        sender: '@alice:alice.example',
        room_id: roomId,
        prev_events: [],
        auth_events: [],
        depth: 3,
        origin_server_ts: 5,
      },
      opts,
    );
    if (version.redactsInContent) {
      assert.equal(redaction.content.redacts, message.event_id);
      assert.ok(!('redacts' in redaction));
      assert.equal(redactEvent(version, redaction).content && (redactEvent(version, redaction).content as { redacts: string }).redacts, message.event_id);
    } else {
      assert.equal(redaction.redacts, message.event_id);
      assert.ok(!('redacts' in redaction.content));
    }
    assert.deepEqual(verifyEventSignatures(version, redaction, keys), { ok: true });
  }
});

test('tampered content → hash mismatch → processed as redacted; signature still valid', () => {
  for (const version of ALL) {
    const { message } = buildPair(version);
    const tampered = { ...message, content: { msgtype: 'm.text', body: 'evil' } };
    assert.deepEqual(verifyEventSignatures(version, tampered, keys), { ok: true }, 'content is not signed directly');
    assert.ok(!checkContentHash(version, tampered));
    const r = checkReceivedEvent(version, tampered, keys);
    assert.ok(r.ok && !r.contentHashValid);
    assert.deepEqual(r.event.content, {});
  }
});

test('tampered essential fields → signature fails; wrong key → signature fails', () => {
  for (const version of ALL) {
    const { message } = buildPair(version);
    for (const tampered of [
      { ...message, depth: 99 },
      { ...message, origin_server_ts: 1 },
      { ...message, hashes: { sha256: 'AAAA' } },
      { ...message, type: 'm.room.other' },
    ]) {
      assert.equal(verifyEventSignatures(version, tampered, keys).ok, false, `v${version.id}`);
      assert.equal(checkReceivedEvent(version, tampered, keys).ok, false);
    }
    const wrongKeys = { 'alice.example': { 'ed25519:a1': mallory.publicKeyBase64 } };
    assert.equal(verifyEventSignatures(version, message, wrongKeys).ok, false);
    const forged = buildEvent(version, { ...protoOf(message, version), depth: 2 }, { ...opts, signingKey: mallory });
    assert.equal(verifyEventSignatures(version, forged, keys).ok, false);
    assert.equal(verifyEventSignatures(version, message, {}).ok, false, 'no known key');
  }
});

function protoOf(ev: StoredPdu, version: RoomVersion): ProtoEvent {
  return {
    type: ev.type,
    content: ev.content,
    sender: ev.sender,
    room_id: ev.room_id,
    prev_events: version.eventIdFormat === 'v1' ? (ev.prev_events as [string, { sha256?: string }][]) : (ev.prev_events as string[]),
    auth_events: version.eventIdFormat === 'v1' ? (ev.auth_events as [string, { sha256?: string }][]) : (ev.auth_events as string[]),
    depth: ev.depth,
    origin_server_ts: ev.origin_server_ts,
  };
}

test('v1–2 also require the signature of the event id server', () => {
  for (const id of ['1', '2']) {
    const version = v(id);
    const { message } = buildPair(version);
    const foreignId = { ...message, event_id: '$loc1:bob.example' };
    assert.deepEqual(requiredSignatureServers(version, foreignId).sort(), ['alice.example', 'bob.example']);
    // event_id is covered by alice's signature, so re-sign by alice, then bob's is still missing
    const resigned = signEvent(version, { ...foreignId, signatures: {} }, 'alice.example', alice);
    const check = verifyEventSignatures(version, resigned, keys);
    assert.equal(check.ok, false);
    const both = signEvent(version, resigned, 'bob.example', bob);
    assert.deepEqual(verifyEventSignatures(version, both, keys), { ok: true });
  }
  assert.deepEqual(requiredSignatureServers(v('3'), { ...buildPair(v('3')).message, event_id: '$x:bob.example' }), ['alice.example']);
});

test('restricted joins need the authorising server; 3pid invites do not need the sender', () => {
  const version = v('10');
  const { roomId } = buildPair(version);
  const join = buildEvent(
    version,
    {
      type: 'm.room.member',
      state_key: '@alice:alice.example',
      content: { membership: 'join', join_authorised_via_users_server: '@bob:bob.example' },
      sender: '@alice:alice.example',
      room_id: roomId,
      prev_events: [],
      auth_events: [],
      depth: 3,
      origin_server_ts: 5,
    },
    opts,
  );
  assert.deepEqual(requiredSignatureServers(version, join).sort(), ['alice.example', 'bob.example']);
  assert.equal(verifyEventSignatures(version, join, keys).ok, false);
  assert.ok(!isEventSignedBy(version, join, 'bob.example', keys));
  const cosigned = signEvent(version, join, 'bob.example', bob);
  assert.ok(isEventSignedBy(version, cosigned, 'bob.example', keys));
  assert.deepEqual(verifyEventSignatures(version, cosigned, keys), { ok: true });
  // before restricted rooms existed the key means nothing
  assert.deepEqual(requiredSignatureServers(v('7'), join), ['alice.example']);

  const invite = { ...join, content: { membership: 'invite', third_party_invite: { signed: {} } } };
  assert.deepEqual(requiredSignatureServers(version, invite), []);
  assert.equal(verifyEventSignatures(version, invite, keys).ok, false, 'nothing to check is not a pass');
});

test('key validity: enforced at origin_server_ts from v5, ignored before', () => {
  const expiring = {
    'alice.example': { 'ed25519:a1': { key: alice.publicKeyBase64, validUntilTs: 1_700_000_000_000 } },
  };
  for (const version of ALL) {
    const { message } = buildPair(version); // origin_server_ts = validUntilTs + 1
    const verdict = verifyEventSignatures(version, message, expiring);
    assert.equal(verdict.ok, !version.enforceKeyValidity, `v${version.id}`);
  }
});

test('builder input errors', () => {
  const version = v('12');
  const proto: ProtoEvent = { type: 'm.room.create', state_key: '', content: {}, sender: '@a:alice.example', prev_events: [], auth_events: [], depth: 1, origin_server_ts: 1 };
  assert.throws(() => buildEvent(version, { ...proto, room_id: '!x:y' }, opts));
  assert.throws(() => buildEvent(v('11'), proto, opts), /room_id/);
  assert.throws(() => buildEvent(v('1'), { ...proto, room_id: '!r:x' }, { serverName: 'x', signingKey: alice }), /eventIdLocalpart/);
  assert.throws(() => buildEvent(v('1'), { ...proto, room_id: '!r:x', prev_events: ['$unknown:x'] }, opts), /reference hash/);
  // v1–2 tuples can be passed directly; v3+ tuples collapse to ids
  const withTuple = buildEvent(v('2'), { ...proto, room_id: '!r:x', prev_events: [['$p:x', { sha256: 'abc' }]] }, opts);
  assert.deepEqual(withTuple.prev_events, [['$p:x', { sha256: 'abc' }]]);
  const collapsed = buildEvent(v('5'), { ...proto, room_id: '!r:x', prev_events: [['$p', { sha256: 'abc' }]] }, opts);
  assert.deepEqual(collapsed.prev_events, ['$p']);
  // floats: accepted by lenient v1–5, rejected from v6
  assert.ok(buildEvent(v('5'), { ...proto, room_id: '!r:x', content: { f: 0.5 } }, opts));
  assert.throws(() => buildEvent(v('6'), { ...proto, room_id: '!r:x', content: { f: 0.5 } }, opts));
});

test('builder does not mutate its input', () => {
  const proto: ProtoEvent = { type: 'm.room.redaction', content: { reason: 'x' }, redacts: '$t', sender: '@a:alice.example', room_id: '!r:x', prev_events: ['$p'], auth_events: [], depth: 1, origin_server_ts: 1 };
  const before = structuredClone(proto);
  buildEvent(v('11'), proto, opts);
  assert.deepEqual(proto, before);
});
