/**
 * Reading `m.room.power_levels` per room version (spec: client-server m.room.power_levels,
 * server-server "Definitions", rooms/v1 "stringy" and "floaty" power levels, rooms/v10 integers
 * only, rooms/v12 "room creators" with infinite power). Pure: events in, numbers out.
 */
import type { RoomVersion } from '../room-versions.ts';
import type { JsonValue, Pdu } from '../events/types.ts';

/** The integer-valued top-level properties of power levels content. */
export const POWER_LEVEL_PROPS = [
  'users_default',
  'events_default',
  'state_default',
  'ban',
  'redact',
  'kick',
  'invite',
] as const;
export type PowerLevelProp = (typeof POWER_LEVEL_PROPS)[number];

/** Spec defaults (server-server "Definitions", m.room.power_levels schema). With no power levels
 * event at all, events_default and state_default keep these values too (schema: "or there is no
 * m.room.power_levels event, the state_default is 50"). */
export const DEFAULT_LEVELS: Readonly<Record<PowerLevelProp, number>> = {
  users_default: 0,
  events_default: 0,
  state_default: 50,
  ban: 50,
  redact: 50,
  kick: 50,
  invite: 0,
};

/** Power level of the creator when no power levels event exists (v1–11). */
export const CREATOR_DEFAULT_LEVEL = 100;

const STRINGY_INTEGER = /^\s*[+-]?\d+\s*$/;

/**
 * Parses one power level value as the room version allows, or returns undefined if invalid:
 * integers always; v1–9 also strings of a base-10 integer (leading zeros, sign, surrounding
 * whitespace: "stringy" fragment); v1–5 (non-canonical JSON) also floats, truncated ("floaty").
 */
export function parsePowerLevelValue(version: RoomVersion, value: unknown): number | undefined {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return value;
    // Floaty: only where canonical JSON does not forbid floats; Infinity/NaN are rejected.
    if (!version.strictCanonicalJson && Number.isFinite(value)) return Math.trunc(value);
    return undefined;
  }
  if (typeof value === 'string' && !version.integerPowerLevels && STRINGY_INTEGER.test(value)) {
    const n = Number.parseInt(value.trim(), 10);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

export function isJsonObject(value: unknown): value is Record<string, JsonValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const UTF8 = new TextEncoder();
const SERVER_NAME = /^(?:\[[0-9A-Fa-f:.]{2,45}\]|[0-9A-Za-z.-]{1,255})(?::\d{1,5})?$/;

/**
 * User id validation as applied to `sender` (appendices "User Identifiers", including the
 * historical localpart set that servers MUST still accept): `@`, a localpart without `:` or NUL,
 * `:`, a server name; at most 255 bytes.
 */
export function isValidUserId(value: unknown): value is string {
  if (typeof value !== 'string' || !value.startsWith('@')) return false;
  if (UTF8.encode(value).length > 255) return false;
  const colon = value.indexOf(':');
  if (colon < 0) return false;
  if (value.slice(1, colon).includes('\u0000')) return false;
  return SERVER_NAME.test(value.slice(colon + 1));
}

/** The server name part of a user id, v1 room id or v1 event id (everything after the first `:`). */
export function domainOf(id: string): string {
  const colon = id.indexOf(':');
  return colon < 0 ? '' : id.slice(colon + 1);
}

/**
 * The room creators: v12 = create sender + `additional_creators` (privileged, infinite power);
 * v11 = create sender; v1–10 = `content.creator`. Pre-v12 the set has at most one member and only
 * matters for the default power levels without a power levels event.
 */
export function roomCreators(version: RoomVersion, createEvent: Pdu | undefined): Set<string> {
  const creators = new Set<string>();
  if (!createEvent) return creators;
  if (version.implicitRoomCreator) {
    creators.add(createEvent.sender);
  } else if (typeof createEvent.content.creator === 'string') {
    creators.add(createEvent.content.creator);
  }
  if (version.privilegedCreators) {
    const extra = createEvent.content.additional_creators;
    if (Array.isArray(extra)) for (const u of extra) if (typeof u === 'string') creators.add(u);
  }
  return creators;
}

/** Power levels in effect, with defaults filled in and values parsed for the room version. */
export interface PowerLevels {
  /** Whether a power levels event exists (affects creator defaults). */
  readonly hasEvent: boolean;
  readonly levels: Readonly<Record<PowerLevelProp, number>>;
  readonly users: ReadonlyMap<string, number>;
  readonly events: ReadonlyMap<string, number>;
  readonly notifications: ReadonlyMap<string, number>;
  /** v12 creators (infinite power); pre-v12 the creator who gets 100 without a PL event. */
  readonly creators: ReadonlySet<string>;
  readonly privilegedCreators: boolean;
}

function parseMap(version: RoomVersion, value: unknown): Map<string, number> {
  const out = new Map<string, number>();
  if (!isJsonObject(value)) return out;
  for (const [k, v] of Object.entries(value)) {
    const n = parsePowerLevelValue(version, v);
    if (n !== undefined) out.set(k, n);
  }
  return out;
}

/**
 * Reads the power levels from the state's create and power levels events. Invalid values in
 * state (which a valid event cannot carry) fall back to the defaults.
 */
export function readPowerLevels(
  version: RoomVersion,
  createEvent: Pdu | undefined,
  powerLevelsEvent: Pdu | undefined,
): PowerLevels {
  const creators = roomCreators(version, createEvent);
  const content = powerLevelsEvent?.content ?? {};
  const levels = { ...DEFAULT_LEVELS };
  for (const prop of POWER_LEVEL_PROPS) {
    const n = parsePowerLevelValue(version, content[prop]);
    if (n !== undefined) levels[prop] = n;
  }
  const notifications = parseMap(version, content.notifications);
  if (!notifications.has('room')) notifications.set('room', 50);
  return {
    hasEvent: powerLevelsEvent !== undefined,
    levels,
    users: parseMap(version, content.users),
    events: parseMap(version, content.events),
    notifications,
    creators,
    privilegedCreators: version.privilegedCreators,
  };
}

/** A user's power level: v12 creators are infinite; then `users`, then `users_default`;
 * with no power levels event the creator has 100 and everyone else `users_default` (0). */
export function userPowerLevel(pl: PowerLevels, userId: string): number {
  if (pl.privilegedCreators && pl.creators.has(userId)) return Infinity;
  if (!pl.hasEvent) return pl.creators.has(userId) ? CREATOR_DEFAULT_LEVEL : pl.levels.users_default;
  return pl.users.get(userId) ?? pl.levels.users_default;
}

/** The event type's *required power level*: `events[type]`, else `state_default` for state
 * events and `events_default` otherwise (server-server "Definitions"). */
export function requiredPowerLevel(pl: PowerLevels, type: string, stateKey: string | undefined): number {
  const explicit = pl.events.get(type);
  if (explicit !== undefined) return explicit;
  return stateKey !== undefined ? pl.levels.state_default : pl.levels.events_default;
}
