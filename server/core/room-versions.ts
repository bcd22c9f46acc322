/**
 * Registry of room versions 1–12 as named feature flags (spec: /rooms/v1 … /rooms/v12).
 * Code asks for a flag, never compares version numbers: adding a version is one table row.
 */

/** How event ids are derived: v1 = `$local:server` chosen by the origin; v3 = standard base64 of
 * the reference hash; v4+ = URL-safe base64 of the reference hash. */
export type EventIdFormat = 'v1' | 'v3' | 'v4';

/** Which redaction algorithm applies: v1 (rooms 1–5), v6 (6–7: aliases loses special case),
 * v8 (join_rules keeps `allow`), v9 (member keeps `join_authorised_via_users_server`),
 * v11 (11–12: create keeps all content, `redacts`, `invite`, `signed`; fewer top-level keys). */
export type RedactionRules = 'v1' | 'v6' | 'v8' | 'v9' | 'v11';

/** State resolution algorithm: v1 (room version 1), v2 (2–11), v2.1 (12: extra start-state handling). */
export type StateResAlgorithm = 'v1' | 'v2' | 'v2.1';

export interface RoomVersion {
  readonly id: string;
  readonly stable: boolean;
  readonly eventIdFormat: EventIdFormat;
  readonly redactionRules: RedactionRules;
  readonly stateRes: StateResAlgorithm;
  /** v1–5: m.room.aliases events have their own auth rule (state_key must be sender's domain). */
  readonly specialCasedAliasesAuth: boolean;
  /** v1–2: m.room.redaction has its own auth rule (redact level, or the same event-id domain);
   * from v3 event ids have no domain and the redaction check moves to "handling redactions". */
  readonly redactionAuthRule: boolean;
  /** v5+: a server key must be valid (valid_until_ts) at the event's origin_server_ts. */
  readonly enforceKeyValidity: boolean;
  /** v6+: canonical JSON is strict (no floats, integers within ±(2^53-1)). */
  readonly strictCanonicalJson: boolean;
  /** v6+: the `notifications` key of power levels is checked when changed. */
  readonly limitNotificationsPowerLevels: boolean;
  /** v7+: the `knock` join rule and membership. */
  readonly knockJoinRule: boolean;
  /** v8+: the `restricted` join rule with `join_authorised_via_users_server`. */
  readonly restrictedJoinRule: boolean;
  /** v10+: the `knock_restricted` join rule. */
  readonly knockRestrictedJoinRule: boolean;
  /** v10+: power level values must be integers (not strings of digits). */
  readonly integerPowerLevels: boolean;
  /** v11+: the creator is the create event's sender; `content.creator` is gone. */
  readonly implicitRoomCreator: boolean;
  /** v11+: `redacts` is in content rather than at the top level of m.room.redaction. */
  readonly redactsInContent: boolean;
  /** v12: creators (sender + additional_creators) have infinite power level. */
  readonly privilegedCreators: boolean;
  /** v12: the room id is `!` + the create event's reference hash; create has no room_id and is not an auth event. */
  readonly roomIdFromCreateEvent: boolean;
}

const V1: RoomVersion = {
  id: '1',
  stable: true,
  eventIdFormat: 'v1',
  redactionRules: 'v1',
  stateRes: 'v1',
  specialCasedAliasesAuth: true,
  redactionAuthRule: true,
  enforceKeyValidity: false,
  strictCanonicalJson: false,
  limitNotificationsPowerLevels: false,
  knockJoinRule: false,
  restrictedJoinRule: false,
  knockRestrictedJoinRule: false,
  integerPowerLevels: false,
  implicitRoomCreator: false,
  redactsInContent: false,
  privilegedCreators: false,
  roomIdFromCreateEvent: false,
};

const V2: RoomVersion = { ...V1, id: '2', stateRes: 'v2' };
const V3: RoomVersion = { ...V2, id: '3', eventIdFormat: 'v3', redactionAuthRule: false };
const V4: RoomVersion = { ...V3, id: '4', eventIdFormat: 'v4' };
const V5: RoomVersion = { ...V4, id: '5', enforceKeyValidity: true };
const V6: RoomVersion = {
  ...V5,
  id: '6',
  redactionRules: 'v6',
  specialCasedAliasesAuth: false,
  strictCanonicalJson: true,
  limitNotificationsPowerLevels: true,
};
const V7: RoomVersion = { ...V6, id: '7', knockJoinRule: true };
const V8: RoomVersion = { ...V7, id: '8', redactionRules: 'v8', restrictedJoinRule: true };
const V9: RoomVersion = { ...V8, id: '9', redactionRules: 'v9' };
const V10: RoomVersion = { ...V9, id: '10', knockRestrictedJoinRule: true, integerPowerLevels: true };
const V11: RoomVersion = {
  ...V10,
  id: '11',
  redactionRules: 'v11',
  implicitRoomCreator: true,
  redactsInContent: true,
};
const V12: RoomVersion = {
  ...V11,
  id: '12',
  stateRes: 'v2.1',
  privilegedCreators: true,
  roomIdFromCreateEvent: true,
};

export const ROOM_VERSIONS: ReadonlyMap<string, RoomVersion> = new Map(
  [V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11, V12].map((v) => [v.id, v]),
);

/** The spec recommends room version 12 for new rooms (rooms/_index.md). */
export const DEFAULT_ROOM_VERSION = '12';

export function getRoomVersion(id: string): RoomVersion | undefined {
  return ROOM_VERSIONS.get(id);
}
