import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getRoomVersion, ROOM_VERSIONS, type RoomVersion } from '../room-versions.ts';
import { redactEvent, redactedView } from './redaction.ts';

const v = (id: string): RoomVersion => getRoomVersion(id)!;
const ALL = [...ROOM_VERSIONS.keys()];

/** Every top-level key any version might keep, plus junk. */
function base(type: string, content: Record<string, unknown>, stateKey: string | null = ''): Record<string, unknown> {
  const ev: Record<string, unknown> = {
    event_id: '$e:x',
    type,
    room_id: '!r:x',
    sender: '@s:x',
    content,
    hashes: { sha256: 'h' },
    signatures: { x: { 'ed25519:1': 's' } },
    depth: 4,
    prev_events: ['$p'],
    prev_state: [],
    auth_events: ['$a'],
    origin: 'x',
    origin_server_ts: 7,
    membership: 'join',
    unsigned: { age: 1, redacted_because: {} },
    age_ts: 3,
    redacts: '$target',
    junk: true,
  };
  if (stateKey !== null) ev.state_key = stateKey;
  return ev;
}

const redactedContent = (version: string, type: string, content: Record<string, unknown>) =>
  redactEvent(v(version), base(type, content)).content;

test('top-level keys: v1–v10 keep origin/membership/prev_state; v11+ drop them', () => {
  const common = ['auth_events', 'content', 'depth', 'event_id', 'hashes', 'origin_server_ts', 'prev_events', 'room_id', 'sender', 'signatures', 'state_key', 'type'];
  for (const id of ALL) {
    const keys = Object.keys(redactEvent(v(id), base('m.room.message', { body: 'x' }))).sort();
    const expected = v(id).redactionRules === 'v11' ? common : [...common, 'membership', 'origin', 'prev_state'].sort();
    assert.deepEqual(keys, expected, `room v${id}`);
  }
  // unsigned, age_ts, redacts (top-level) and unknown keys are always dropped
  for (const id of ALL) {
    const r = redactEvent(v(id), base('m.room.redaction', {}));
    for (const k of ['unsigned', 'age_ts', 'redacts', 'junk']) assert.ok(!(k in r), `v${id} ${k}`);
  }
});

test('message content is emptied in every version; content is always present', () => {
  for (const id of ALL) {
    assert.deepEqual(redactedContent(id, 'm.room.message', { body: 'hi', msgtype: 'm.text' }), {});
    const noContent = base('m.room.message', {});
    delete noContent.content;
    assert.deepEqual(redactEvent(v(id), noContent).content, {});
    assert.deepEqual(redactEvent(v(id), base('m.room.member', 'bad' as never)).content, {});
  }
});

test('m.room.member: join_authorised_via_users_server kept from v9; third_party_invite.signed from v11', () => {
  const content = {
    membership: 'join',
    displayname: 'Alice',
    avatar_url: 'mxc://x/y',
    join_authorised_via_users_server: '@admin:x',
    third_party_invite: { display_name: 'a@b.c', signed: { mxid: '@s:x', token: 't', signatures: {} } },
  };
  for (const id of ['1', '2', '3', '4', '5', '6', '7', '8']) {
    assert.deepEqual(redactedContent(id, 'm.room.member', content), { membership: 'join' }, `v${id}`);
  }
  for (const id of ['9', '10']) {
    assert.deepEqual(
      redactedContent(id, 'm.room.member', content),
      { membership: 'join', join_authorised_via_users_server: '@admin:x' },
      `v${id}`,
    );
  }
  for (const id of ['11', '12']) {
    assert.deepEqual(
      redactedContent(id, 'm.room.member', content),
      {
        membership: 'join',
        join_authorised_via_users_server: '@admin:x',
        third_party_invite: { signed: { mxid: '@s:x', token: 't', signatures: {} } },
      },
      `v${id}`,
    );
  }
  // third_party_invite without signed, or not an object, is dropped
  assert.deepEqual(redactedContent('11', 'm.room.member', { membership: 'invite', third_party_invite: { display_name: 'x' } }), { membership: 'invite' });
  assert.deepEqual(redactedContent('11', 'm.room.member', { membership: 'invite', third_party_invite: 'x' }), { membership: 'invite' });
});

test('m.room.create: only `creator` before v11; all content from v11', () => {
  const content = { creator: '@c:x', room_version: '10', 'm.federate': false, predecessor: { room_id: '!o:x' }, additional_creators: ['@d:x'] };
  for (const id of ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']) {
    assert.deepEqual(redactedContent(id, 'm.room.create', content), { creator: '@c:x' }, `v${id}`);
  }
  for (const id of ['11', '12']) assert.deepEqual(redactedContent(id, 'm.room.create', content), content, `v${id}`);
});

test('m.room.join_rules: `allow` kept from v8, not in v7', () => {
  const content = { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: '!o:x' }], other: 1 };
  for (const id of ['1', '2', '3', '4', '5', '6', '7']) {
    assert.deepEqual(redactedContent(id, 'm.room.join_rules', content), { join_rule: 'restricted' }, `v${id}`);
  }
  for (const id of ['8', '9', '10', '11', '12']) {
    assert.deepEqual(redactedContent(id, 'm.room.join_rules', content), { join_rule: 'restricted', allow: content.allow }, `v${id}`);
  }
});

test('m.room.power_levels: `invite` kept from v11 only; notifications never', () => {
  const content = {
    ban: 50, events: { 'm.room.name': 50 }, events_default: 0, kick: 50, redact: 50, state_default: 50,
    users: { '@s:x': 100 }, users_default: 0, invite: 0, notifications: { room: 50 }, historical: 100,
  };
  const { invite: _i, notifications: _n, historical: _h, ...v1Kept } = content;
  for (const id of ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']) {
    assert.deepEqual(redactedContent(id, 'm.room.power_levels', content), v1Kept, `v${id}`);
  }
  for (const id of ['11', '12']) {
    assert.deepEqual(redactedContent(id, 'm.room.power_levels', content), { ...v1Kept, invite: 0 }, `v${id}`);
  }
});

test('m.room.aliases: `aliases` kept in v1–v5 only', () => {
  const content = { aliases: ['#a:x'], other: 1 };
  for (const id of ['1', '2', '3', '4', '5']) assert.deepEqual(redactedContent(id, 'm.room.aliases', content), { aliases: ['#a:x'] });
  for (const id of ['6', '7', '8', '9', '10', '11', '12']) assert.deepEqual(redactedContent(id, 'm.room.aliases', content), {});
});

test('m.room.history_visibility: kept in every version', () => {
  for (const id of ALL) {
    assert.deepEqual(redactedContent(id, 'm.room.history_visibility', { history_visibility: 'shared', x: 1 }), { history_visibility: 'shared' });
  }
});

test('m.room.redaction: content.redacts kept from v11', () => {
  for (const id of ['1', '5', '6', '10']) assert.deepEqual(redactedContent(id, 'm.room.redaction', { redacts: '$t', reason: 'spam' }), {});
  for (const id of ['11', '12']) assert.deepEqual(redactedContent(id, 'm.room.redaction', { redacts: '$t', reason: 'spam' }), { redacts: '$t' });
});

test('per-version differences at a glance (v7 vs v8, v8 vs v9, v10 vs v11)', () => {
  const jr = { join_rule: 'restricted', allow: [] };
  assert.notDeepEqual(redactedContent('7', 'm.room.join_rules', jr), redactedContent('8', 'm.room.join_rules', jr));
  const m = { membership: 'join', join_authorised_via_users_server: '@a:x' };
  assert.notDeepEqual(redactedContent('8', 'm.room.member', m), redactedContent('9', 'm.room.member', m));
  const c = { creator: '@a:x', room_version: '10' };
  assert.notDeepEqual(redactedContent('10', 'm.room.create', c), redactedContent('11', 'm.room.create', c));
  assert.ok('origin' in redactEvent(v('10'), base('X', {})));
  assert.ok(!('origin' in redactEvent(v('11'), base('X', {}))));
});

test('returns a deep copy; the input is untouched; accepts {redactionRules}', () => {
  const ev = base('m.room.power_levels', { users: { '@a:x': 100 }, other: 1 });
  const before = structuredClone(ev);
  const r = redactEvent({ redactionRules: 'v1' }, ev);
  assert.deepEqual(ev, before);
  (r.content as { users: Record<string, number> }).users['@a:x'] = 0;
  (r.prev_events as string[]).push('$z');
  assert.deepEqual(ev, before);
  // redaction is idempotent
  for (const id of ALL) {
    const once = redactEvent(v(id), base('m.room.member', { membership: 'join', displayname: 'x' }));
    assert.deepEqual(redactEvent(v(id), once), once);
  }
});

test('keys that only look like allowed keys, and state events without state_key', () => {
  // inherited or prototype keys are not content keys
  assert.deepEqual(redactedContent('11', 'toString', { a: 1 }), {});
  const noStateKey = base('m.room.message', {}, null);
  assert.ok(!('state_key' in redactEvent(v('10'), noStateKey)));
  assert.equal(redactEvent(v('10'), base('m.room.topic', { topic: 't' })).state_key, '');
});

test('redactedView is redactEvent without the copy: equal in every version, the input untouched', () => {
  const event = {
    type: 'm.room.power_levels',
    state_key: '',
    sender: '@a:x',
    origin: 'x',
    content: { users: { '@a:x': 100 }, invite: 50, notifications: { room: 50 } },
    unsigned: { age: 1 },
    hashes: { sha256: 'h' },
  };
  const before = structuredClone(event);
  for (const id of Object.keys(ROOM_VERSIONS)) {
    const version = getRoomVersion(id) as RoomVersion;
    const view = redactedView(version, event);
    assert.deepEqual(view, redactEvent(version, event), `v${id}`);
    assert.notEqual(view, event);
    assert.notEqual(view.content, event.content, 'content is a new object');
  }
  assert.deepEqual(event, before);
  // What the view shares is the input's own nested values (it is for reading only).
  assert.equal((redactedView(getRoomVersion('10') as RoomVersion, event).content as { users: unknown }).users, event.content.users);
});
