import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getRoomVersion } from './room-versions.ts';
import {
  eventIdServerName,
  hasUserOn,
  isCompliantUserId,
  isIpv6,
  isStrictUserId,
  isValidEventId,
  isValidLocalpartForRegistration,
  isValidNamespacedId,
  isValidOpaqueId,
  isValidRoomAlias,
  isValidRoomId,
  isValidServerName,
  isValidUserId,
  parseRoomAlias,
  parseRoomId,
  parseServerName,
  parseUserId,
  roomIdServerName,
  userIdLocalpart,
  userIdServerName,
} from './ids.ts';

const HASH43 = 'Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ';

test('server names: the appendix examples', () => {
  assert.deepEqual(parseServerName('matrix.org'), { host: 'matrix.org', kind: 'dns' });
  assert.deepEqual(parseServerName('matrix.org:8888'), { host: 'matrix.org', kind: 'dns', port: 8888 });
  assert.deepEqual(parseServerName('1.2.3.4'), { host: '1.2.3.4', kind: 'ipv4' });
  assert.deepEqual(parseServerName('1.2.3.4:1234'), { host: '1.2.3.4', kind: 'ipv4', port: 1234 });
  assert.deepEqual(parseServerName('[1234:5678::abcd]'), { host: '[1234:5678::abcd]', kind: 'ipv6' });
  assert.deepEqual(parseServerName('[1234:5678::abcd]:5678'), { host: '[1234:5678::abcd]', kind: 'ipv6', port: 5678 });
});

test('server names: more valid and invalid forms', () => {
  for (const ok of ['localhost', 'a', 'my-host', 'MATRIX.ORG', 'x.y.z:1', 'h:65535', '[::1]', '[::]', '[::ffff:1.2.3.4]:80', '[2001:db8:0:0:0:0:2:1]', '123', '1.2.3']) {
    assert.ok(isValidServerName(ok), ok);
  }
  for (const bad of [
    '', 'matrix..org', '.matrix.org', 'matrix.org.', 'ma_trix.org', 'matrix.org:', 'matrix.org:abc', 'matrix.org:123456',
    'matrix.org:65536', 'matrix.org:-1', 'host:1:2', '256.1.1.1', '1.2.3.400:80', '[1234:5678::abcd', '[::1]x', '[::1]:',
    '[g::1]', '[1:2:3:4:5:6:7:8:9]', '[1::2::3]', '[fe80::1%eth0]', '::1', 'exämple.org', 'a b', 'x'.repeat(256),
  ]) {
    assert.ok(!isValidServerName(bad), bad);
  }
  assert.ok(isValidServerName('x'.repeat(255)));
});

test('IPv6 literal text forms', () => {
  for (const ok of ['::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6::8', '1::8', 'FFFF::abcd', '::1.2.3.4', '1:2:3:4:5:6:1.2.3.4', '64:ff9b::192.0.2.33']) {
    assert.ok(isIpv6(ok), ok);
  }
  for (const bad of ['', ':', '1', '1:2', ':::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', '1::2::3', '1:2:3:4:5:6:7:1.2.3.4', '::1.2.3', '::256.1.1.1', '1.2.3.4::', 'fe80::1%1']) {
    assert.ok(!isIpv6(bad), bad);
  }
});

test('user ids: current grammar, historical grammar, compliance', () => {
  assert.deepEqual(parseUserId('@alice:example.org'), { localpart: 'alice', serverName: 'example.org' });
  assert.deepEqual(parseUserId('@a:[::1]:8448'), { localpart: 'a', serverName: '[::1]:8448' });
  assert.equal(userIdServerName('@bob:matrix.org:8448'), 'matrix.org:8448');
  assert.equal(userIdLocalpart('@bob:matrix.org'), 'bob');
  assert.ok(isStrictUserId('@a.b_c=d-e/f+g0:x'));
  // historical: upper case, unicode, control chars, empty localpart are accepted...
  for (const hist of ['@Alice:x', '@ünï:x', '@a\u0007b:x', '@:x', '@a b:x', '@😀:x']) {
    assert.ok(isValidUserId(hist), hist);
    assert.ok(!isStrictUserId(hist), hist);
  }
  // ...and compliance is the printable-ASCII, non-empty subset
  assert.ok(isCompliantUserId('@Alice:x'));
  assert.ok(!isCompliantUserId('@:x'));
  assert.ok(!isCompliantUserId('@ünï:x'));
  assert.ok(!isCompliantUserId('@a b:x'));
  for (const bad of ['alice:x', '@alice', '@alice:', '@a\u0000b:x', '@alice:bad_host', '@\ud800:x', '#a:x', '']) {
    assert.ok(!isValidUserId(bad), JSON.stringify(bad));
  }
  // 255-byte limit counts bytes, sigil and domain included
  const server = 'example.org';
  const maxLocal = 255 - 2 - server.length;
  assert.ok(isValidUserId(`@${'a'.repeat(maxLocal)}:${server}`));
  assert.ok(!isValidUserId(`@${'a'.repeat(maxLocal + 1)}:${server}`));
  assert.ok(!isValidUserId(`@${'é'.repeat(Math.ceil(maxLocal / 2) + 1)}:${server}`), 'multi-byte chars count twice');
});

test('localparts for new registrations', () => {
  for (const ok of ['alice', 'a', '0', 'a.b_c=d-e/f+g']) assert.ok(isValidLocalpartForRegistration(ok), ok);
  for (const bad of ['', 'Alice', 'a b', 'a:b', 'ü', 'a#b', 'a*', '@a']) assert.ok(!isValidLocalpartForRegistration(bad), bad);
  assert.ok(isValidLocalpartForRegistration('a'.repeat(241), 'example.org'));
  assert.ok(!isValidLocalpartForRegistration('a'.repeat(243), 'example.org'));
});

test('room ids: domain form, v12 hash form, per-version acceptance', () => {
  assert.deepEqual(parseRoomId('!abc:example.org'), { kind: 'domain', localpart: 'abc', serverName: 'example.org' });
  assert.deepEqual(parseRoomId(`!${HASH43}`), { kind: 'hash', hash: HASH43 });
  assert.equal(roomIdServerName('!abc:example.org'), 'example.org');
  assert.equal(roomIdServerName(`!${HASH43}`), undefined);
  const v11 = getRoomVersion('11')!;
  const v12 = getRoomVersion('12')!;
  assert.ok(isValidRoomId('!abc:example.org', v11));
  assert.ok(!isValidRoomId('!abc:example.org', v12));
  assert.ok(isValidRoomId(`!${HASH43}`, v12));
  assert.ok(!isValidRoomId(`!${HASH43}`, v11));
  assert.ok(!isValidRoomId(`!${HASH43}x`, v12));
  assert.ok(!isValidRoomId(`!${HASH43.replace('-', '+')}`, v12), 'standard alphabet is not a v12 room id');
  for (const bad of ['abc:x', '!abc', '!:bad host', '$abc:x', `!${'a'.repeat(250)}:x.org`, '!a\u0000:x']) {
    assert.ok(!isValidRoomId(bad), bad);
  }
  assert.ok(isValidRoomId('!:x'), 'empty localpart is grammatical');
});

test('room aliases', () => {
  assert.deepEqual(parseRoomAlias('#room:example.org'), { localpart: 'room', serverName: 'example.org' });
  assert.ok(isValidRoomAlias('#Ünïcode room:x'));
  for (const bad of ['room:x', '#room', '#a:b:c:d', '#a\u0000:x', `#${'a'.repeat(252)}:x.org`]) assert.ok(!isValidRoomAlias(bad), bad);
});

test('event ids per format', () => {
  const v1 = getRoomVersion('1')!;
  const v3 = getRoomVersion('3')!;
  const v4 = getRoomVersion('4')!;
  const std = '$acR1l0raoZnm60CBwAVgqbZqoO/mYU81xysh1u7XcJk';
  const url = '$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg';
  assert.ok(isValidEventId('$a4ecee13e2accdadf56c1025:example.com', v1));
  assert.ok(!isValidEventId(std, v1));
  assert.ok(isValidEventId(std, v3));
  assert.ok(!isValidEventId(url, v3));
  assert.ok(isValidEventId(url, v4));
  assert.ok(!isValidEventId(std, v4));
  assert.ok(!isValidEventId('$abc:x', v4));
  for (const id of [std, url, '$a:x']) assert.ok(isValidEventId(id));
  for (const bad of ['', '$', 'abc', '!abc:x', '$abc', `$${'a'.repeat(255)}`]) assert.ok(!isValidEventId(bad), bad);
  assert.equal(eventIdServerName('$abc:example.org:8448'), 'example.org:8448');
  assert.equal(eventIdServerName(url), undefined);
});

test('opaque and namespaced identifiers', () => {
  assert.ok(isValidOpaqueId('A-z_0.9~'));
  assert.ok(!isValidOpaqueId(''));
  assert.ok(!isValidOpaqueId('a b'));
  assert.ok(!isValidOpaqueId('x'.repeat(256)));
  assert.ok(isValidNamespacedId('m.room.v1'));
  assert.ok(isValidNamespacedId('com.example-id_2'));
  assert.ok(!isValidNamespacedId('M.room'));
  assert.ok(!isValidNamespacedId('1abc'));
  assert.ok(!isValidNamespacedId('x'.repeat(256)));
});

test('hasUserOn: whether a server has one of the users (exact server name, port included)', () => {
  const joined = new Set(['@alice:example.org', '@bob:matrix.org:8448']);
  assert.equal(hasUserOn('example.org', joined), true);
  assert.equal(hasUserOn('matrix.org:8448', joined), true);
  assert.equal(hasUserOn('matrix.org', joined), false);
  assert.equal(hasUserOn('example.org', []), false);
  assert.equal(hasUserOn('example.org', ['not-a-user-id']), false);
});
