import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getRoomVersion, type RoomVersion } from '../room-versions.ts';
import {
  checkContentHash,
  computeContentHash,
  computeReferenceHash,
  contentHashBase64,
  referenceHashBase64,
  wireForm,
} from './hashes.ts';
import { signEvent } from './build.ts';
import { signingKeyFromSeed } from '../crypto/ed25519.ts';
import { decodeBase64, encodeBase64 } from '../json/base64.ts';
import { canonicalJsonBytes } from '../json/canonical.ts';
import { sha256 } from '../crypto/sha256.ts';
import { redactEvent } from './redaction.ts';
import type { Pdu } from './types.ts';
import vectors from '../vectors/appendix-signing.json' with { type: 'json' };

const v = (id: string): RoomVersion => getRoomVersion(id)!;
const key = signingKeyFromSeed(decodeBase64(vectors.seed), '1');

test('appendix Event Signing vectors: content hashes and signatures byte for byte', () => {
  // The vectors predate room v11 (they keep `origin`), so they hold for redaction rules v1–v9.
  for (const id of ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']) {
    const version = v(id);
    for (const vec of vectors.events) {
      if (version.eventIdFormat !== 'v1' && 'event_id' in vec.input) continue; // event_id is not wire data in v3+
      const hash = contentHashBase64(version, vec.input);
      assert.equal(hash, vec.signed.hashes.sha256, `room v${id}`);
      const hashed = { ...vec.input, hashes: { sha256: hash } } as unknown as Pdu;
      const signed = signEvent(version, hashed, 'domain', key);
      assert.deepEqual(signed, vec.signed, `room v${id}`);
      assert.ok(checkContentHash(version, vec.signed));
    }
  }
});

test('v11 drops `origin` before signing, so the appendix signatures differ there', () => {
  const vec = vectors.events[0]!;
  const hashed = { ...vec.input, hashes: { sha256: vec.signed.hashes.sha256 } } as unknown as Pdu;
  const signed = signEvent(v('11'), hashed, 'domain', key);
  assert.notEqual(signed.signatures.domain!['ed25519:1'], vec.signed.signatures.domain['ed25519:1']);
});

test('content hash excludes unsigned, signatures and hashes but covers everything else', () => {
  const ev = { type: 'm.room.message', content: { body: 'x' }, sender: '@a:b', depth: 1 };
  const base = computeContentHash(v('10'), ev);
  assert.deepEqual(base, sha256(canonicalJsonBytes(ev)));
  assert.deepEqual(computeContentHash(v('10'), { ...ev, unsigned: { age: 1 }, signatures: { x: {} }, hashes: { sha256: 'q' } }), base);
  assert.notDeepEqual(computeContentHash(v('10'), { ...ev, content: { body: 'y' } }), base);
  assert.notDeepEqual(computeContentHash(v('10'), { ...ev, extra: 1 }), base);
});

test('event_id is part of the hashed event in v1–2 only', () => {
  const ev = { type: 'X', content: {}, sender: '@a:b', depth: 1 };
  const withId = { ...ev, event_id: '$1:b' };
  assert.notDeepEqual(computeContentHash(v('1'), withId), computeContentHash(v('1'), ev));
  assert.deepEqual(computeContentHash(v('4'), withId), computeContentHash(v('4'), ev));
  assert.deepEqual(computeReferenceHash(v('12'), withId), computeReferenceHash(v('12'), ev));
  assert.ok(!('event_id' in wireForm(v('3'), withId)));
  assert.equal(wireForm(v('2'), withId).event_id, '$1:b');
});

test('tampered content → content hash mismatch; missing or garbled hash → false', () => {
  const version = v('10');
  const ev = { type: 'm.room.message', content: { body: 'hello' }, sender: '@a:b', depth: 1 };
  const hashed = { ...ev, hashes: { sha256: contentHashBase64(version, ev) } };
  assert.ok(checkContentHash(version, hashed));
  assert.ok(!checkContentHash(version, { ...hashed, content: { body: 'hellO' } }));
  assert.ok(!checkContentHash(version, ev));
  assert.ok(!checkContentHash(version, { ...ev, hashes: { sha256: '!!' } }));
  assert.ok(!checkContentHash(version, { ...ev, hashes: 'x' }));
});

test('reference hash: redacted form without signatures/unsigned/age_ts; covers hashes', () => {
  const version = v('10');
  const ev = {
    type: 'm.room.message',
    content: { body: 'secret' },
    sender: '@a:b',
    room_id: '!r:b',
    depth: 1,
    origin_server_ts: 5,
    prev_events: [],
    auth_events: [],
    hashes: { sha256: 'abc' },
    signatures: { b: { 'ed25519:1': 'sig' } },
    unsigned: { age: 3 },
    age_ts: 10,
  };
  const expected = sha256(
    canonicalJsonBytes({
      type: 'm.room.message',
      content: {},
      sender: '@a:b',
      room_id: '!r:b',
      depth: 1,
      origin_server_ts: 5,
      prev_events: [],
      auth_events: [],
      hashes: { sha256: 'abc' },
    }),
  );
  assert.deepEqual(computeReferenceHash(version, ev), expected);
  assert.equal(referenceHashBase64(version, ev), encodeBase64(expected));
  // content redacted away → same reference hash whatever the body
  assert.deepEqual(computeReferenceHash(version, { ...ev, content: { body: 'other' } }), expected);
  // but the content hash (in `hashes`) is covered
  assert.notDeepEqual(computeReferenceHash(version, { ...ev, hashes: { sha256: 'abd' } }), expected);
  assert.deepEqual(computeReferenceHash(version, ev), computeReferenceHash(version, redactEvent(version, ev)));
});

test('room versions 1–5 hash floats leniently; 6+ reject them', () => {
  const ev = { type: 'X', content: { f: 1.5 }, sender: '@a:b', depth: 1 };
  assert.equal(computeContentHash(v('5'), ev).length, 32);
  assert.throws(() => computeContentHash(v('6'), ev));
});
