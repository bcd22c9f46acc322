/**
 * Auth rules, data-driven: a shared matrix of cases runs for every room version 1–12, then each
 * version difference is asserted explicitly. Expected rejections name a `RuleKey`; `ruleId`
 * turns it into the version's spec number (its own numbering is tested literally below).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ROOM_VERSIONS, getRoomVersion, type RoomVersion } from '../room-versions.ts';
import { stateMapKey, type JsonObject, type StoredPdu } from '../events/types.ts';
import {
  checkAuthEventsList,
  checkEventAuth,
  checkEventAuthAgainstAuthEvents,
  ruleId,
  type AuthOptions,
  type AuthState,
  type AuthVerdict,
  type RuleKey,
} from './rules.ts';
import {
  ALICE,
  BOB,
  CAROL,
  DAN,
  EVE,
  MOD,
  commonState,
  creatorUsers,
  ev,
  eventId,
  joinRules,
  makeCreate,
  makeRoom,
  member,
  message,
  powerLevels,
  stateOf,
  type Room,
} from './test-fixtures.ts';

const VERSIONS = [...ROOM_VERSIONS.values()];
const V = (id: string): RoomVersion => getRoomVersion(id) as RoomVersion;

type Expect = true | RuleKey;

function assertVerdict(v: RoomVersion, verdict: AuthVerdict, expected: Expect, label = ''): void {
  if (expected === true) {
    assert.deepEqual(verdict, { allowed: true }, `${label} expected allow, got ${JSON.stringify(verdict)}`);
  } else {
    assert.equal(verdict.allowed, false, `${label} expected reject by ${expected}`);
    if (!verdict.allowed) {
      assert.equal(verdict.rule, ruleId(v, expected), `${label} expected ${expected}, got ${verdict.rule}: ${verdict.reason}`);
      assert.ok(verdict.reason.length > 0);
    }
  }
}

interface Case {
  name: string;
  /** Build the event and auth state for this room version (the room is `makeRoom(v)`). */
  build: (r: Room) => { event: StoredPdu; state: AuthState; options?: AuthOptions };
  expect: Expect | ((v: RoomVersion) => Expect);
}

const tpiState = (r: Room, inviter = ALICE, extra: StoredPdu[] = []): Map<string, StoredPdu> =>
  commonState(r, {
    extra: [
      ev(r, {
        type: 'm.room.third_party_invite',
        sender: inviter,
        state_key: 'tok',
        content: { display_name: 'd…', public_key: 'KEY1', public_keys: [{ public_key: 'KEY2' }], key_validity_url: 'x' },
      }),
      ...extra,
    ],
  });
const tpiInvite = (r: Room, content: JsonObject, sender = ALICE, target = '@new:d.example'): StoredPdu =>
  member(r, target, 'invite', sender, content);
const signedFor = (mxid = '@new:d.example', token = 'tok'): JsonObject => ({
  mxid,
  token,
  signatures: { 'id.example': { 'ed25519:0': 'SIG' } },
});
/** A join whose only prev event is the create event (the first-join special case). */
const firstJoin = (r: Room, user: string): StoredPdu => ({ ...member(r, user, 'join'), prev_events: [r.create.event_id] });
const onlyKey = (key: string): AuthOptions => ({ verifyThirdPartySigned: (_s, k) => k === key });

const SHARED: Case[] = [
  // ---- 1: m.room.create
  { name: 'create: valid', build: (r) => ({ event: r.create, state: new Map() }), expect: true },
  {
    name: 'create: prev_events → reject',
    build: (r) => ({ event: { ...r.create, prev_events: ['$x'] }, state: new Map() }),
    expect: 'create.prevEvents',
  },
  {
    name: 'create: unknown room_version → reject',
    build: (r) => ({ event: { ...r.create, content: { ...r.create.content, room_version: '999' } }, state: new Map() }),
    expect: 'create.roomVersion',
  },
  {
    name: 'create: non-string room_version → reject',
    build: (r) => ({ event: { ...r.create, content: { ...r.create.content, room_version: 5 } }, state: new Map() }),
    expect: 'create.roomVersion',
  },
  {
    name: 'create: other recognised room_version → allow',
    build: (r) => ({ event: { ...r.create, content: { ...r.create.content, room_version: '1' } }, state: new Map() }),
    expect: true,
  },
  {
    name: 'create: absent room_version → allow',
    build: (r) => {
      const { room_version: _rv, ...content } = r.create.content;
      return { event: { ...r.create, content }, state: new Map() };
    },
    expect: true,
  },
  // ---- no create event in the auth state
  {
    name: 'no create event in state → reject',
    build: (r) => {
      const state = commonState(r);
      state.delete(stateMapKey('m.room.create', ''));
      return { event: message(r, BOB), state };
    },
    expect: (v) => (v.roomIdFromCreateEvent ? 'roomId' : 'authEvents.noCreate'),
  },
  // ---- m.federate
  {
    name: 'm.federate false: remote sender → reject',
    build: (r) => ({
      event: message(r, BOB),
      state: new Map([...commonState(r), [stateMapKey('m.room.create', ''), { ...r.create, content: { ...r.create.content, 'm.federate': false } }]]),
    }),
    expect: 'federate',
  },
  {
    name: 'm.federate false: same-server sender → allow',
    build: (r) => ({
      event: message(r, CAROL),
      state: new Map([...commonState(r), [stateMapKey('m.room.create', ''), { ...r.create, content: { ...r.create.content, 'm.federate': false } }]]),
    }),
    expect: true,
  },
  {
    name: 'm.federate true: remote sender → allow',
    build: (r) => ({
      event: message(r, BOB),
      state: new Map([...commonState(r), [stateMapKey('m.room.create', ''), { ...r.create, content: { ...r.create.content, 'm.federate': true } }]]),
    }),
    expect: true,
  },
  // ---- member: shape
  {
    name: 'member: no membership → reject',
    build: (r) => ({ event: ev(r, { type: 'm.room.member', sender: BOB, state_key: BOB, content: {} }), state: commonState(r) }),
    expect: 'member.shape',
  },
  {
    name: 'member: no state_key → reject',
    build: (r) => ({ event: ev(r, { type: 'm.room.member', sender: BOB, content: { membership: 'join' } }), state: commonState(r) }),
    expect: 'member.shape',
  },
  {
    name: 'member: unknown membership → reject',
    build: (r) => ({ event: member(r, BOB, 'wander'), state: commonState(r) }),
    expect: 'member.unknown',
  },
  // ---- member join
  {
    name: 'join: creator first join after create → allow',
    build: (r) => ({ event: firstJoin(r, ALICE), state: stateOf(r) }),
    expect: true,
  },
  {
    name: 'join: non-creator first join after create → reject',
    build: (r) => ({ event: firstJoin(r, BOB), state: stateOf(r) }),
    expect: 'member.join.otherwise',
  },
  {
    name: 'join: creator join with two prev events is not the first join → reject (no join rules)',
    build: (r) => ({ event: { ...member(r, ALICE, 'join'), prev_events: [r.create.event_id, '$other'] }, state: stateOf(r) }),
    expect: 'member.join.otherwise',
  },
  {
    name: 'join: creator join whose only prev event is not the create → reject',
    build: (r) => ({ event: { ...member(r, ALICE, 'join'), prev_events: ['$other'] }, state: stateOf(r) }),
    expect: 'member.join.otherwise',
  },
  {
    name: 'join: public room → allow',
    build: (r) => ({ event: member(r, '@new:d.example', 'join'), state: commonState(r, { joinRule: 'public' }) }),
    expect: true,
  },
  {
    name: 'join: sender is not state_key → reject',
    build: (r) => ({ event: member(r, '@new:d.example', 'join', ALICE), state: commonState(r, { joinRule: 'public' }) }),
    expect: 'member.join.senderMismatch',
  },
  {
    name: 'join: banned sender in public room → reject',
    build: (r) => ({ event: member(r, EVE, 'join'), state: commonState(r, { joinRule: 'public' }) }),
    expect: 'member.join.banned',
  },
  {
    name: 'join: invite room, invited → allow',
    build: (r) => ({ event: member(r, DAN, 'join'), state: commonState(r) }),
    expect: true,
  },
  {
    name: 'join: invite room, already joined (profile change) → allow',
    build: (r) => ({ event: member(r, BOB, 'join', BOB, { displayname: 'Bob' }), state: commonState(r) }),
    expect: true,
  },
  {
    name: 'join: invite room, not invited → reject',
    build: (r) => ({ event: member(r, '@new:d.example', 'join'), state: commonState(r) }),
    expect: 'member.join.otherwise',
  },
  {
    name: 'join: unknown join rule → reject',
    build: (r) => ({ event: member(r, DAN, 'join'), state: commonState(r, { joinRule: 'private' }) }),
    expect: 'member.join.otherwise',
  },
  {
    name: 'join: no join rules event, invited → allow (treated as invite)',
    build: (r) => {
      const state = commonState(r);
      state.delete(stateMapKey('m.room.join_rules', ''));
      return { event: member(r, DAN, 'join'), state };
    },
    expect: true,
  },
  {
    name: 'join: no join rules event, not invited → reject',
    build: (r) => {
      const state = commonState(r);
      state.delete(stateMapKey('m.room.join_rules', ''));
      return { event: member(r, '@new:d.example', 'join'), state };
    },
    expect: 'member.join.otherwise',
  },
  {
    name: 'join: authoriser key on a public join, validly signed → allow',
    build: (r) => ({
      event: member(r, '@new:d.example', 'join', '@new:d.example', { join_authorised_via_users_server: ALICE }),
      state: commonState(r, { joinRule: 'public' }),
      options: { isSignedBy: (_e, server) => server === 'a.example' },
    }),
    expect: true,
  },
  // ---- member invite
  {
    name: 'invite: joined sender with invite power → allow',
    build: (r) => ({ event: member(r, '@new:d.example', 'invite', ALICE), state: commonState(r) }),
    expect: true,
  },
  {
    name: 'invite: default invite level 0 lets bob invite → allow',
    build: (r) => ({ event: member(r, '@new:d.example', 'invite', BOB), state: commonState(r) }),
    expect: true,
  },
  {
    name: 'invite: sender not joined → reject',
    build: (r) => ({ event: member(r, '@new:d.example', 'invite', DAN), state: commonState(r) }),
    expect: 'member.invite.senderNotJoined',
  },
  {
    name: 'invite: target already joined → reject',
    build: (r) => ({ event: member(r, BOB, 'invite', ALICE), state: commonState(r) }),
    expect: 'member.invite.target',
  },
  {
    name: 'invite: target banned → reject',
    build: (r) => ({ event: member(r, EVE, 'invite', ALICE), state: commonState(r) }),
    expect: 'member.invite.target',
  },
  {
    name: 'invite: re-invite an invited user → allow',
    build: (r) => ({ event: member(r, DAN, 'invite', ALICE), state: commonState(r) }),
    expect: true,
  },
  {
    name: 'invite: below the invite level → reject',
    build: (r) => ({ event: member(r, '@new:d.example', 'invite', BOB), state: commonState(r, { pl: { invite: 50 } }) }),
    expect: 'member.invite.power',
  },
  {
    name: 'invite: at the invite level → allow',
    build: (r) => ({ event: member(r, '@new:d.example', 'invite', CAROL), state: commonState(r, { pl: { invite: 50 } }) }),
    expect: true,
  },
  // ---- third-party invites
  {
    name: '3pid invite: signature by public_key → allow',
    build: (r) => ({ event: tpiInvite(r, { third_party_invite: { display_name: 'd', signed: signedFor() } }), state: tpiState(r), options: onlyKey('KEY1') }),
    expect: true,
  },
  {
    name: '3pid invite: signature by a public_keys entry → allow',
    build: (r) => ({ event: tpiInvite(r, { third_party_invite: { display_name: 'd', signed: signedFor() } }), state: tpiState(r), options: onlyKey('KEY2') }),
    expect: true,
  },
  {
    name: '3pid invite: no verifier given → treated as verified',
    build: (r) => ({ event: tpiInvite(r, { third_party_invite: { display_name: 'd', signed: signedFor() } }), state: tpiState(r) }),
    expect: true,
  },
  {
    name: '3pid invite: sender need not be joined (rule order) → allow',
    build: (r) => ({
      event: tpiInvite(r, { third_party_invite: { display_name: 'd', signed: signedFor() } }, DAN),
      state: tpiState(r, DAN),
      options: onlyKey('KEY1'),
    }),
    expect: true,
  },
  {
    name: '3pid invite: no signature matches → reject',
    build: (r) => ({ event: tpiInvite(r, { third_party_invite: { display_name: 'd', signed: signedFor() } }), state: tpiState(r), options: onlyKey('OTHER') }),
    expect: 'member.invite.tpi.signature',
  },
  {
    name: '3pid invite: target banned → reject',
    build: (r) => ({ event: tpiInvite(r, { third_party_invite: { display_name: 'd', signed: signedFor(EVE) } }, ALICE, EVE), state: tpiState(r) }),
    expect: 'member.invite.tpi.banned',
  },
  {
    name: '3pid invite: no signed → reject',
    build: (r) => ({ event: tpiInvite(r, { third_party_invite: { display_name: 'd' } }), state: tpiState(r) }),
    expect: 'member.invite.tpi.noSigned',
  },
  {
    name: '3pid invite: signed without token → reject',
    build: (r) => ({ event: tpiInvite(r, { third_party_invite: { signed: { mxid: '@new:d.example', signatures: {} } } }), state: tpiState(r) }),
    expect: 'member.invite.tpi.signedFields',
  },
  {
    name: '3pid invite: signed without mxid → reject',
    build: (r) => ({ event: tpiInvite(r, { third_party_invite: { signed: { token: 'tok', signatures: {} } } }), state: tpiState(r) }),
    expect: 'member.invite.tpi.signedFields',
  },
  {
    name: '3pid invite: mxid is not state_key → reject',
    build: (r) => ({ event: tpiInvite(r, { third_party_invite: { signed: signedFor('@other:d.example') } }), state: tpiState(r) }),
    expect: 'member.invite.tpi.mxid',
  },
  {
    name: '3pid invite: no m.room.third_party_invite for the token → reject',
    build: (r) => ({ event: tpiInvite(r, { third_party_invite: { signed: signedFor('@new:d.example', 'nope') } }), state: tpiState(r) }),
    expect: 'member.invite.tpi.noInviteEvent',
  },
  {
    name: '3pid invite: sender differs from the third_party_invite sender → reject',
    build: (r) => ({ event: tpiInvite(r, { third_party_invite: { signed: signedFor() } }, BOB), state: tpiState(r) }),
    expect: 'member.invite.tpi.sender',
  },
  // ---- member leave
  {
    name: 'leave: joined user leaves → allow',
    build: (r) => ({ event: member(r, BOB, 'leave'), state: commonState(r) }),
    expect: true,
  },
  {
    name: 'leave: invited user rejects → allow',
    build: (r) => ({ event: member(r, DAN, 'leave'), state: commonState(r) }),
    expect: true,
  },
  {
    name: 'leave: non-member leaves → reject',
    build: (r) => ({ event: member(r, '@new:d.example', 'leave'), state: commonState(r) }),
    expect: 'member.leave.self',
  },
  {
    name: 'leave: banned user leaves → reject',
    build: (r) => ({ event: member(r, EVE, 'leave'), state: commonState(r) }),
    expect: 'member.leave.self',
  },
  {
    name: 'leave: left user leaves again → reject',
    build: (r) => ({ event: member(r, BOB, 'leave'), state: commonState(r, { extra: [member(r, BOB, 'leave')] }) }),
    expect: 'member.leave.self',
  },
  {
    name: 'kick: admin kicks bob → allow',
    build: (r) => ({ event: member(r, BOB, 'leave', ALICE), state: commonState(r) }),
    expect: true,
  },
  {
    name: 'kick: moderator kicks bob at the kick level → allow',
    build: (r) => ({ event: member(r, BOB, 'leave', CAROL), state: commonState(r) }),
    expect: true,
  },
  {
    name: 'kick: kicker not joined → reject',
    build: (r) => ({ event: member(r, BOB, 'leave', DAN), state: commonState(r) }),
    expect: 'member.leave.senderNotJoined',
  },
  {
    name: 'kick: below the kick level → reject',
    build: (r) => ({ event: member(r, CAROL, 'leave', BOB), state: commonState(r) }),
    expect: 'member.leave.power',
  },
  {
    name: 'kick: equal power level → reject',
    build: (r) => ({ event: member(r, MOD, 'leave', CAROL), state: commonState(r) }),
    expect: 'member.leave.power',
  },
  {
    name: 'kick: kick level raised above sender → reject',
    build: (r) => ({ event: member(r, BOB, 'leave', CAROL), state: commonState(r, { pl: { kick: 60 } }) }),
    expect: 'member.leave.power',
  },
  {
    name: 'unban: admin unbans → allow',
    build: (r) => ({ event: member(r, EVE, 'leave', ALICE), state: commonState(r) }),
    expect: true,
  },
  {
    name: 'unban: below the ban level → reject',
    build: (r) => ({ event: member(r, EVE, 'leave', CAROL), state: commonState(r, { pl: { ban: 60 } }) }),
    expect: 'member.leave.banned',
  },
  {
    name: 'unban: at ban level but below kick level → reject',
    build: (r) => ({ event: member(r, EVE, 'leave', CAROL), state: commonState(r, { pl: { kick: 60 } }) }),
    expect: 'member.leave.power',
  },
  // ---- member ban
  {
    name: 'ban: admin bans bob → allow',
    build: (r) => ({ event: member(r, BOB, 'ban', ALICE), state: commonState(r) }),
    expect: true,
  },
  {
    name: 'ban: ban a non-member → allow',
    build: (r) => ({ event: member(r, '@new:d.example', 'ban', CAROL), state: commonState(r) }),
    expect: true,
  },
  {
    name: 'ban: sender not joined → reject',
    build: (r) => ({ event: member(r, BOB, 'ban', DAN), state: commonState(r) }),
    expect: 'member.ban.senderNotJoined',
  },
  {
    name: 'ban: below the ban level → reject',
    build: (r) => ({ event: member(r, CAROL, 'ban', BOB), state: commonState(r) }),
    expect: 'member.ban.power',
  },
  {
    name: 'ban: equal power level → reject',
    build: (r) => ({ event: member(r, MOD, 'ban', CAROL), state: commonState(r) }),
    expect: 'member.ban.power',
  },
  {
    name: 'ban: target above sender → reject',
    build: (r) => ({ event: member(r, ALICE, 'ban', CAROL), state: commonState(r) }),
    expect: 'member.ban.power',
  },
  // ---- sender must be joined
  {
    name: 'message: joined sender → allow',
    build: (r) => ({ event: message(r, BOB), state: commonState(r) }),
    expect: true,
  },
  {
    name: 'message: invited sender → reject',
    build: (r) => ({ event: message(r, DAN), state: commonState(r) }),
    expect: 'joined',
  },
  {
    name: 'message: non-member sender → reject',
    build: (r) => ({ event: message(r, '@new:d.example'), state: commonState(r) }),
    expect: 'joined',
  },
  {
    name: 'state event: left sender → reject',
    build: (r) => ({
      event: ev(r, { type: 'm.room.name', sender: ALICE, state_key: '', content: { name: 'x' } }),
      state: commonState(r, { extra: [member(r, ALICE, 'leave')] }),
    }),
    expect: 'joined',
  },
  // ---- m.room.third_party_invite
  {
    name: 'third_party_invite event: at invite level → allow',
    build: (r) => ({
      event: ev(r, { type: 'm.room.third_party_invite', sender: BOB, state_key: 't', content: { display_name: 'x' } }),
      state: commonState(r),
    }),
    expect: true,
  },
  {
    name: 'third_party_invite event: invite level decides, not events[type] → allow',
    build: (r) => ({
      event: ev(r, { type: 'm.room.third_party_invite', sender: BOB, state_key: 't', content: {} }),
      state: commonState(r, { pl: { events: { 'm.room.third_party_invite': 100 } } }),
    }),
    expect: true,
  },
  {
    name: 'third_party_invite event: below invite level → reject',
    build: (r) => ({
      event: ev(r, { type: 'm.room.third_party_invite', sender: BOB, state_key: 't', content: {} }),
      state: commonState(r, { pl: { invite: 50 } }),
    }),
    expect: 'thirdPartyInvite',
  },
  {
    name: 'third_party_invite event: sender not joined → reject',
    build: (r) => ({
      event: ev(r, { type: 'm.room.third_party_invite', sender: DAN, state_key: 't', content: {} }),
      state: commonState(r),
    }),
    expect: 'joined',
  },
  // ---- required power level
  {
    name: 'state event: below state_default → reject',
    build: (r) => ({ event: ev(r, { type: 'm.room.name', sender: BOB, state_key: '', content: { name: 'x' } }), state: commonState(r) }),
    expect: 'requiredPower',
  },
  {
    name: 'state event: at state_default → allow',
    build: (r) => ({ event: ev(r, { type: 'm.room.name', sender: CAROL, state_key: '', content: { name: 'x' } }), state: commonState(r) }),
    expect: true,
  },
  {
    name: 'state event: events[type] overrides state_default → allow',
    build: (r) => ({
      event: ev(r, { type: 'm.room.topic', sender: BOB, state_key: '', content: { topic: 'x' } }),
      state: commonState(r, { pl: { events: { 'm.room.topic': 0 } } }),
    }),
    expect: true,
  },
  {
    name: 'state event: events[type] above sender → reject',
    build: (r) => ({
      event: ev(r, { type: 'm.room.name', sender: CAROL, state_key: '', content: {} }),
      state: commonState(r, { pl: { events: { 'm.room.name': 75 } } }),
    }),
    expect: 'requiredPower',
  },
  {
    name: 'message: below events_default → reject',
    build: (r) => ({ event: message(r, BOB), state: commonState(r, { pl: { events_default: 10 } }) }),
    expect: 'requiredPower',
  },
  {
    name: 'message: events[type] lowers events_default → allow',
    build: (r) => ({ event: message(r, BOB), state: commonState(r, { pl: { events_default: 10, events: { 'm.room.message': 0 } } }) }),
    expect: true,
  },
  {
    name: 'message: users_default raises everyone → allow',
    build: (r) => ({ event: message(r, BOB), state: commonState(r, { pl: { events_default: 10, users_default: 10 } }) }),
    expect: true,
  },
  {
    name: 'no power levels event: creator sends state → allow',
    build: (r) => ({
      event: ev(r, { type: 'm.room.name', sender: ALICE, state_key: '', content: {} }),
      state: stateOf(r, member(r, ALICE, 'join'), member(r, BOB, 'join'), joinRules(r, 'public')),
    }),
    expect: true,
  },
  {
    name: 'no power levels event: others below state_default 50 → reject',
    build: (r) => ({
      event: ev(r, { type: 'm.room.name', sender: BOB, state_key: '', content: {} }),
      state: stateOf(r, member(r, ALICE, 'join'), member(r, BOB, 'join'), joinRules(r, 'public')),
    }),
    expect: 'requiredPower',
  },
  {
    name: 'no power levels event: others send messages → allow',
    build: (r) => ({
      event: message(r, BOB),
      state: stateOf(r, member(r, ALICE, 'join'), member(r, BOB, 'join'), joinRules(r, 'public')),
    }),
    expect: true,
  },
  {
    name: 'no power levels event: creator kicks (100 ≥ 50) → allow',
    build: (r) => ({
      event: member(r, BOB, 'leave', ALICE),
      state: stateOf(r, member(r, ALICE, 'join'), member(r, BOB, 'join'), joinRules(r, 'public')),
    }),
    expect: true,
  },
  {
    name: 'no power levels event: others cannot kick → reject',
    build: (r) => ({
      event: member(r, ALICE, 'leave', BOB),
      state: stateOf(r, member(r, ALICE, 'join'), member(r, BOB, 'join'), joinRules(r, 'public')),
    }),
    expect: 'member.leave.power',
  },
  // ---- state_key starting with @
  {
    name: 'state_key is another user id → reject',
    build: (r) => ({ event: ev(r, { type: 'com.example.s', sender: ALICE, state_key: BOB, content: {} }), state: commonState(r) }),
    expect: 'stateKey',
  },
  {
    name: 'state_key is own user id → allow',
    build: (r) => ({ event: ev(r, { type: 'com.example.s', sender: ALICE, state_key: ALICE, content: {} }), state: commonState(r) }),
    expect: true,
  },
  {
    name: 'state_key not starting with @ → allow',
    build: (r) => ({ event: ev(r, { type: 'com.example.s', sender: ALICE, state_key: 'x@y', content: {} }), state: commonState(r) }),
    expect: true,
  },
  // ---- m.room.power_levels
  {
    name: 'power levels: first event (no previous) → allow',
    build: (r) => ({
      event: powerLevels(r, { users: { ...creatorUsers(r), [BOB]: 100 }, ban: 100 }),
      state: stateOf(r, member(r, ALICE, 'join')),
    }),
    expect: true,
  },
  {
    name: 'power levels: users key not a user id → reject',
    build: (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), bob: 10 } }), state: commonState(r) }),
    expect: 'powerLevels.users',
  },
  {
    name: 'power levels: users key without a server name → reject',
    build: (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), '@bob:': 10 } }), state: commonState(r) }),
    expect: 'powerLevels.users',
  },
  {
    name: 'power levels: users value not an integer → reject',
    build: (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [BOB]: 'ten' } }), state: commonState(r) }),
    expect: 'powerLevels.users',
  },
  {
    name: 'power levels: users not an object → reject',
    build: (r) => ({ event: powerLevels(r, { users: [BOB] }), state: commonState(r) }),
    expect: 'powerLevels.users',
  },
  {
    name: 'power levels: users invalid even for the first event → reject',
    build: (r) => ({ event: powerLevels(r, { users: { nobody: 1 } }), state: stateOf(r, member(r, ALICE, 'join')) }),
    expect: 'powerLevels.users',
  },
  {
    name: 'power levels: historical user id localpart accepted → allow',
    build: (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50, '@Old User:b.example': 10 } }), state: commonState(r) }),
    expect: true,
  },
  {
    name: 'power levels: admin promotes bob to 50 → allow',
    build: (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50, [BOB]: 50 } }), state: commonState(r) }),
    expect: true,
  },
  {
    name: 'power levels: sender below the required level → reject',
    build: (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50 } }, BOB), state: commonState(r) }),
    expect: 'requiredPower',
  },
  {
    name: 'power levels: moderator promotes bob to own level → allow',
    build: (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50, [BOB]: 50 } }, CAROL), state: commonState(r) }),
    expect: true,
  },
  {
    name: 'power levels: moderator promotes bob above own level → reject',
    build: (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50, [BOB]: 51 } }, CAROL), state: commonState(r) }),
    expect: 'powerLevels.usersNew',
  },
  {
    name: 'power levels: moderator raises self → reject',
    build: (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 60, [MOD]: 50 } }, CAROL), state: commonState(r) }),
    expect: 'powerLevels.usersNew',
  },
  {
    name: 'power levels: moderator lowers own entry → allow',
    build: (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 10, [MOD]: 50 } }, CAROL), state: commonState(r) }),
    expect: true,
  },
  {
    name: 'power levels: moderator removes own entry → allow',
    build: (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [MOD]: 50 } }, CAROL), state: commonState(r) }),
    expect: true,
  },
  {
    name: 'power levels: moderator demotes an equal → reject',
    build: (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 0 } }, CAROL), state: commonState(r) }),
    expect: 'powerLevels.usersOld',
  },
  {
    name: 'power levels: moderator removes an equal → reject',
    build: (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50 } }, CAROL), state: commonState(r) }),
    expect: 'powerLevels.usersOld',
  },
  {
    name: 'power levels: moderator demotes a lower user → allow',
    build: (r) => ({
      event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50, [BOB]: 0 } }, CAROL),
      state: commonState(r, { pl: { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50, [BOB]: 20 } } }),
    }),
    expect: true,
  },
  {
    name: 'power levels: moderator lowers ban 50 → 40 → allow',
    build: (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50 }, ban: 40 }, CAROL), state: commonState(r) }),
    expect: true,
  },
  {
    name: 'power levels: moderator sets ban above own level → reject',
    build: (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50 }, ban: 60 }, CAROL), state: commonState(r) }),
    expect: 'powerLevels.propsNew',
  },
  {
    name: 'power levels: moderator changes kick from above own level → reject',
    build: (r) => ({
      event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50 }, kick: 40 }, CAROL),
      state: commonState(r, { pl: { kick: 75 } }),
    }),
    expect: 'powerLevels.propsOld',
  },
  {
    name: 'power levels: moderator removes a kick level above own → reject',
    build: (r) => ({
      event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50 } }, CAROL),
      state: commonState(r, { pl: { kick: 75 } }),
    }),
    expect: 'powerLevels.propsOld',
  },
  {
    name: 'power levels: moderator adds redact at own level → allow',
    build: (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50 }, redact: 50 }, CAROL), state: commonState(r) }),
    expect: true,
  },
  {
    name: 'power levels: unchanged high value is not an alteration → allow',
    build: (r) => ({
      event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50 }, kick: 75, invite: 10 }, CAROL),
      state: commonState(r, { pl: { kick: 75 } }),
    }),
    expect: true,
  },
  {
    name: 'power levels: moderator adds events entry at own level → allow',
    build: (r) => ({
      event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50 }, events: { 'm.room.topic': 50 } }, CAROL),
      state: commonState(r),
    }),
    expect: true,
  },
  {
    name: 'power levels: moderator adds events entry above own level → reject',
    build: (r) => ({
      event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50 }, events: { 'm.room.topic': 60 } }, CAROL),
      state: commonState(r),
    }),
    expect: 'powerLevels.eventsNew',
  },
  {
    name: 'power levels: moderator changes events entry from above own level → reject',
    build: (r) => ({
      event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50 }, events: { 'm.room.tombstone': 0 } }, CAROL),
      state: commonState(r, { pl: { events: { 'm.room.tombstone': 100 } } }),
    }),
    expect: 'powerLevels.eventsOld',
  },
  {
    name: 'power levels: moderator removes events entry above own level → reject',
    build: (r) => ({
      event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50 }, events: {} }, CAROL),
      state: commonState(r, { pl: { events: { 'm.room.tombstone': 100 } } }),
    }),
    expect: 'powerLevels.eventsOld',
  },
  // ---- redactions from v3 (v1–2 below)
  {
    name: 'redaction of another server’s event by a user below the redact level',
    build: (r) => ({
      event: ev(r, { type: 'm.room.redaction', sender: BOB, redacts: eventId(r.v, 'msg', ALICE), content: r.v.redactsInContent ? { redacts: eventId(r.v, 'msg', ALICE) } : {} }),
      state: commonState(r),
    }),
    expect: (v) => (v.redactionAuthRule ? 'redaction' : true),
  },
  {
    name: 'redaction: events[m.room.redaction] above sender → reject',
    build: (r) => ({
      event: ev(r, { type: 'm.room.redaction', sender: BOB, redacts: eventId(r.v, 'msg', BOB), content: {} }),
      state: commonState(r, { pl: { events: { 'm.room.redaction': 10 } } }),
    }),
    expect: 'requiredPower',
  },
  // ---- other events
  {
    name: 'custom event type from a joined user → allow',
    build: (r) => ({ event: ev(r, { type: 'com.example.thing', sender: BOB, content: {} }), state: commonState(r) }),
    expect: true,
  },
];

describe('shared matrix, every room version', () => {
  for (const v of VERSIONS) {
    describe(`room version ${v.id}`, () => {
      for (const c of SHARED) {
        it(c.name, () => {
          const room = makeRoom(v);
          const { event, state, options } = c.build(room);
          const expected = typeof c.expect === 'function' ? c.expect(v) : c.expect;
          assertVerdict(v, checkEventAuth(v, event, state, options), expected, `v${v.id} ${c.name}:`);
        });
      }
    });
  }
});

/** Runs `fn` for every version, expecting `yes` where `flag(v)` and `no` elsewhere. */
function acrossVersions(
  name: string,
  flag: (v: RoomVersion) => boolean,
  build: (r: Room) => { event: StoredPdu; state: AuthState; options?: AuthOptions },
  yes: Expect | ((v: RoomVersion) => Expect),
  no: Expect | ((v: RoomVersion) => Expect),
  room: (v: RoomVersion) => Room = (v) => makeRoom(v),
): void {
  describe(name, () => {
    for (const v of VERSIONS) {
      const e = flag(v) ? yes : no;
      const expected = typeof e === 'function' ? e(v) : e;
      it(`v${v.id}: ${expected === true ? 'allow' : expected}`, () => {
        const r = room(v);
        const { event, state, options } = build(r);
        assertVerdict(v, checkEventAuth(v, event, state, options), expected);
      });
    }
  });
}

describe('version differences', () => {
  // ---- knocking (v7+)
  acrossVersions(
    'knock on a knock room: allowed from v7, unknown membership before',
    (v) => v.knockJoinRule,
    (r) => ({ event: member(r, '@new:d.example', 'knock'), state: commonState(r, { joinRule: 'knock' }) }),
    true,
    'member.unknown',
  );
  acrossVersions(
    'knock on an invite room',
    (v) => v.knockJoinRule,
    (r) => ({ event: member(r, '@new:d.example', 'knock'), state: commonState(r) }),
    'member.knock.joinRule',
    'member.unknown',
  );
  acrossVersions(
    'knock on behalf of someone else',
    (v) => v.knockJoinRule,
    (r) => ({ event: member(r, '@new:d.example', 'knock', BOB), state: commonState(r, { joinRule: 'knock' }) }),
    'member.knock.senderMismatch',
    'member.unknown',
  );
  acrossVersions(
    'knock while invited',
    (v) => v.knockJoinRule,
    (r) => ({ event: member(r, DAN, 'knock'), state: commonState(r, { joinRule: 'knock' }) }),
    'member.knock.membership',
    'member.unknown',
  );
  acrossVersions(
    'knock while joined',
    (v) => v.knockJoinRule,
    (r) => ({ event: member(r, BOB, 'knock'), state: commonState(r, { joinRule: 'knock' }) }),
    'member.knock.membership',
    'member.unknown',
  );
  acrossVersions(
    'knock while banned',
    (v) => v.knockJoinRule,
    (r) => ({ event: member(r, EVE, 'knock'), state: commonState(r, { joinRule: 'knock' }) }),
    'member.knock.membership',
    'member.unknown',
  );
  acrossVersions(
    'knock again after leaving',
    (v) => v.knockJoinRule,
    (r) => ({ event: member(r, BOB, 'knock'), state: commonState(r, { joinRule: 'knock', extra: [member(r, BOB, 'leave')] }) }),
    true,
    'member.unknown',
  );
  acrossVersions(
    'join a knock room while invited: v7+ treats knock like invite',
    (v) => v.knockJoinRule,
    (r) => ({ event: member(r, DAN, 'join'), state: commonState(r, { joinRule: 'knock' }) }),
    true,
    'member.join.otherwise',
  );
  acrossVersions(
    'join a knock room uninvited',
    () => true,
    (r) => ({ event: member(r, '@new:d.example', 'join'), state: commonState(r, { joinRule: 'knock' }) }),
    'member.join.otherwise',
    'member.join.otherwise',
  );
  acrossVersions(
    'leave (rescind) from knock membership: v7+ only',
    (v) => v.knockJoinRule,
    (r) => ({ event: member(r, '@new:d.example', 'leave'), state: commonState(r, { joinRule: 'knock', extra: [member(r, '@new:d.example', 'knock')] }) }),
    true,
    'member.leave.self',
  );
  acrossVersions(
    'invite someone who knocked',
    () => true,
    (r) => ({ event: member(r, '@new:d.example', 'invite', ALICE), state: commonState(r, { joinRule: 'knock', extra: [member(r, '@new:d.example', 'knock')] }) }),
    true,
    true,
  );

  // ---- restricted (v8+)
  const restrictedJoin = (r: Room, via: string | undefined, extra: StoredPdu[] = [], pl: JsonObject = {}, rule = 'restricted') => ({
    event: member(r, '@new:d.example', 'join', '@new:d.example', via === undefined ? {} : { join_authorised_via_users_server: via }),
    state: commonState(r, { joinRule: rule, extra, pl }),
  });
  acrossVersions('restricted join authorised by a joined admin', (v) => v.restrictedJoinRule, (r) => restrictedJoin(r, ALICE), true, 'member.join.otherwise');
  acrossVersions(
    'restricted join authorised by a joined user with default invite level 0',
    (v) => v.restrictedJoinRule,
    (r) => restrictedJoin(r, BOB),
    true,
    'member.join.otherwise',
  );
  acrossVersions(
    'restricted join authorised by a user below the invite level',
    (v) => v.restrictedJoinRule,
    (r) => restrictedJoin(r, BOB, [], { invite: 50 }),
    'member.join.restrictedAuthoriser',
    'member.join.otherwise',
  );
  acrossVersions(
    'restricted join authorised by a non-joined user',
    (v) => v.restrictedJoinRule,
    (r) => restrictedJoin(r, DAN),
    'member.join.restrictedAuthoriser',
    'member.join.otherwise',
  );
  acrossVersions(
    'restricted join without an authoriser',
    (v) => v.restrictedJoinRule,
    (r) => restrictedJoin(r, undefined),
    'member.join.restrictedAuthoriser',
    'member.join.otherwise',
  );
  acrossVersions(
    'restricted join while invited needs no authoriser',
    (v) => v.restrictedJoinRule,
    (r) => ({ event: member(r, DAN, 'join'), state: commonState(r, { joinRule: 'restricted' }) }),
    true,
    'member.join.otherwise',
  );
  acrossVersions(
    'restricted join by a banned user',
    () => true,
    (r) => ({ event: member(r, EVE, 'join', EVE, { join_authorised_via_users_server: ALICE }), state: commonState(r, { joinRule: 'restricted' }) }),
    'member.join.banned',
    'member.join.banned',
  );
  acrossVersions(
    'join_authorised_via_users_server not signed by its server: checked from v8',
    (v) => v.restrictedJoinRule,
    (r) => ({ ...restrictedJoin(r, ALICE, [], {}, 'public'), options: { isSignedBy: () => false } }),
    'member.authorisedSignature',
    true,
  );
  acrossVersions(
    'join_authorised_via_users_server not a user id: checked from v8',
    (v) => v.restrictedJoinRule,
    (r) => restrictedJoin(r, 'alice', [], {}, 'public'),
    'member.authorisedSignature',
    true,
  );
  acrossVersions(
    'join_authorised_via_users_server on a leave event is signature-checked too (v8+)',
    (v) => v.restrictedJoinRule,
    (r) => ({
      event: member(r, BOB, 'leave', BOB, { join_authorised_via_users_server: ALICE }),
      state: commonState(r),
      options: { isSignedBy: (_e, server) => server === 'b.example' },
    }),
    'member.authorisedSignature',
    true,
  );
  it('restricted join: isSignedBy is asked about the authoriser’s server', () => {
    const v = V('9');
    const r = makeRoom(v);
    const asked: string[] = [];
    const { event, state } = restrictedJoin(r, CAROL);
    const verdict = checkEventAuth(v, event, state, { isSignedBy: (_e, s) => (asked.push(s), true) });
    assert.deepEqual(verdict, { allowed: true });
    assert.deepEqual(asked, ['a.example']);
  });

  // ---- knock_restricted (v10+)
  acrossVersions(
    'knock_restricted join via an authoriser: v10+',
    (v) => v.knockRestrictedJoinRule,
    (r) => restrictedJoin(r, ALICE, [], {}, 'knock_restricted'),
    true,
    'member.join.otherwise',
  );
  acrossVersions(
    'knock_restricted join via a non-member authoriser',
    (v) => v.knockRestrictedJoinRule,
    (r) => restrictedJoin(r, DAN, [], {}, 'knock_restricted'),
    'member.join.restrictedAuthoriser',
    'member.join.otherwise',
  );
  acrossVersions(
    'knock_restricted join while invited',
    (v) => v.knockRestrictedJoinRule,
    (r) => ({ event: member(r, DAN, 'join'), state: commonState(r, { joinRule: 'knock_restricted' }) }),
    true,
    'member.join.otherwise',
  );
  acrossVersions(
    'knock on a knock_restricted room',
    (v) => v.knockRestrictedJoinRule,
    (r) => ({ event: member(r, '@new:d.example', 'knock'), state: commonState(r, { joinRule: 'knock_restricted' }) }),
    true,
    (v) => (v.knockJoinRule ? 'member.knock.joinRule' : 'member.unknown'),
  );

  // ---- stringy and floaty power levels
  acrossVersions(
    'string power level values accepted v1–9, rejected v10+',
    (v) => !v.integerPowerLevels,
    (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: '50', [MOD]: ' +050 ' }, ban: '50' }), state: commonState(r) }),
    true,
    'powerLevels.types',
  );
  acrossVersions(
    'string users value accepted v1–9, rejected v10+ by the users rule',
    (v) => !v.integerPowerLevels,
    (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: '50', [MOD]: 50 } }), state: commonState(r) }),
    true,
    'powerLevels.users',
  );
  acrossVersions(
    'string events value accepted v1–9, rejected v10+',
    (v) => !v.integerPowerLevels,
    (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50 }, events: { 'm.room.name': '50' } }), state: commonState(r) }),
    true,
    'powerLevels.maps',
  );
  acrossVersions(
    'events not an object: rejected v10+',
    (v) => !v.integerPowerLevels,
    (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50 }, events: 5 }), state: commonState(r) }),
    'powerLevels.eventsNew',
    'powerLevels.maps',
  );
  acrossVersions(
    'notifications with a string value: rejected v10+',
    (v) => !v.integerPowerLevels,
    (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50 }, notifications: { room: '50' } }), state: commonState(r) }),
    true,
    'powerLevels.maps',
  );
  acrossVersions(
    'a non-integer top-level value (v1–9: unparseable string) rejects',
    (v) => !v.integerPowerLevels,
    (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50 }, kick: 'lots' }), state: commonState(r) }),
    'powerLevels.propsNew',
    'powerLevels.types',
  );
  acrossVersions(
    'string level from state counts (bob at "50" may set the name) in v1–9',
    (v) => !v.integerPowerLevels,
    (r) => ({
      event: ev(r, { type: 'm.room.name', sender: BOB, state_key: '', content: {} }),
      state: commonState(r, { pl: { users: { ...creatorUsers(r), [BOB]: '50' } } }),
    }),
    true,
    'requiredPower',
  );
  acrossVersions(
    'string comparison is numeric: "50" → 50 is no change',
    (v) => !v.integerPowerLevels,
    (r) => ({
      event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50 }, ban: 60 }, CAROL),
      state: commonState(r, { pl: { users: { ...creatorUsers(r), [CAROL]: '50', [MOD]: '50' }, ban: '60' } }),
    }),
    true,
    // v10+: the stored string values are invalid and read as absent, so carol is at users_default 0.
    'requiredPower',
  );
  acrossVersions(
    'float users value: truncated in v1–5 (non-canonical JSON), rejected from v6',
    (v) => !v.strictCanonicalJson,
    (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50.57, [MOD]: 50 } }), state: commonState(r) }),
    true,
    'powerLevels.users',
  );
  acrossVersions(
    'float level in state is truncated in v1–5 (carol at 50.9 cannot raise bob to 51)',
    (v) => !v.strictCanonicalJson,
    (r) => ({
      event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50.9, [MOD]: 50, [BOB]: 51 } }, CAROL),
      state: commonState(r, { pl: { users: { ...creatorUsers(r), [CAROL]: 50.9, [MOD]: 50 } } }),
    }),
    'powerLevels.usersNew',
    // v6+: the float in state reads as absent (users_default 0): carol cannot even send PL.
    'requiredPower',
  );

  // ---- notifications (v6+)
  acrossVersions(
    'raising notifications.room above own level: checked from v6',
    (v) => v.limitNotificationsPowerLevels,
    (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50 }, notifications: { room: 60 } }, CAROL), state: commonState(r) }),
    'powerLevels.eventsNew',
    true,
  );
  acrossVersions(
    'changing notifications.room from above own level: checked from v6',
    (v) => v.limitNotificationsPowerLevels,
    (r) => ({
      event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50 }, notifications: { room: 0 } }, CAROL),
      state: commonState(r, { pl: { notifications: { room: 80 } } }),
    }),
    'powerLevels.eventsOld',
    true,
  );
  acrossVersions(
    'notifications within own level',
    () => true,
    (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50 }, notifications: { room: 40 } }, CAROL), state: commonState(r) }),
    true,
    true,
  );

  // ---- aliases (v1–5)
  const aliases = (r: Room, sender: string, stateKey: string | undefined) =>
    ev(r, { type: 'm.room.aliases', sender, ...(stateKey === undefined ? {} : { state_key: stateKey }), content: { aliases: ['#a:b.example'] } });
  acrossVersions(
    'aliases from a non-member for its own domain: special case v1–5',
    (v) => v.specialCasedAliasesAuth,
    (r) => ({ event: aliases(r, '@new:b.example', 'b.example'), state: commonState(r) }),
    true,
    'joined',
  );
  acrossVersions(
    'aliases for another domain',
    (v) => v.specialCasedAliasesAuth,
    (r) => ({ event: aliases(r, BOB, 'a.example'), state: commonState(r) }),
    'aliases.domain',
    'requiredPower',
  );
  acrossVersions(
    'aliases without state_key',
    (v) => v.specialCasedAliasesAuth,
    (r) => ({ event: aliases(r, ALICE, undefined), state: commonState(r) }),
    'aliases.noStateKey',
    true,
  );
  acrossVersions(
    'aliases from bob (below state_default) for his domain',
    (v) => v.specialCasedAliasesAuth,
    (r) => ({ event: aliases(r, BOB, 'b.example'), state: commonState(r) }),
    true,
    'requiredPower',
  );
  acrossVersions(
    'aliases ignore m.federate? no: rule 3 comes first',
    () => true,
    (r) => ({
      event: aliases(r, BOB, 'b.example'),
      state: new Map([...commonState(r), [stateMapKey('m.room.create', ''), { ...r.create, content: { ...r.create.content, 'm.federate': false } }]]),
    }),
    'federate',
    'federate',
  );

  // ---- redaction auth rule (v1–2)
  const redaction = (r: Room, sender: string, target: string) =>
    ev(r, { type: 'm.room.redaction', sender, redacts: target, content: r.v.redactsInContent ? { redacts: target } : {} });
  acrossVersions(
    'redacting an event from own server below the redact level',
    () => true,
    (r) => ({ event: redaction(r, BOB, eventId(r.v, 'msg', BOB)), state: commonState(r) }),
    true,
    true,
  );
  acrossVersions(
    'redacting another server’s event at the redact level',
    () => true,
    (r) => ({ event: redaction(r, CAROL, eventId(r.v, 'msg', BOB)), state: commonState(r) }),
    true,
    true,
  );
  acrossVersions(
    'redacting another server’s event below the redact level: v1–2 reject',
    (v) => v.redactionAuthRule,
    (r) => ({ event: redaction(r, BOB, eventId(r.v, 'msg', CAROL)), state: commonState(r) }),
    'redaction',
    true,
  );
  acrossVersions(
    'redact level is raised: v1–2 reject even moderators redacting remote events',
    (v) => v.redactionAuthRule,
    (r) => ({ event: redaction(r, CAROL, eventId(r.v, 'msg', BOB)), state: commonState(r, { pl: { redact: 60 } }) }),
    'redaction',
    true,
  );

  // ---- creator: content.creator (v1–10) vs create sender (v11+)
  acrossVersions(
    'create without creator: rejected v1–10, fine from v11',
    (v) => v.implicitRoomCreator,
    (r) => ({ event: { ...r.create, content: { room_version: r.v.id } }, state: new Map() }),
    true,
    'create.creator',
  );
  const bobCreator = (v: RoomVersion): Room => makeRoom(v, { creator: BOB, room_version: v.id });
  acrossVersions(
    'first join by content.creator (not the sender): v1–10 only',
    (v) => v.implicitRoomCreator,
    (r) => ({ event: firstJoin(r, BOB), state: stateOf(r) }),
    'member.join.otherwise',
    true,
    (v) => (v.implicitRoomCreator ? bobCreator(v) : makeRoom(v, { creator: BOB, room_version: v.id })),
  );
  acrossVersions(
    'first join by the create sender when content.creator names someone else',
    (v) => v.implicitRoomCreator,
    (r) => ({ event: firstJoin(r, ALICE), state: stateOf(r) }),
    true,
    'member.join.otherwise',
    bobCreator,
  );
  acrossVersions(
    'no power levels: content.creator has 100 in v1–10; the create sender from v11',
    (v) => v.implicitRoomCreator,
    (r) => ({ event: ev(r, { type: 'm.room.name', sender: ALICE, state_key: '', content: {} }), state: stateOf(r, member(r, ALICE, 'join'), member(r, BOB, 'join')) }),
    true,
    'requiredPower',
    bobCreator,
  );
  acrossVersions(
    'first join: tuple-form prev_events (v1–2 wire format) work too',
    () => true,
    (r) => ({ event: { ...member(r, ALICE, 'join'), prev_events: [[r.create.event_id, { sha256: 'x' }]] }, state: stateOf(r) }),
    true,
    true,
  );

  // ---- create event room_id (v1–11 domain; v12 absent)
  acrossVersions(
    'create room_id domain differs from sender',
    (v) => v.roomIdFromCreateEvent,
    (r) => ({ event: { ...r.create, room_id: '!room:other.example' }, state: new Map() }),
    'create.roomId',
    'create.roomId',
  );
  acrossVersions(
    'create without room_id: required v1–11, required absent in v12',
    (v) => v.roomIdFromCreateEvent,
    (r) => {
      const { room_id: _r, ...rest } = r.create;
      return { event: rest as StoredPdu, state: new Map() };
    },
    true,
    'create.roomId',
  );
  acrossVersions(
    'create with room_id on the sender’s domain: fine v1–11, rejected v12',
    (v) => v.roomIdFromCreateEvent,
    (r) => ({ event: { ...r.create, room_id: '!room:a.example' }, state: new Map() }),
    'create.roomId',
    true,
  );

  // ---- v12: room id from the create event
  acrossVersions(
    'room_id does not match the create event id: v12 rule 2',
    (v) => v.roomIdFromCreateEvent,
    (r) => ({ event: message(r, BOB, { room_id: '!somethingelse' }), state: commonState(r) }),
    'roomId',
    true,
  );
  acrossVersions(
    'room_id with $ sigil instead of !: v12 rejects',
    (v) => v.roomIdFromCreateEvent,
    (r) => ({ event: message(r, BOB, { room_id: r.create.event_id }), state: commonState(r) }),
    'roomId',
    true,
  );

  // ---- v12: additional_creators
  acrossVersions(
    'additional_creators not an array: v12 rejects, others ignore',
    (v) => v.privilegedCreators,
    (r) => ({ event: { ...r.create, content: { ...r.create.content, additional_creators: BOB } }, state: new Map() }),
    'create.additionalCreators',
    true,
  );
  acrossVersions(
    'additional_creators with an invalid user id',
    (v) => v.privilegedCreators,
    (r) => ({ event: { ...r.create, content: { ...r.create.content, additional_creators: [BOB, 'carol'] } }, state: new Map() }),
    'create.additionalCreators',
    true,
  );
  acrossVersions(
    'additional_creators with a non-string',
    (v) => v.privilegedCreators,
    (r) => ({ event: { ...r.create, content: { ...r.create.content, additional_creators: [BOB, 7] } }, state: new Map() }),
    'create.additionalCreators',
    true,
  );
  acrossVersions(
    'additional_creators valid (empty and non-empty)',
    () => true,
    (r) => ({ event: { ...r.create, content: { ...r.create.content, additional_creators: [BOB, '@x:c.example:8448'] } }, state: new Map() }),
    true,
    true,
  );

  // ---- v12: creators have infinite power
  const withAdditional = (v: RoomVersion): Room => makeRoom(v, { ...makeCreate(v).content, additional_creators: [BOB] });
  acrossVersions(
    'a 1000-level user cannot kick the creator in v12 (infinite), can before',
    (v) => v.privilegedCreators,
    (r) => ({
      event: member(r, ALICE, 'leave', MOD),
      state: commonState(r, { pl: { users: { ...creatorUsers(r), [MOD]: 1000 } } }),
    }),
    'member.leave.power',
    true,
  );
  acrossVersions(
    'the creator can set any level in v12; limited to own 100 before',
    (v) => v.privilegedCreators,
    (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50, [BOB]: 1000000 } }), state: commonState(r) }),
    true,
    'powerLevels.usersNew',
  );
  acrossVersions(
    'creators cannot kick each other in v12 (infinite vs infinite)',
    (v) => v.privilegedCreators,
    (r) => ({ event: member(r, BOB, 'leave', ALICE), state: commonState(r) }),
    'member.leave.power',
    true,
    withAdditional,
  );
  acrossVersions(
    'an additional creator needs no users entry to send power levels (v12)',
    (v) => v.privilegedCreators,
    (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [CAROL]: 50, [MOD]: 50 }, ban: 99 }, BOB), state: commonState(r) }),
    true,
    'requiredPower',
    withAdditional,
  );
  acrossVersions(
    'creators listed in power levels users: v12 rejects',
    (v) => v.privilegedCreators,
    (r) => ({ event: powerLevels(r, { users: { [ALICE]: 100, [CAROL]: 50, [MOD]: 50 } }), state: commonState(r) }),
    'powerLevels.creators',
    true,
  );
  acrossVersions(
    'additional creators listed in power levels users: v12 rejects',
    (v) => v.privilegedCreators,
    (r) => ({ event: powerLevels(r, { users: { ...creatorUsers(r), [BOB]: 100 } }), state: commonState(r) }),
    'powerLevels.creators',
    true,
    withAdditional,
  );
  acrossVersions(
    'creators in users are rejected even for the first power levels event (v12)',
    (v) => v.privilegedCreators,
    (r) => ({ event: powerLevels(r, { users: { [ALICE]: 100 } }), state: stateOf(r, member(r, ALICE, 'join')) }),
    'powerLevels.creators',
    true,
  );
  acrossVersions(
    'first join in v12 is by the create sender, not an additional creator',
    (v) => v.privilegedCreators,
    (r) => ({ event: firstJoin(r, BOB), state: stateOf(r) }),
    'member.join.otherwise',
    'member.join.otherwise',
    withAdditional,
  );
});

describe('rule numbering follows each version’s spec text', () => {
  const cases: [string, RuleKey, string][] = [
    ['1', 'create.creator', '1.4'],
    ['12', 'create.additionalCreators', '1.4'],
    ['12', 'create.roomId', '1.2'],
    ['12', 'roomId', '2'],
    ['1', 'authEvents.noCreate', '2.4'],
    ['12', 'authEvents.roomId', '3.5'],
    ['1', 'federate', '3'],
    ['12', 'federate', '4'],
    ['1', 'aliases.domain', '4.2'],
    ['1', 'member.join.banned', '5.2.3'],
    ['6', 'member.join.banned', '4.2.3'],
    ['7', 'member.knock.joinRule', '4.6.1'],
    ['7', 'member.unknown', '4.7'],
    ['1', 'member.unknown', '5.6'],
    ['8', 'member.authorisedSignature', '4.2.1'],
    ['8', 'member.join.banned', '4.3.3'],
    ['8', 'member.join.restrictedAuthoriser', '4.3.5.2'],
    ['8', 'member.join.otherwise', '4.3.7'],
    ['7', 'member.join.otherwise', '4.2.6'],
    ['12', 'member.join.banned', '5.3.3'],
    ['12', 'member.invite.tpi.signature', '5.4.1.8'],
    ['1', 'member.invite.tpi.sender', '5.3.1.6'],
    ['1', 'member.leave.banned', '5.4.3'],
    ['9', 'member.ban.power', '4.6.3'],
    ['10', 'member.knock.membership', '4.7.4'],
    ['12', 'member.unknown', '5.8'],
    ['1', 'joined', '6'],
    ['6', 'joined', '5'],
    ['12', 'joined', '6'],
    ['1', 'thirdPartyInvite', '7.1'],
    ['1', 'requiredPower', '8'],
    ['11', 'requiredPower', '7'],
    ['1', 'stateKey', '9'],
    ['1', 'powerLevels.users', '10.1'],
    ['6', 'powerLevels.users', '9.1'],
    ['6', 'powerLevels.eventsNew', '9.5.1'],
    ['10', 'powerLevels.types', '9.1'],
    ['10', 'powerLevels.maps', '9.2'],
    ['10', 'powerLevels.users', '9.3'],
    ['10', 'powerLevels.propsNew', '9.5.2'],
    ['11', 'powerLevels.usersNew', '9.9.1'],
    ['12', 'powerLevels.creators', '10.4'],
    ['12', 'powerLevels.propsOld', '10.6.1'],
    ['12', 'powerLevels.usersOld', '10.9.1'],
    ['1', 'redaction', '11.3'],
  ];
  for (const [id, key, expected] of cases) {
    it(`v${id} ${key} = ${expected}`, () => assert.equal(ruleId(V(id), key), expected));
  }
  it('rules a version lacks throw', () => {
    assert.throws(() => ruleId(V('3'), 'redaction'));
    assert.throws(() => ruleId(V('6'), 'aliases.domain'));
    assert.throws(() => ruleId(V('11'), 'create.creator'));
    assert.throws(() => ruleId(V('11'), 'roomId'));
    assert.throws(() => ruleId(V('12'), 'authEvents.noCreate'));
    assert.throws(() => ruleId(V('7'), 'member.authorisedSignature'));
    assert.throws(() => ruleId(V('9'), 'powerLevels.types'));
  });
});

describe('checkAuthEventsList (rule 2; v12 rule 3)', () => {
  /** A room with its state as a by-id map, and an event listing `auth` (names into state). */
  function setup(v: RoomVersion) {
    const r = makeRoom(v);
    const aliceJoin = member(r, ALICE, 'join');
    const bobJoin = member(r, BOB, 'join');
    const pl = powerLevels(r, { users: creatorUsers(r) });
    const jr = joinRules(r, 'public');
    const pl2 = powerLevels(r, { users: creatorUsers(r), ban: 60 });
    const all = [r.create, aliceJoin, bobJoin, pl, jr, pl2];
    const byId = new Map(all.map((e) => [e.event_id, e]));
    const base = v.roomIdFromCreateEvent ? [] : [r.create.event_id];
    return { r, aliceJoin, bobJoin, pl, jr, pl2, byId, base };
  }
  for (const v of VERSIONS) {
    describe(`room version ${v.id}`, () => {
      it('allows the selected auth events', () => {
        const s = setup(v);
        const event = message(s.r, BOB, { auth_events: [...s.base, s.pl.event_id, s.bobJoin.event_id] });
        assertVerdict(v, checkAuthEventsList(v, event, s.byId), true);
      });
      it('allows a member join listing join rules and the target', () => {
        const s = setup(v);
        const event = member(s.r, BOB, 'join');
        event.auth_events = [...s.base, s.pl.event_id, s.bobJoin.event_id, s.jr.event_id];
        assertVerdict(v, checkAuthEventsList(v, event, s.byId), true);
      });
      it('accepts v1–2 tuple-form auth_events', () => {
        const s = setup(v);
        const event = message(s.r, BOB, { auth_events: [...s.base, s.bobJoin.event_id].map((id) => [id, { sha256: 'x' }] as [string, { sha256: string }]) });
        assertVerdict(v, checkAuthEventsList(v, event, s.byId), true);
      });
      it('rejects duplicate (type, state_key) entries', () => {
        const s = setup(v);
        const event = message(s.r, BOB, { auth_events: [...s.base, s.pl.event_id, s.pl2.event_id, s.bobJoin.event_id] });
        assertVerdict(v, checkAuthEventsList(v, event, s.byId), 'authEvents.duplicate');
      });
      it('rejects the same event listed twice', () => {
        const s = setup(v);
        const event = message(s.r, BOB, { auth_events: [...s.base, s.bobJoin.event_id, s.bobJoin.event_id] });
        assertVerdict(v, checkAuthEventsList(v, event, s.byId), 'authEvents.duplicate');
      });
      it('rejects entries the selection would not pick (join rules for a message)', () => {
        const s = setup(v);
        const event = message(s.r, BOB, { auth_events: [...s.base, s.bobJoin.event_id, s.jr.event_id] });
        assertVerdict(v, checkAuthEventsList(v, event, s.byId), 'authEvents.unexpected');
      });
      it('rejects another member event for a message', () => {
        const s = setup(v);
        const event = message(s.r, BOB, { auth_events: [...s.base, s.bobJoin.event_id, s.aliceJoin.event_id] });
        assertVerdict(v, checkAuthEventsList(v, event, s.byId), 'authEvents.unexpected');
      });
      it('rejects an unknown auth event id', () => {
        const s = setup(v);
        const event = message(s.r, BOB, { auth_events: [...s.base, '$missing'] });
        assertVerdict(v, checkAuthEventsList(v, event, s.byId), 'authEvents.unexpected');
      });
      it('rejects a rejected auth event', () => {
        const s = setup(v);
        const event = message(s.r, BOB, { auth_events: [...s.base, s.pl.event_id, s.bobJoin.event_id] });
        assertVerdict(v, checkAuthEventsList(v, event, s.byId, { isRejected: (id) => id === s.pl.event_id }), 'authEvents.rejected');
      });
      it('rejects an auth event from another room', () => {
        const s = setup(v);
        const foreign = { ...s.pl, room_id: '!other:a.example' };
        const byId = new Map([...s.byId, [foreign.event_id, foreign]]);
        const event = message(s.r, BOB, { auth_events: [...s.base, foreign.event_id, s.bobJoin.event_id] });
        assertVerdict(v, checkAuthEventsList(v, event, byId), 'authEvents.roomId');
      });
      it('does not check the create event’s own list (rule 1 decides)', () => {
        const s = setup(v);
        assertVerdict(v, checkAuthEventsList(v, { ...s.r.create, auth_events: ['$x'] }, s.byId), true);
      });
      if (v.roomIdFromCreateEvent) {
        it('v12: listing the create event is unexpected', () => {
          const s = setup(v);
          const event = message(s.r, BOB, { auth_events: [s.r.create.event_id, s.bobJoin.event_id] });
          assertVerdict(v, checkAuthEventsList(v, event, s.byId), 'authEvents.unexpected');
        });
      } else {
        it('rejects a list without the create event (2.4)', () => {
          const s = setup(v);
          const event = message(s.r, BOB, { auth_events: [s.pl.event_id, s.bobJoin.event_id] });
          assertVerdict(v, checkAuthEventsList(v, event, s.byId), 'authEvents.noCreate');
        });
      }
      it(`restricted join lists the authoriser's member event: ${v.restrictedJoinRule ? 'allowed' : 'unexpected'}`, () => {
        const s = setup(v);
        const event = member(s.r, '@new:d.example', 'join', '@new:d.example', { join_authorised_via_users_server: ALICE });
        event.auth_events = [...s.base, s.pl.event_id, s.jr.event_id, s.aliceJoin.event_id];
        assertVerdict(v, checkAuthEventsList(v, event, s.byId), v.restrictedJoinRule ? true : 'authEvents.unexpected');
      });
      it('3pid invite lists the m.room.third_party_invite for its token', () => {
        const s = setup(v);
        const tpi = ev(s.r, { type: 'm.room.third_party_invite', sender: ALICE, state_key: 'tok', content: {} });
        const other = ev(s.r, { type: 'm.room.third_party_invite', sender: ALICE, state_key: 'other', content: {} });
        const byId = new Map([...s.byId, [tpi.event_id, tpi], [other.event_id, other]]);
        const event = member(s.r, '@new:d.example', 'invite', ALICE, { third_party_invite: { signed: signedFor() } });
        event.auth_events = [...s.base, s.pl.event_id, s.aliceJoin.event_id, s.jr.event_id, tpi.event_id];
        assertVerdict(v, checkAuthEventsList(v, event, byId), true);
        event.auth_events = [...s.base, s.pl.event_id, s.aliceJoin.event_id, other.event_id];
        assertVerdict(v, checkAuthEventsList(v, event, byId), 'authEvents.unexpected');
      });
    });
  }
});

describe('checkEventAuthAgainstAuthEvents (receipt step 4)', () => {
  for (const v of VERSIONS) {
    it(`v${v.id}: builds the auth state from auth_events (plus the v12 create)`, () => {
      const r = makeRoom(v);
      const bobJoin = member(r, BOB, 'join');
      const pl = powerLevels(r, { users: creatorUsers(r), events_default: 10 });
      const byId = new Map([r.create, bobJoin, pl].map((e) => [e.event_id, e]));
      const base = v.roomIdFromCreateEvent ? [] : [r.create.event_id];
      const ok = message(r, BOB, { auth_events: [...base, bobJoin.event_id] });
      assertVerdict(v, checkEventAuthAgainstAuthEvents(v, ok, byId, r.create), true);
      const withPl = message(r, BOB, { auth_events: [...base, pl.event_id, bobJoin.event_id] });
      assertVerdict(v, checkEventAuthAgainstAuthEvents(v, withPl, byId, r.create), 'requiredPower');
      const dup = message(r, BOB, { auth_events: [...base, bobJoin.event_id, bobJoin.event_id] });
      assertVerdict(v, checkEventAuthAgainstAuthEvents(v, dup, byId, r.create), 'authEvents.duplicate');
      assertVerdict(v, checkEventAuthAgainstAuthEvents(v, r.create, byId), true);
      if (v.roomIdFromCreateEvent) {
        // v12 without the create event passed in: nothing to derive the room id from.
        assertVerdict(v, checkEventAuthAgainstAuthEvents(v, ok, byId), 'roomId');
      }
    });
  }
});

describe('the checks do not mutate their inputs', () => {
  it('state and event are unchanged', () => {
    const v = V('12');
    const r = makeRoom(v);
    const state = commonState(r);
    const event = powerLevels(r, { users: { [CAROL]: 50 } }, CAROL);
    const before = JSON.stringify([...state.entries(), event]);
    checkEventAuth(v, event, state);
    assert.equal(JSON.stringify([...state.entries(), event]), before);
  });
});
