/** Power level parsing and defaults per room version (stringy v1–9, floaty v1–5, integers v10+, v12 creators). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ROOM_VERSIONS, getRoomVersion, type RoomVersion } from '../room-versions.ts';
import {
  DEFAULT_LEVELS,
  domainOf,
  isValidUserId,
  parsePowerLevelValue,
  readPowerLevels,
  requiredPowerLevel,
  roomCreators,
  userPowerLevel,
} from './power-levels.ts';
import { ALICE, BOB, CAROL, makeCreate, makeRoom, powerLevels } from './test-fixtures.ts';

const VERSIONS = [...ROOM_VERSIONS.values()];
const V = (id: string): RoomVersion => getRoomVersion(id) as RoomVersion;

describe('parsePowerLevelValue', () => {
  // [value, v1–5, v6–9, v10+]
  const table: [unknown, number | undefined, number | undefined, number | undefined][] = [
    [100, 100, 100, 100],
    [-5, -5, -5, -5],
    [0, 0, 0, 0],
    ['100', 100, 100, undefined],
    ['000100', 100, 100, undefined],
    ['+100', 100, 100, undefined],
    ['-100', -100, -100, undefined],
    [' 100 ', 100, 100, undefined],
    [' \t+00100\n', 100, 100, undefined],
    ['1.5', undefined, undefined, undefined],
    ['1e3', undefined, undefined, undefined],
    ['', undefined, undefined, undefined],
    ['abc', undefined, undefined, undefined],
    ['+-1', undefined, undefined, undefined],
    ['0x10', undefined, undefined, undefined],
    [50.57, 50, undefined, undefined],
    [-50.9, -50, undefined, undefined],
    [5.114698e4, 51146, undefined, undefined],
    [Infinity, undefined, undefined, undefined],
    [-Infinity, undefined, undefined, undefined],
    [NaN, undefined, undefined, undefined],
    [true, undefined, undefined, undefined],
    [null, undefined, undefined, undefined],
    [[50], undefined, undefined, undefined],
    [{ v: 50 }, undefined, undefined, undefined],
  ];
  for (const v of VERSIONS) {
    it(`room version ${v.id}`, () => {
      for (const [value, early, mid, late] of table) {
        const expected = v.integerPowerLevels ? late : v.strictCanonicalJson ? mid : early;
        assert.equal(parsePowerLevelValue(v, value), expected, `v${v.id} ${JSON.stringify(value)}`);
      }
    });
  }
});

describe('isValidUserId', () => {
  const valid = ['@alice:example.org', '@a:b', '@x:127.0.0.1:8448', '@x:[::1]:8448', '@Old User:b.example', '@:b.example', '@a/b=c+d_e.f-g:x.y'];
  const invalid = ['alice:example.org', '@alice', '@alice:', '@alice:exa mple.org', '@a:b:c', `@${'a'.repeat(250)}:b.example`, 7, null, '@a\u0000b:c', '#a:b'];
  for (const u of valid) it(`accepts ${JSON.stringify(u)}`, () => assert.equal(isValidUserId(u), true));
  for (const u of invalid) it(`rejects ${JSON.stringify(u).slice(0, 40)}`, () => assert.equal(isValidUserId(u), false));
});

describe('domainOf', () => {
  it('is everything after the first colon', () => {
    assert.equal(domainOf('@a:b.example:8448'), 'b.example:8448');
    assert.equal(domainOf('$abc:b.example'), 'b.example');
    assert.equal(domainOf('$abc'), '');
  });
});

describe('roomCreators', () => {
  it('v1–10: content.creator', () => {
    for (const id of ['1', '5', '10']) {
      const v = V(id);
      assert.deepEqual([...roomCreators(v, makeCreate(v, { creator: BOB }))], [BOB]);
      assert.deepEqual([...roomCreators(v, makeCreate(v, {}))], []);
    }
  });
  it('v11: the create sender, creator field ignored', () => {
    const v = V('11');
    assert.deepEqual([...roomCreators(v, makeCreate(v, { creator: BOB }))], [ALICE]);
    assert.deepEqual([...roomCreators(v, makeCreate(v, { additional_creators: [BOB] }))], [ALICE]);
  });
  it('v12: the sender plus additional_creators', () => {
    const v = V('12');
    assert.deepEqual([...roomCreators(v, makeCreate(v, { additional_creators: [BOB, CAROL] }))], [ALICE, BOB, CAROL]);
  });
  it('no create event: none', () => assert.equal(roomCreators(V('12'), undefined).size, 0));
});

describe('readPowerLevels and userPowerLevel', () => {
  for (const v of VERSIONS) {
    describe(`room version ${v.id}`, () => {
      it('without a power levels event: creator 100 (v12 infinite), others 0; spec defaults', () => {
        const r = makeRoom(v);
        const pl = readPowerLevels(v, r.create, undefined);
        assert.equal(userPowerLevel(pl, ALICE), v.privilegedCreators ? Infinity : 100);
        assert.equal(userPowerLevel(pl, BOB), 0);
        assert.deepEqual(pl.levels, DEFAULT_LEVELS);
        assert.equal(pl.levels.invite, 0);
        assert.equal(pl.levels.kick, 50);
        assert.equal(pl.levels.ban, 50);
        assert.equal(pl.levels.redact, 50);
        assert.equal(requiredPowerLevel(pl, 'm.room.name', ''), 50);
        assert.equal(requiredPowerLevel(pl, 'm.room.message', undefined), 0);
        assert.equal(pl.notifications.get('room'), 50);
      });
      it('with a power levels event: users, users_default, events, defaults for missing keys', () => {
        const r = makeRoom(v);
        const pl = readPowerLevels(v, r.create, powerLevels(r, { users: { [BOB]: 42 }, users_default: 7, events: { 'm.room.name': 99 }, kick: 10 }));
        assert.equal(userPowerLevel(pl, BOB), 42);
        assert.equal(userPowerLevel(pl, CAROL), 7);
        // Listed or not, the creator: v12 infinite; before, the event decides (here users_default).
        assert.equal(userPowerLevel(pl, ALICE), v.privilegedCreators ? Infinity : 7);
        assert.equal(requiredPowerLevel(pl, 'm.room.name', ''), 99);
        assert.equal(requiredPowerLevel(pl, 'm.room.topic', ''), 50);
        assert.equal(requiredPowerLevel(pl, 'm.room.name', undefined), 99);
        assert.equal(pl.levels.kick, 10);
        assert.equal(pl.levels.ban, 50);
      });
      it('string values are read in v1–9 and fall back to defaults in v10+', () => {
        const r = makeRoom(v);
        const pl = readPowerLevels(v, r.create, powerLevels(r, { users: { [BOB]: '42' }, ban: ' 70 ', events: { x: '5' } }));
        assert.equal(userPowerLevel(pl, BOB), v.integerPowerLevels ? 0 : 42);
        assert.equal(pl.levels.ban, v.integerPowerLevels ? 50 : 70);
        assert.equal(requiredPowerLevel(pl, 'x', undefined), v.integerPowerLevels ? 0 : 5);
      });
    });
  }
  it('v12 additional creators are infinite too', () => {
    const v = V('12');
    const r = makeRoom(v, { room_version: '12', additional_creators: [BOB] });
    const pl = readPowerLevels(v, r.create, powerLevels(r, { users: { [CAROL]: 100 } }));
    assert.equal(userPowerLevel(pl, BOB), Infinity);
    assert.equal(userPowerLevel(pl, CAROL), 100);
  });
});
