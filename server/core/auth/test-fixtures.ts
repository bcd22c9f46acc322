/**
 * Small rooms as plain objects for the auth tests: fake event ids and hashes, no signatures.
 * v1–2 event ids carry the sender's domain (`$name:domain`); v12 room ids are `!` + create id.
 */
import type { RoomVersion } from '../room-versions.ts';
import { stateMapKey, type JsonObject, type StoredPdu } from '../events/types.ts';
import { domainOf } from './power-levels.ts';

export const ALICE = '@alice:a.example'; // the creator
export const BOB = '@bob:b.example';
export const CAROL = '@carol:a.example';
export const DAN = '@dan:c.example';
export const EVE = '@eve:c.example';
export const MOD = '@mod:a.example';

export interface Room {
  readonly v: RoomVersion;
  readonly roomId: string;
  readonly create: StoredPdu;
}

export function eventId(v: RoomVersion, name: string, sender: string): string {
  return v.eventIdFormat === 'v1' ? `$${name}:${domainOf(sender)}` : `$${name}`;
}

export interface EventSpec {
  type: string;
  sender: string;
  content?: JsonObject;
  state_key?: string;
  prev_events?: StoredPdu['prev_events'];
  auth_events?: StoredPdu['auth_events'];
  name?: string;
  redacts?: string;
  room_id?: string;
}

let counter = 0;

/** The default create content for the version: `creator` only before v11. */
export function defaultCreateContent(v: RoomVersion, sender = ALICE): JsonObject {
  return v.implicitRoomCreator ? { room_version: v.id } : { creator: sender, room_version: v.id };
}

export function makeCreate(v: RoomVersion, content?: JsonObject, sender = ALICE): StoredPdu {
  const id = eventId(v, 'create', sender);
  return {
    event_id: id,
    ...(v.roomIdFromCreateEvent ? {} : { room_id: `!room:${domainOf(sender)}` }),
    type: 'm.room.create',
    state_key: '',
    sender,
    content: content ?? defaultCreateContent(v, sender),
    prev_events: [],
    auth_events: [],
    depth: 1,
    origin_server_ts: 0,
    hashes: { sha256: 'AAAA' },
    signatures: {},
  };
}

export function makeRoom(v: RoomVersion, createContent?: JsonObject, createSender = ALICE): Room {
  const create = makeCreate(v, createContent, createSender);
  const roomId = v.roomIdFromCreateEvent ? '!' + create.event_id.slice(1) : (create.room_id as string);
  return { v, roomId, create };
}

export function ev(room: Room, spec: EventSpec): StoredPdu {
  counter += 1;
  const { name, content, prev_events, auth_events, room_id, ...rest } = spec;
  return {
    event_id: eventId(room.v, name ?? `e${counter}`, spec.sender),
    room_id: room_id ?? room.roomId,
    content: content ?? {},
    prev_events: prev_events ?? [eventId(room.v, 'prev', ALICE)],
    auth_events: auth_events ?? [],
    depth: 2,
    origin_server_ts: 0,
    hashes: { sha256: 'AAAA' },
    signatures: {},
    ...rest,
  };
}

export function member(room: Room, target: string, membership: string, sender = target, extra: JsonObject = {}): StoredPdu {
  return ev(room, { type: 'm.room.member', sender, state_key: target, content: { membership, ...extra } });
}

export function powerLevels(room: Room, content: JsonObject, sender = ALICE): StoredPdu {
  return ev(room, { type: 'm.room.power_levels', sender, state_key: '', content });
}

export function joinRules(room: Room, joinRule: string, sender = ALICE): StoredPdu {
  return ev(room, { type: 'm.room.join_rules', sender, state_key: '', content: { join_rule: joinRule } });
}

export function message(room: Room, sender: string, extra: Partial<EventSpec> = {}): StoredPdu {
  return ev(room, { type: 'm.room.message', sender, content: { body: 'hi', msgtype: 'm.text' }, ...extra });
}

/** An auth state map of the create event plus `events` (later entries win). */
export function stateOf(room: Room, ...events: StoredPdu[]): Map<string, StoredPdu> {
  const m = new Map<string, StoredPdu>();
  m.set(stateMapKey('m.room.create', ''), room.create);
  for (const e of events) m.set(stateMapKey(e.type, e.state_key as string), e);
  return m;
}

/** The creator's `users` entry: v12 creators must not be listed (they have infinite power). */
export function creatorUsers(room: Room, level = 100): JsonObject {
  return room.v.privilegedCreators ? {} : { [ALICE]: level };
}

/**
 * The common room: alice (creator, 100) and bob (0), carol (50) and mod (50) joined; dan
 * invited; eve banned; `join_rule` as given; power levels with defaults except as overridden.
 */
export function commonState(
  room: Room,
  opts: { joinRule?: string; pl?: JsonObject; extra?: StoredPdu[] } = {},
): Map<string, StoredPdu> {
  const pl = powerLevels(room, {
    users: { ...creatorUsers(room), [CAROL]: 50, [MOD]: 50 },
    ...(opts.pl ?? {}),
  });
  return stateOf(
    room,
    member(room, ALICE, 'join'),
    member(room, BOB, 'join'),
    member(room, CAROL, 'join'),
    member(room, MOD, 'join'),
    member(room, DAN, 'invite', ALICE),
    member(room, EVE, 'ban', ALICE),
    pl,
    joinRules(room, opts.joinRule ?? 'invite'),
    ...(opts.extra ?? []),
  );
}
