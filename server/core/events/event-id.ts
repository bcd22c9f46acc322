/**
 * Event ids per room version (spec: rooms/fragments v1-event-ids, v3 "Event IDs", v4-event-ids)
 * and room ids derived from the create event in room version 12 (v12-event-format; appendices
 * "Room IDs": the create event's id with `!` instead of `$`).
 */
import type { RoomVersion } from '../room-versions.ts';
import { encodeBase64, encodeBase64Url } from '../json/base64.ts';
import { computeReferenceHash } from './hashes.ts';

type IdVersion = Pick<RoomVersion, 'eventIdFormat' | 'redactionRules' | 'strictCanonicalJson'>;

/** `$` + the reference hash: standard Base64 in format v3, URL-safe Base64 from v4. Only for
 * hash-based formats; v1–2 ids are chosen by the origin server. */
export function computeEventId(version: IdVersion, event: object): string {
  if (version.eventIdFormat === 'v1') throw new Error('room versions 1–2 carry their event id; use eventIdOf');
  return eventIdFromReferenceHash(version, computeReferenceHash(version, event));
}

/** The v3+ event id naming an event with this reference hash. */
export function eventIdFromReferenceHash(version: IdVersion, hash: Uint8Array): string {
  switch (version.eventIdFormat) {
    case 'v3':
      return `$${encodeBase64(hash)}`;
    case 'v4':
      return `$${encodeBase64Url(hash)}`;
    case 'v1':
      throw new Error('room versions 1–2 carry their event id; use eventIdOf');
  }
}

/** The event's id whatever the format: carried in `event_id` (v1–2) or derived (v3+).
 * Undefined only for a v1–2 event without a string `event_id`. */
export function eventIdOf(version: IdVersion, event: object): string | undefined {
  if (version.eventIdFormat === 'v1') {
    const id = (event as { event_id?: unknown }).event_id;
    return typeof id === 'string' ? id : undefined;
  }
  return computeEventId(version, event);
}

/** v1–2 event id: `$<localpart>:<server>`. The localpart is random, so the caller supplies it. */
export function makeV1EventId(localpart: string, serverName: string): string {
  return `$${localpart}:${serverName}`;
}

/** Room version 12: the room id is `!` + URL-safe unpadded Base64 of the create event's
 * reference hash (the create event has no `room_id` of its own). */
export function roomIdFromCreateEvent(version: IdVersion, createEvent: object): string {
  if (version.eventIdFormat !== 'v4') throw new Error('room ids derive from create events only in v4-format versions');
  return roomIdFromCreateEventId(computeEventId(version, createEvent));
}

/** `$hash` → `!hash` (v12). */
export function roomIdFromCreateEventId(createEventId: string): string {
  if (!createEventId.startsWith('$')) throw new Error(`not an event id: ${createEventId}`);
  return `!${createEventId.slice(1)}`;
}

/** `!hash` → `$hash`: the create event's id named by a v12 room id. */
export function createEventIdFromRoomId(roomId: string): string {
  if (!roomId.startsWith('!')) throw new Error(`not a room id: ${roomId}`);
  return `$${roomId.slice(1)}`;
}
