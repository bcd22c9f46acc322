import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getRoomVersion, type RoomVersion } from '../room-versions.ts';
import {
  computeEventId,
  createEventIdFromRoomId,
  eventIdOf,
  makeV1EventId,
  roomIdFromCreateEvent,
  roomIdFromCreateEventId,
} from './event-id.ts';
import { computeReferenceHash } from './hashes.ts';
import { encodeBase64, encodeBase64Url } from '../json/base64.ts';
import { isValidEventId, isValidRoomId } from '../ids.ts';

const v = (id: string): RoomVersion => getRoomVersion(id)!;

// A reference hash with `+`/`/` in standard Base64 shows the v3/v4 alphabet difference.
function eventWithSlash(version: RoomVersion): Record<string, unknown> {
  for (let i = 0; i < 1000; i++) {
    const ev = { type: 'm.room.message', content: {}, sender: '@a:b', room_id: '!r:b', depth: i, origin_server_ts: 0, prev_events: [], auth_events: [], hashes: { sha256: 'x' }, signatures: {} };
    const b64 = encodeBase64(computeReferenceHash(version, ev));
    if (b64.includes('/') && b64.includes('+')) return ev;
  }
  throw new Error('unreachable');
}

test('v1–2: the event id is carried in the event', () => {
  assert.equal(eventIdOf(v('1'), { event_id: '$abc:example.org' }), '$abc:example.org');
  assert.equal(eventIdOf(v('2'), {}), undefined);
  assert.equal(makeV1EventId('abc', 'example.org:8448'), '$abc:example.org:8448');
  assert.throws(() => computeEventId(v('1'), {}));
});

test('v3: $ + standard unpadded base64 of the reference hash', () => {
  const ev = eventWithSlash(v('3'));
  const id = computeEventId(v('3'), ev);
  assert.equal(id, `$${encodeBase64(computeReferenceHash(v('3'), ev))}`);
  assert.equal(id.length, 44);
  assert.match(id, /[+/]/);
  assert.ok(isValidEventId(id, v('3')));
  assert.ok(!isValidEventId(id, v('4')));
  assert.equal(eventIdOf(v('3'), ev), id);
});

test('v4+: $ + URL-safe unpadded base64 of the reference hash', () => {
  for (const id of ['4', '5', '6', '7', '8', '9', '10', '11', '12']) {
    const ev = eventWithSlash(v(id));
    const eventId = computeEventId(v(id), ev);
    assert.equal(eventId, `$${encodeBase64Url(computeReferenceHash(v(id), ev))}`);
    assert.doesNotMatch(eventId, /[+/=]/);
    assert.ok(isValidEventId(eventId, v(id)));
  }
});

test('v3 and v4 ids of the same event differ only in alphabet', () => {
  const ev = eventWithSlash(v('3'));
  const a = computeEventId(v('3'), ev);
  const b = computeEventId(v('4'), ev);
  assert.equal(a.replaceAll('+', '-').replaceAll('/', '_'), b);
});

test('event ids ignore signatures and unsigned, and redactable content', () => {
  const version = v('10');
  const ev = eventWithSlash(version);
  const id = computeEventId(version, ev);
  assert.equal(computeEventId(version, { ...ev, signatures: { x: { 'ed25519:1': 'y' } }, unsigned: { age: 1 } }), id);
  assert.equal(computeEventId(version, { ...ev, content: { body: 'hi' } }), id);
  assert.notEqual(computeEventId(version, { ...ev, depth: 9999 }), id);
});

test('v12 room id: ! + URL-safe base64 of the create event reference hash', () => {
  const version = v('12');
  const create = {
    type: 'm.room.create',
    state_key: '',
    content: { room_version: '12' },
    sender: '@alice:example.org',
    depth: 1,
    origin_server_ts: 1,
    prev_events: [],
    auth_events: [],
    hashes: { sha256: 'h' },
    signatures: {},
  };
  const roomId = roomIdFromCreateEvent(version, create);
  const eventId = computeEventId(version, create);
  assert.equal(roomId, `!${encodeBase64Url(computeReferenceHash(version, create))}`);
  assert.equal(roomId, `!${eventId.slice(1)}`);
  assert.equal(roomIdFromCreateEventId(eventId), roomId);
  assert.equal(createEventIdFromRoomId(roomId), eventId);
  assert.ok(isValidRoomId(roomId, version));
  assert.ok(!isValidRoomId(roomId, v('11')));
  // v12 create keeps all content when redacted, so content changes the room id
  assert.notEqual(roomIdFromCreateEvent(version, { ...create, content: { room_version: '12', x: 1 } }), roomId);
  assert.throws(() => roomIdFromCreateEvent(v('3'), create));
  assert.throws(() => roomIdFromCreateEventId('!x'));
  assert.throws(() => createEventIdFromRoomId('$x'));
});
