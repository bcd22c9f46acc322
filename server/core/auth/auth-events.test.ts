/** Auth events selection (server-server "Auth events selection") per room version. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ROOM_VERSIONS } from '../room-versions.ts';
import { stateMapKey } from '../events/types.ts';
import { authEventKeys, selectAuthEventIds, selectAuthEvents } from './auth-events.ts';
import { ALICE, BOB, commonState, makeRoom, member, message } from './test-fixtures.ts';

const VERSIONS = [...ROOM_VERSIONS.values()];
const keysOf = (list: readonly (readonly [string, string])[]): string[] => list.map(([t, s]) => `${t}|${s}`);

for (const v of VERSIONS) {
  describe(`room version ${v.id}`, () => {
    const create = v.roomIdFromCreateEvent ? [] : ['m.room.create|'];
    it('create event: none', () => {
      const r = makeRoom(v);
      assert.deepEqual(authEventKeys(v, r.create), []);
    });
    it('message: create (not v12), power levels, sender member', () => {
      const r = makeRoom(v);
      assert.deepEqual(keysOf(authEventKeys(v, message(r, BOB))), [...create, 'm.room.power_levels|', `m.room.member|${BOB}`]);
    });
    it('join: adds join rules; sender = target listed once', () => {
      const r = makeRoom(v);
      assert.deepEqual(keysOf(authEventKeys(v, member(r, BOB, 'join'))), [
        ...create,
        'm.room.power_levels|',
        `m.room.member|${BOB}`,
        'm.room.join_rules|',
      ]);
    });
    it('invite, knock: target member and join rules; leave and ban: no join rules', () => {
      const r = makeRoom(v);
      for (const m of ['invite', 'knock']) {
        assert.deepEqual(keysOf(authEventKeys(v, member(r, BOB, m, ALICE))), [
          ...create,
          'm.room.power_levels|',
          `m.room.member|${ALICE}`,
          `m.room.member|${BOB}`,
          'm.room.join_rules|',
        ]);
      }
      for (const m of ['leave', 'ban']) {
        assert.deepEqual(keysOf(authEventKeys(v, member(r, BOB, m, ALICE))), [
          ...create,
          'm.room.power_levels|',
          `m.room.member|${ALICE}`,
          `m.room.member|${BOB}`,
        ]);
      }
    });
    it('3pid invite: the m.room.third_party_invite for the token', () => {
      const r = makeRoom(v);
      const e = member(r, BOB, 'invite', ALICE, { third_party_invite: { signed: { mxid: BOB, token: 'tok' } } });
      assert.ok(keysOf(authEventKeys(v, e)).includes('m.room.third_party_invite|tok'));
      const noToken = member(r, BOB, 'invite', ALICE, { third_party_invite: {} });
      assert.ok(!keysOf(authEventKeys(v, noToken)).some((k) => k.startsWith('m.room.third_party_invite')));
    });
    it(`restricted join: the authoriser's member event ${v.restrictedJoinRule ? 'is' : 'is not'} selected`, () => {
      const r = makeRoom(v);
      const e = member(r, BOB, 'join', BOB, { join_authorised_via_users_server: ALICE });
      assert.equal(keysOf(authEventKeys(v, e)).includes(`m.room.member|${ALICE}`), v.restrictedJoinRule);
      const leave = member(r, BOB, 'leave', BOB, { join_authorised_via_users_server: ALICE });
      assert.equal(keysOf(authEventKeys(v, leave)).includes(`m.room.member|${ALICE}`), false);
    });
    it('selectAuthEvents picks existing entries and skips missing ones', () => {
      const r = makeRoom(v);
      const state = commonState(r);
      state.delete(stateMapKey('m.room.power_levels', ''));
      const e = member(r, '@new:d.example', 'join');
      const picked = selectAuthEvents(v, e, state);
      assert.deepEqual(
        picked.map((p) => `${p.type}|${p.state_key}`),
        [...create, 'm.room.join_rules|'],
      );
      assert.deepEqual(selectAuthEventIds(v, e, state), picked.map((p) => p.event_id));
    });
  });
}
