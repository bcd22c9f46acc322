import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getRoomVersion, ROOM_VERSIONS, type RoomVersion } from '../room-versions.ts';
import { checkPduFormat, MAX_PDU_BYTES } from './format.ts';
import { canonicalJson } from '../json/canonical.ts';

const v = (id: string): RoomVersion => getRoomVersion(id)!;
const ALL = [...ROOM_VERSIONS.values()];
const V12_ROOM = '!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ';
const HASH_ID = '$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg';

/** A minimal valid PDU in `version`'s format. */
function pdu(version: RoomVersion, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const v1 = version.eventIdFormat === 'v1';
  const ref = v1 ? ['$prev:example.org', { sha256: 'abase64encodedsha256hashshouldbe43byteslong' }] : HASH_ID;
  return {
    ...(v1 ? { event_id: '$abc:example.org' } : {}),
    room_id: version.roomIdFromCreateEvent ? V12_ROOM : '!room:example.org',
    sender: '@alice:example.org',
    origin_server_ts: 1234567890,
    type: 'm.room.message',
    content: { body: 'hi' },
    prev_events: [ref],
    auth_events: [ref],
    depth: 12,
    hashes: { sha256: 'ThisHashCoversAllFieldsInCaseThisIsRedacted' },
    signatures: { 'example.org': { 'ed25519:1': 'sig' } },
    unsigned: { age: 4612 },
    ...extra,
  };
}

const reason = (version: RoomVersion, value: unknown): string => {
  const r = checkPduFormat(version, value);
  return r.ok ? 'ok' : r.reason;
};

test('a minimal PDU of each format is accepted', () => {
  for (const version of ALL) assert.deepEqual(checkPduFormat(version, pdu(version)), { ok: true }, `v${version.id}`);
});

test('required fields per pdu_base', () => {
  for (const version of ALL) {
    for (const key of ['sender', 'origin_server_ts', 'type', 'content', 'depth', 'hashes', 'signatures', 'prev_events', 'auth_events', 'room_id']) {
      const ev = pdu(version);
      delete ev[key];
      assert.notEqual(reason(version, ev), 'ok', `v${version.id} without ${key}`);
    }
  }
  assert.notEqual(reason(v('1'), 'x'), 'ok');
  assert.notEqual(reason(v('1'), []), 'ok');
  assert.notEqual(reason(v('1'), null), 'ok');
});

test('v1–2 require event_id and [id, hashes] tuples; v3+ take bare id strings', () => {
  for (const id of ['1', '2']) {
    const ev = pdu(v(id));
    delete ev.event_id;
    assert.match(reason(v(id), ev), /event_id/);
    assert.match(reason(v(id), pdu(v(id), { event_id: HASH_ID })), /event_id/);
    assert.match(reason(v(id), pdu(v(id), { prev_events: ['$prev:example.org'] })), /pairs/);
    assert.match(reason(v(id), pdu(v(id), { auth_events: [['$a:x']] })), /pairs/);
    assert.match(reason(v(id), pdu(v(id), { auth_events: [['$a:x', 'hash']] })), /pairs/);
    assert.match(reason(v(id), pdu(v(id), { auth_events: [['$a:x', { sha256: 5 }]] })), /pairs/);
  }
  for (const version of ALL.filter((x) => x.eventIdFormat !== 'v1')) {
    assert.match(reason(version, pdu(version, { prev_events: [['$p:x', { sha256: 'a' }]] })), /strings/);
    assert.match(reason(version, pdu(version, { auth_events: [5] })), /strings/);
    // an event_id is tolerated (stored copies carry one) but not counted
    assert.equal(reason(version, pdu(version, { event_id: HASH_ID })), 'ok');
  }
});

test('v12: room_id is the hash form and is omitted only from m.room.create', () => {
  const v12 = v('12');
  const create = pdu(v12, { type: 'm.room.create', state_key: '', content: { room_version: '12' }, prev_events: [], auth_events: [] });
  delete create.room_id;
  assert.equal(reason(v12, create), 'ok');
  const msg = pdu(v12);
  delete msg.room_id;
  assert.match(reason(v12, msg), /room_id/);
  assert.match(reason(v12, pdu(v12, { room_id: '!room:example.org' })), /room_id/);
  // before v12, even the create event has a room_id, in domain form
  const create11 = { ...create };
  assert.match(reason(v('11'), create11), /room_id/);
  assert.match(reason(v('11'), pdu(v('11'), { room_id: V12_ROOM })), /room_id/);
});

test('field types', () => {
  const version = v('10');
  const cases: Record<string, unknown>[] = [
    { sender: 5 },
    { sender: 'alice' },
    { type: null },
    { origin_server_ts: 1.5 },
    { origin_server_ts: '1' },
    { depth: -1 },
    { depth: '1' },
    { content: [] },
    { hashes: {} },
    { hashes: { sha256: 1 } },
    { signatures: { x: 'y' } },
    { signatures: { x: { k: 1 } } },
    { state_key: 1 },
    { unsigned: 'u' },
    { redacts: 5 },
    { prev_events: 'x' },
  ];
  for (const c of cases) assert.notEqual(reason(version, pdu(version, c)), 'ok', JSON.stringify(c));
  assert.equal(reason(version, pdu(version, { state_key: '' })), 'ok');
});

test('prev_events ≤ 20 and auth_events ≤ 10', () => {
  for (const version of [v('1'), v('4'), v('12')]) {
    const ref = (pdu(version).prev_events as unknown[])[0];
    assert.equal(reason(version, pdu(version, { prev_events: Array(20).fill(ref), auth_events: Array(10).fill(ref) })), 'ok');
    assert.match(reason(version, pdu(version, { prev_events: Array(21).fill(ref) })), /prev_events/);
    assert.match(reason(version, pdu(version, { auth_events: Array(11).fill(ref) })), /auth_events/);
  }
});

test('field length limits are 255 bytes, counted in UTF-8', () => {
  const version = v('10');
  assert.equal(reason(version, pdu(version, { type: 'a'.repeat(255) })), 'ok');
  assert.match(reason(version, pdu(version, { type: 'a'.repeat(256) })), /type exceeds/);
  assert.equal(reason(version, pdu(version, { state_key: 'é'.repeat(127) })), 'ok');
  assert.match(reason(version, pdu(version, { state_key: 'é'.repeat(128) })), /state_key exceeds/);
  assert.notEqual(reason(version, pdu(version, { sender: `@${'a'.repeat(250)}:example.org` })), 'ok');
  assert.notEqual(reason(version, pdu(version, { room_id: `!${'a'.repeat(250)}:example.org` })), 'ok');
  assert.notEqual(reason(v('1'), pdu(v('1'), { event_id: `$${'a'.repeat(250)}:example.org` })), 'ok');
});

test('total size: 65,536 bytes of canonical JSON including signatures', () => {
  for (const version of [v('1'), v('10'), v('12')]) {
    const ev = pdu(version, { content: { body: '' } });
    const overhead = Buffer.byteLength(canonicalJson(ev));
    const exact = pdu(version, { content: { body: 'x'.repeat(MAX_PDU_BYTES - overhead) } });
    assert.equal(Buffer.byteLength(canonicalJson(exact)), MAX_PDU_BYTES);
    assert.equal(reason(version, exact), 'ok');
    const over = pdu(version, { content: { body: 'x'.repeat(MAX_PDU_BYTES - overhead + 1) } });
    assert.match(reason(version, over), /exceeds 65536/);
    // multi-byte characters count as bytes
    const multi = pdu(version, { content: { body: 'é'.repeat((MAX_PDU_BYTES - overhead) / 2 + 1) } });
    assert.match(reason(version, multi), /exceeds/);
    // signatures count too
    const sigs = { ...(exact.signatures as object), 'b.org': { 'ed25519:1': 'x' } };
    assert.match(reason(version, { ...exact, signatures: sigs }), /exceeds/);
  }
});

test('strict canonical JSON from v6: floats and big integers rejected', () => {
  for (const version of ALL) {
    const floaty = pdu(version, { content: { f: 1.5 } });
    const big = pdu(version, { content: { n: 2 ** 53 } });
    const expected = version.strictCanonicalJson ? /canonical/ : /^ok$/;
    assert.match(reason(version, floaty), expected, `v${version.id}`);
    assert.match(reason(version, big), expected, `v${version.id}`);
  }
  assert.match(reason(v('6'), pdu(v('6'), { depth: 2 ** 53 })), /depth/);
  assert.equal(reason(v('5'), pdu(v('5'), { depth: 2 ** 53 })), 'ok');
  assert.notEqual(reason(v('1'), pdu(v('1'), { content: { x: '\ud800' } })), 'ok', 'lone surrogate never encodes');
});
