/**
 * Event authorization rules for room versions 1–12 (spec: /rooms/vN "Authorisation rules",
 * fragments v1-auth-rules (v1–2), v3-auth-rules (v3–5), v6, v7, v8-auth-rules (v8–9), v10, v11,
 * v12). One implementation, switched by room version flags; verdicts name the rule number as the
 * given version's spec numbers it (see `ruleId`).
 *
 * `checkEventAuth` applies the rules to an auth state (the event's auth events, the state before
 * it, or the current state: server-server "Checks performed on receipt of a PDU" 4–6). Rule 2
 * (v12: 3) is about the `auth_events` list itself, so it lives in `checkAuthEventsList`.
 */
import { getRoomVersion, type RoomVersion } from '../room-versions.ts';
import { referencedEventIds, stateMapKey, type StoredPdu } from '../events/types.ts';
import { authEventKeys } from './auth-events.ts';
import {
  POWER_LEVEL_PROPS,
  domainOf,
  isJsonObject,
  isValidUserId,
  parsePowerLevelValue,
  readPowerLevels,
  requiredPowerLevel,
  userPowerLevel,
  type PowerLevels,
} from './power-levels.ts';

export type AuthVerdict = { allowed: true } | { allowed: false; rule: string; reason: string };

/** The state the event is checked against, keyed by `stateMapKey(type, state_key)`.
 * Only the auth-relevant entries are needed (create, power levels, join rules, members, 3pid invites). */
export type AuthState = ReadonlyMap<string, StoredPdu>;

export interface AuthOptions {
  /** Rule "validly signed by the homeserver of …" (join_authorised_via_users_server, v8+ rule
   * 4.2.1): the caller verifies signatures (core/crypto) and answers here. Absent → treated as signed. */
  isSignedBy?: (event: StoredPdu, serverName: string) => boolean;
  /** Rule on a 3pid invite `signed` block: verifies an ed25519 signature by a given public key.
   * Absent → treated as verified (like `isSignedBy`); the federation receiver must pass it. */
  verifyThirdPartySigned?: (signed: Record<string, unknown>, publicKeyBase64: string) => boolean;
}

const ALLOW: AuthVerdict = { allowed: true };

// ---------------------------------------------------------------------------------------------
// Rule numbering. Versions insert and remove rules (aliases v1–5, redaction v1–2, v12 rule 2,
// v8 rule 4.2, v7 knock, v10 and v12 power level rules), so numbers are computed from flags.

/** A rule, named independently of the room version; `ruleId` gives its number in a version. */
export type RuleKey =
  | 'create.prevEvents'
  | 'create.roomId'
  | 'create.roomVersion'
  | 'create.creator'
  | 'create.additionalCreators'
  | 'roomId'
  | 'authEvents.duplicate'
  | 'authEvents.unexpected'
  | 'authEvents.rejected'
  | 'authEvents.noCreate'
  | 'authEvents.roomId'
  | 'federate'
  | 'aliases.noStateKey'
  | 'aliases.domain'
  | 'member.shape'
  | 'member.authorisedSignature'
  | 'member.join.senderMismatch'
  | 'member.join.banned'
  | 'member.join.restrictedAuthoriser'
  | 'member.join.otherwise'
  | 'member.invite.tpi.banned'
  | 'member.invite.tpi.noSigned'
  | 'member.invite.tpi.signedFields'
  | 'member.invite.tpi.mxid'
  | 'member.invite.tpi.noInviteEvent'
  | 'member.invite.tpi.sender'
  | 'member.invite.tpi.signature'
  | 'member.invite.senderNotJoined'
  | 'member.invite.target'
  | 'member.invite.power'
  | 'member.leave.self'
  | 'member.leave.senderNotJoined'
  | 'member.leave.banned'
  | 'member.leave.power'
  | 'member.ban.senderNotJoined'
  | 'member.ban.power'
  | 'member.knock.joinRule'
  | 'member.knock.senderMismatch'
  | 'member.knock.membership'
  | 'member.unknown'
  | 'joined'
  | 'thirdPartyInvite'
  | 'requiredPower'
  | 'stateKey'
  | 'powerLevels.types'
  | 'powerLevels.maps'
  | 'powerLevels.users'
  | 'powerLevels.creators'
  | 'powerLevels.propsOld'
  | 'powerLevels.propsNew'
  | 'powerLevels.eventsOld'
  | 'powerLevels.eventsNew'
  | 'powerLevels.usersOld'
  | 'powerLevels.usersNew'
  | 'redaction';

type TopSection =
  | 'create'
  | 'roomId'
  | 'authEvents'
  | 'federate'
  | 'aliases'
  | 'member'
  | 'joined'
  | 'thirdPartyInvite'
  | 'requiredPower'
  | 'stateKey'
  | 'powerLevels'
  | 'redaction';

function position<T>(list: readonly (readonly [T, boolean])[], name: T): number {
  const enabled = list.filter(([, on]) => on).map(([n]) => n);
  const i = enabled.indexOf(name);
  if (i < 0) throw new Error(`rule section ${String(name)} does not exist in this room version`);
  return i + 1;
}

function topNumber(v: RoomVersion, s: TopSection): number {
  return position<TopSection>(
    [
      ['create', true],
      ['roomId', v.roomIdFromCreateEvent],
      ['authEvents', true],
      ['federate', true],
      ['aliases', v.specialCasedAliasesAuth],
      ['member', true],
      ['joined', true],
      ['thirdPartyInvite', true],
      ['requiredPower', true],
      ['stateKey', true],
      ['powerLevels', true],
      ['redaction', v.redactionAuthRule],
    ],
    s,
  );
}

type Membership = 'join' | 'invite' | 'leave' | 'ban' | 'knock' | 'unknown';
function memberSub(v: RoomVersion, m: Membership): number {
  const first = v.restrictedJoinRule ? 3 : 2; // v8 inserted 4.2 (join_authorised_via_users_server)
  const order: (readonly [Membership, boolean])[] = [
    ['join', true],
    ['invite', true],
    ['leave', true],
    ['ban', true],
    ['knock', v.knockJoinRule],
    ['unknown', true],
  ];
  return first - 1 + position(order, m);
}

type PlSection = 'types' | 'maps' | 'users' | 'creators' | 'noPrev' | 'props' | 'eventsOld' | 'eventsNew' | 'usersOld' | 'usersNew';
function plSub(v: RoomVersion, s: PlSection): number {
  return position<PlSection>(
    [
      ['types', v.integerPowerLevels],
      ['maps', v.integerPowerLevels],
      ['users', true],
      ['creators', v.privilegedCreators],
      ['noPrev', true],
      ['props', true],
      ['eventsOld', true],
      ['eventsNew', true],
      ['usersOld', true],
      ['usersNew', true],
    ],
    s,
  );
}

const TPI_SUB: Record<string, number> = {
  banned: 1,
  noSigned: 2,
  signedFields: 3,
  mxid: 4,
  noInviteEvent: 5,
  sender: 6,
  signature: 8,
};

/** The spec's number for `key` in room version `v` (e.g. v1 'member.join.banned' → '5.2.3',
 * v8 → '4.3.3', v12 → '5.3.3'). Throws for a rule the version does not have. */
export function ruleId(v: RoomVersion, key: RuleKey): string {
  const [section, a, b] = key.split('.') as [string, string | undefined, string | undefined];
  switch (section) {
    case 'create': {
      if (a === 'creator' && v.implicitRoomCreator) throw new Error('no creator rule in this room version');
      if (a === 'additionalCreators' && !v.privilegedCreators) throw new Error('no additional_creators rule');
      const sub = { prevEvents: 1, roomId: 2, roomVersion: 3, creator: 4, additionalCreators: 4 }[a as string];
      return `1.${sub}`;
    }
    case 'roomId':
    case 'federate':
    case 'joined':
    case 'requiredPower':
    case 'stateKey':
      return String(topNumber(v, section));
    case 'thirdPartyInvite':
      return `${topNumber(v, section)}.1`;
    case 'redaction':
      return `${topNumber(v, section)}.3`;
    case 'authEvents': {
      if (a === 'noCreate' && v.roomIdFromCreateEvent) throw new Error('no create auth event rule in v12');
      const sub = { duplicate: 1, unexpected: 2, rejected: 3, noCreate: 4, roomId: 5 }[a as string];
      return `${topNumber(v, 'authEvents')}.${sub}`;
    }
    case 'aliases':
      return `${topNumber(v, 'aliases')}.${a === 'noStateKey' ? 1 : 2}`;
    case 'member': {
      const top = topNumber(v, 'member');
      if (a === 'shape') return `${top}.1`;
      if (a === 'authorisedSignature') {
        if (!v.restrictedJoinRule) throw new Error('no join_authorised_via_users_server rule');
        return `${top}.2.1`;
      }
      if (a === 'unknown') return `${top}.${memberSub(v, 'unknown')}`;
      const m = `${top}.${memberSub(v, a as Membership)}`;
      switch (`${a}.${b}`) {
        case 'join.senderMismatch':
          return `${m}.2`;
        case 'join.banned':
          return `${m}.3`;
        case 'join.restrictedAuthoriser':
          if (!v.restrictedJoinRule) throw new Error('no restricted join rule');
          return `${m}.5.2`;
        case 'join.otherwise':
          return `${m}.${v.restrictedJoinRule ? 7 : 6}`;
        case 'invite.tpi': {
          const c = key.split('.')[3] as string;
          return `${m}.1.${TPI_SUB[c]}`;
        }
        case 'invite.senderNotJoined':
          return `${m}.2`;
        case 'invite.target':
          return `${m}.3`;
        case 'invite.power':
          return `${m}.5`;
        case 'leave.self':
          return `${m}.1`;
        case 'leave.senderNotJoined':
          return `${m}.2`;
        case 'leave.banned':
          return `${m}.3`;
        case 'leave.power':
          return `${m}.5`;
        case 'ban.senderNotJoined':
          return `${m}.1`;
        case 'ban.power':
          return `${m}.3`;
        case 'knock.joinRule':
          return `${m}.1`;
        case 'knock.senderMismatch':
          return `${m}.2`;
        case 'knock.membership':
          return `${m}.4`;
      }
      throw new Error(`unknown rule ${key}`);
    }
    case 'powerLevels': {
      const top = topNumber(v, 'powerLevels');
      switch (a) {
        case 'types':
        case 'maps':
        case 'users':
        case 'creators':
          return `${top}.${plSub(v, a)}`;
        case 'propsOld':
          return `${top}.${plSub(v, 'props')}.1`;
        case 'propsNew':
          return `${top}.${plSub(v, 'props')}.2`;
        default:
          return `${top}.${plSub(v, a as PlSection)}.1`;
      }
    }
  }
  throw new Error(`unknown rule ${key}`);
}

function deny(v: RoomVersion, key: RuleKey, reason: string): AuthVerdict {
  return { allowed: false, rule: ruleId(v, key), reason };
}

// ---------------------------------------------------------------------------------------------

const CREATE = stateMapKey('m.room.create', '');
const POWER_LEVELS = stateMapKey('m.room.power_levels', '');
const JOIN_RULES = stateMapKey('m.room.join_rules', '');

/** The creator the first-join special case compares with: v11+ the create sender, else `content.creator`. */
function firstJoinCreator(v: RoomVersion, create: StoredPdu): unknown {
  return v.implicitRoomCreator ? create.sender : create.content.creator;
}

/** Rule 1: m.room.create. */
function checkCreate(v: RoomVersion, event: StoredPdu): AuthVerdict {
  // 1.1
  if (event.prev_events.length > 0) return deny(v, 'create.prevEvents', 'create event has prev_events');
  // 1.2: v12 the room id is derived from the create event, so it must not carry one.
  if (v.roomIdFromCreateEvent) {
    if (event.room_id !== undefined) return deny(v, 'create.roomId', 'v12 create event must not have a room_id');
  } else {
    const roomDomain = typeof event.room_id === 'string' ? domainOf(event.room_id) : '';
    if (roomDomain === '' || roomDomain !== domainOf(event.sender)) {
      return deny(v, 'create.roomId', 'room_id domain does not match sender domain');
    }
  }
  // 1.3
  const rv = event.content.room_version;
  if (rv !== undefined && (typeof rv !== 'string' || getRoomVersion(rv) === undefined)) {
    return deny(v, 'create.roomVersion', 'unrecognised room_version');
  }
  // 1.4 (v1–10): creator is required; (v12): additional_creators must be valid user ids.
  if (!v.implicitRoomCreator && event.content.creator === undefined) {
    return deny(v, 'create.creator', 'create event has no creator');
  }
  if (v.privilegedCreators) {
    const extra = event.content.additional_creators;
    if (extra !== undefined && !(Array.isArray(extra) && extra.every((u) => isValidUserId(u)))) {
      return deny(v, 'create.additionalCreators', 'additional_creators is not an array of user ids');
    }
  }
  return ALLOW;
}

/**
 * The auth rules for `event` against `authState` (the state before the event, its auth events,
 * or the current state). Returns a verdict naming the spec rule that decided a rejection.
 * For room version 12 the create event is passed in `authState` under (m.room.create, '') even though
 * it is not listed in auth_events. Rule 2 (v12: 3) on the `auth_events` list is `checkAuthEventsList`,
 * except 2.4 "no m.room.create", which is checked here too since nothing can be decided without it.
 */
export function checkEventAuth(
  version: RoomVersion,
  event: StoredPdu,
  authState: AuthState,
  options: AuthOptions = {},
): AuthVerdict {
  const v = version;
  // 1
  if (event.type === 'm.room.create') return checkCreate(v, event);

  const create = authState.get(CREATE);
  if (v.roomIdFromCreateEvent) {
    // v12 rule 2: the room id is the create event's id with the `!` sigil.
    if (!create) return deny(v, 'roomId', 'no m.room.create event in the auth state');
    if (event.room_id !== '!' + create.event_id.slice(1)) {
      return deny(v, 'roomId', 'room_id is not the create event id');
    }
  } else if (!create) {
    // 2.4
    return deny(v, 'authEvents.noCreate', 'no m.room.create event in the auth state');
  }

  // 3 (v12: 4): m.federate
  if (create.content['m.federate'] === false && domainOf(event.sender) !== domainOf(create.sender)) {
    return deny(v, 'federate', 'room is not federated and sender is on another server');
  }

  // 4 (v1–5): m.room.aliases
  if (v.specialCasedAliasesAuth && event.type === 'm.room.aliases') {
    if (typeof event.state_key !== 'string') return deny(v, 'aliases.noStateKey', 'aliases event has no state_key');
    if (event.state_key !== domainOf(event.sender)) {
      return deny(v, 'aliases.domain', "state_key does not match sender's domain");
    }
    return ALLOW;
  }

  const pl = readPowerLevels(v, create, authState.get(POWER_LEVELS));
  const membershipOf = (userId: string): string | undefined => {
    const m = authState.get(stateMapKey('m.room.member', userId))?.content.membership;
    return typeof m === 'string' ? m : undefined;
  };

  if (event.type === 'm.room.member') return checkMember(v, event, authState, create, pl, membershipOf, options);

  const senderLevel = userPowerLevel(pl, event.sender);
  // sender must be joined
  if (membershipOf(event.sender) !== 'join') return deny(v, 'joined', 'sender is not joined to the room');

  // m.room.third_party_invite
  if (event.type === 'm.room.third_party_invite') {
    return senderLevel >= pl.levels.invite
      ? ALLOW
      : deny(v, 'thirdPartyInvite', 'sender power level is below the invite level');
  }

  // required power level
  const required = requiredPowerLevel(pl, event.type, event.state_key);
  if (required > senderLevel) {
    return deny(v, 'requiredPower', `sending ${event.type} needs power level ${required}, sender has ${senderLevel}`);
  }

  // state_key starting with `@` must be the sender
  if (typeof event.state_key === 'string' && event.state_key.startsWith('@') && event.state_key !== event.sender) {
    return deny(v, 'stateKey', 'state_key starts with @ but is not the sender');
  }

  if (event.type === 'm.room.power_levels') {
    return checkPowerLevels(v, event, authState.get(POWER_LEVELS), pl, senderLevel);
  }

  // 11 (v1–2): m.room.redaction
  if (v.redactionAuthRule && event.type === 'm.room.redaction') {
    if (senderLevel >= pl.levels.redact) return ALLOW; // 11.1
    const redacts = v.redactsInContent ? event.content.redacts : event.redacts;
    const target = typeof redacts === 'string' ? domainOf(redacts) : '';
    if (target !== '' && target === domainOf(event.event_id)) return ALLOW; // 11.2
    return deny(v, 'redaction', 'below the redact level and redacting an event from another server');
  }

  return ALLOW;
}

/** Rule 5 (v6–11: 4): m.room.member. */
function checkMember(
  v: RoomVersion,
  event: StoredPdu,
  authState: AuthState,
  create: StoredPdu,
  pl: PowerLevels,
  membershipOf: (userId: string) => string | undefined,
  options: AuthOptions,
): AuthVerdict {
  const content = event.content;
  const target = event.state_key;
  const membership = content.membership;
  // .1
  if (typeof target !== 'string' || membership === undefined || membership === null) {
    return deny(v, 'member.shape', 'member event without state_key or membership');
  }

  // .2 (v8+): the authorising server must have signed the event.
  const via = content.join_authorised_via_users_server;
  if (v.restrictedJoinRule && via !== undefined && via !== null) {
    const signed =
      typeof via === 'string' &&
      isValidUserId(via) &&
      (options.isSignedBy === undefined || options.isSignedBy(event, domainOf(via)));
    if (!signed) {
      return deny(v, 'member.authorisedSignature', 'not signed by the server of join_authorised_via_users_server');
    }
  }

  const sender = event.sender;
  const senderMembership = membershipOf(sender);
  const targetMembership = membershipOf(target);
  const senderLevel = userPowerLevel(pl, sender);
  const targetLevel = userPowerLevel(pl, target);
  // Without a join rules event (or join_rule key) the room is invite-only, as in Synapse and
  // gomatrixserverlib; the spec's rules then only admit invited or joined users.
  const joinRuleValue = authState.get(JOIN_RULES)?.content.join_rule;
  const joinRule = typeof joinRuleValue === 'string' ? joinRuleValue : 'invite';

  switch (membership) {
    case 'join': {
      // .1 first join: the only prev event is the create event and the target is the creator.
      const prev = referencedEventIds(event.prev_events);
      if (prev.length === 1 && prev[0] === create.event_id && firstJoinCreator(v, create) === target) return ALLOW;
      // .2
      if (sender !== target) return deny(v, 'member.join.senderMismatch', 'sender does not match state_key');
      // .3
      if (senderMembership === 'ban') return deny(v, 'member.join.banned', 'sender is banned');
      const invitedOrJoined = senderMembership === 'invite' || senderMembership === 'join';
      // .4 (v7+ also knock)
      if (joinRule === 'invite' || (v.knockJoinRule && joinRule === 'knock')) {
        return invitedOrJoined ? ALLOW : deny(v, 'member.join.otherwise', `join rule is ${joinRule} and sender is not invited`);
      }
      // .5 (v8+ restricted, v10+ knock_restricted)
      if ((v.restrictedJoinRule && joinRule === 'restricted') || (v.knockRestrictedJoinRule && joinRule === 'knock_restricted')) {
        if (invitedOrJoined) return ALLOW;
        const authoriserOk =
          typeof via === 'string' && membershipOf(via) === 'join' && userPowerLevel(pl, via) >= pl.levels.invite;
        return authoriserOk
          ? ALLOW
          : deny(v, 'member.join.restrictedAuthoriser', 'join_authorised_via_users_server is not a joined user able to invite');
      }
      // .5/.6
      if (joinRule === 'public') return ALLOW;
      return deny(v, 'member.join.otherwise', `join rule ${joinRule} does not allow joining`);
    }

    case 'invite': {
      // .1: third-party invite
      if (Object.hasOwn(content, 'third_party_invite')) {
        if (targetMembership === 'ban') return deny(v, 'member.invite.tpi.banned', 'target user is banned');
        const tpi = content.third_party_invite;
        const signed = isJsonObject(tpi) ? tpi.signed : undefined;
        if (!isJsonObject(signed)) return deny(v, 'member.invite.tpi.noSigned', 'third_party_invite has no signed');
        const { mxid, token } = signed;
        if (typeof mxid !== 'string' || typeof token !== 'string') {
          return deny(v, 'member.invite.tpi.signedFields', 'signed lacks mxid or token');
        }
        if (mxid !== target) return deny(v, 'member.invite.tpi.mxid', 'signed.mxid does not match state_key');
        const inviteEvent = authState.get(stateMapKey('m.room.third_party_invite', token));
        if (!inviteEvent) return deny(v, 'member.invite.tpi.noInviteEvent', 'no m.room.third_party_invite for token');
        if (inviteEvent.sender !== sender) {
          return deny(v, 'member.invite.tpi.sender', 'sender did not send the m.room.third_party_invite');
        }
        const keys: string[] = [];
        const ic = inviteEvent.content;
        if (typeof ic.public_key === 'string') keys.push(ic.public_key);
        if (Array.isArray(ic.public_keys)) {
          for (const k of ic.public_keys) if (isJsonObject(k) && typeof k.public_key === 'string') keys.push(k.public_key);
        }
        const verify = options.verifyThirdPartySigned ?? (() => true);
        if (keys.some((k) => verify(signed, k))) return ALLOW;
        return deny(v, 'member.invite.tpi.signature', 'no signature in signed matches a public key');
      }
      if (senderMembership !== 'join') return deny(v, 'member.invite.senderNotJoined', 'sender is not joined');
      if (targetMembership === 'join' || targetMembership === 'ban') {
        return deny(v, 'member.invite.target', `target user is ${targetMembership}`);
      }
      if (senderLevel >= pl.levels.invite) return ALLOW;
      return deny(v, 'member.invite.power', 'sender power level is below the invite level');
    }

    case 'leave': {
      if (sender === target) {
        const ok =
          senderMembership === 'invite' || senderMembership === 'join' || (v.knockJoinRule && senderMembership === 'knock');
        return ok ? ALLOW : deny(v, 'member.leave.self', `cannot leave from membership ${senderMembership ?? 'none'}`);
      }
      if (senderMembership !== 'join') return deny(v, 'member.leave.senderNotJoined', 'sender is not joined');
      if (targetMembership === 'ban' && senderLevel < pl.levels.ban) {
        return deny(v, 'member.leave.banned', 'unbanning needs the ban level');
      }
      if (senderLevel >= pl.levels.kick && targetLevel < senderLevel) return ALLOW;
      return deny(v, 'member.leave.power', 'sender cannot kick the target user');
    }

    case 'ban': {
      if (senderMembership !== 'join') return deny(v, 'member.ban.senderNotJoined', 'sender is not joined');
      if (senderLevel >= pl.levels.ban && targetLevel < senderLevel) return ALLOW;
      return deny(v, 'member.ban.power', 'sender cannot ban the target user');
    }

    case 'knock': {
      if (!v.knockJoinRule) break;
      if (joinRule !== 'knock' && !(v.knockRestrictedJoinRule && joinRule === 'knock_restricted')) {
        return deny(v, 'member.knock.joinRule', `join rule ${joinRule} does not allow knocking`);
      }
      if (sender !== target) return deny(v, 'member.knock.senderMismatch', 'sender does not match state_key');
      if (senderMembership !== 'ban' && senderMembership !== 'invite' && senderMembership !== 'join') return ALLOW;
      return deny(v, 'member.knock.membership', `cannot knock from membership ${senderMembership}`);
    }
  }
  return deny(v, 'member.unknown', `unknown membership ${JSON.stringify(membership)}`);
}

const isInteger = (x: unknown): boolean => typeof x === 'number' && Number.isInteger(x);

/** Rule 10 (v6–11: 9): m.room.power_levels. */
function checkPowerLevels(
  v: RoomVersion,
  event: StoredPdu,
  previous: StoredPdu | undefined,
  pl: PowerLevels,
  senderLevel: number,
): AuthVerdict {
  const c = event.content;
  const has = (k: string): boolean => Object.hasOwn(c, k);

  if (v.integerPowerLevels) {
    // v10 10.1
    for (const prop of POWER_LEVEL_PROPS) {
      if (has(prop) && !isInteger(c[prop])) return deny(v, 'powerLevels.types', `${prop} is not an integer`);
    }
    // v10 10.2
    for (const key of ['events', 'notifications']) {
      if (!has(key)) continue;
      const m = c[key];
      if (!isJsonObject(m) || !Object.values(m).every(isInteger)) {
        return deny(v, 'powerLevels.maps', `${key} is not an object of integers`);
      }
    }
  }

  // users: valid user ids to integers (v1–9 also stringy; v1–5 floaty)
  if (has('users')) {
    const users = c.users;
    if (!isJsonObject(users)) return deny(v, 'powerLevels.users', 'users is not an object');
    for (const [userId, level] of Object.entries(users)) {
      if (!isValidUserId(userId)) return deny(v, 'powerLevels.users', `users key ${userId} is not a user id`);
      if (parsePowerLevelValue(v, level) === undefined) {
        return deny(v, 'powerLevels.users', `users value for ${userId} is not an integer`);
      }
    }
  }

  // v12 10.4: creators cannot appear in users.
  if (v.privilegedCreators && isJsonObject(c.users)) {
    for (const creator of pl.creators) {
      if (Object.hasOwn(c.users, creator)) return deny(v, 'powerLevels.creators', `creator ${creator} is listed in users`);
    }
  }

  // no previous power levels event: allow
  if (!previous) return ALLOW;
  const old = previous.content;

  // Reads a value; `undefined` = absent. Unparseable new values (possible in v1–9 outside
  // `users`) reject, as Synapse and gomatrixserverlib do; unparseable old ones count as absent.
  const parse = (x: unknown): number | undefined | 'invalid' => {
    if (x === undefined) return undefined;
    const n = parsePowerLevelValue(v, x);
    return n === undefined ? 'invalid' : n;
  };
  const oldValue = (x: unknown): number | undefined => {
    const n = parse(x);
    return n === 'invalid' ? undefined : n;
  };

  // top-level properties added, changed or removed
  for (const prop of POWER_LEVEL_PROPS) {
    const before = oldValue(old[prop]);
    const after = parse(c[prop]);
    if (after === 'invalid') return deny(v, 'powerLevels.propsNew', `${prop} is not a power level`);
    if (before === after) continue;
    if (before !== undefined && before > senderLevel) {
      return deny(v, 'powerLevels.propsOld', `cannot change ${prop} from ${before} above own level ${senderLevel}`);
    }
    if (after !== undefined && after > senderLevel) {
      return deny(v, 'powerLevels.propsNew', `cannot set ${prop} to ${after} above own level ${senderLevel}`);
    }
  }

  // events (v6+: and notifications): changed or removed, then added or changed
  const mapKeys = v.limitNotificationsPowerLevels ? ['events', 'notifications'] : ['events'];
  const diffs: { key: string; entry: string; before: number | undefined; after: number | undefined }[] = [];
  for (const key of mapKeys) {
    const oldMap = isJsonObject(old[key]) ? old[key] : {};
    const newRaw = c[key];
    if (newRaw !== undefined && !isJsonObject(newRaw)) return deny(v, 'powerLevels.eventsNew', `${key} is not an object`);
    const newMap = newRaw ?? {};
    for (const entry of new Set([...Object.keys(oldMap), ...Object.keys(newMap)])) {
      const before = oldValue(oldMap[entry]);
      const after = parse(newMap[entry]);
      if (after === 'invalid') return deny(v, 'powerLevels.eventsNew', `${key}.${entry} is not a power level`);
      if (before !== after) diffs.push({ key, entry, before, after });
    }
  }
  for (const d of diffs) {
    if (d.before !== undefined && d.before > senderLevel) {
      return deny(v, 'powerLevels.eventsOld', `cannot change ${d.key}.${d.entry} from ${d.before} above own level`);
    }
  }
  for (const d of diffs) {
    if (d.after !== undefined && d.after > senderLevel) {
      return deny(v, 'powerLevels.eventsNew', `cannot set ${d.key}.${d.entry} to ${d.after} above own level`);
    }
  }

  // users: changed or removed (other than own entry), then added or changed
  const oldUsers = isJsonObject(old.users) ? old.users : {};
  const newUsers = isJsonObject(c.users) ? c.users : {};
  const userDiffs: { user: string; before: number | undefined; after: number | undefined }[] = [];
  for (const user of new Set([...Object.keys(oldUsers), ...Object.keys(newUsers)])) {
    const before = oldValue(oldUsers[user]);
    const after = oldValue(newUsers[user]); // validated above
    if (before !== after) userDiffs.push({ user, before, after });
  }
  for (const d of userDiffs) {
    if (d.user !== event.sender && d.before !== undefined && d.before >= senderLevel) {
      return deny(v, 'powerLevels.usersOld', `cannot change ${d.user} from ${d.before}: not below own level`);
    }
  }
  for (const d of userDiffs) {
    if (d.after !== undefined && d.after > senderLevel) {
      return deny(v, 'powerLevels.usersNew', `cannot set ${d.user} to ${d.after} above own level`);
    }
  }
  return ALLOW;
}

/** Extra inputs for `checkAuthEventsList`. */
export interface AuthEventsListOptions {
  /** Rule 2.3: whether an auth event was itself rejected. Absent → none were. */
  isRejected?: (eventId: string) => boolean;
}

/**
 * Rule 2 (v12: 3) on the event's `auth_events` list: 2.1 no duplicate (type, state_key);
 * 2.2 only entries the auth events selection would pick (v12: never the create event);
 * 2.3 none rejected; 2.4 (v1–11) the create event is present; 2.5 same room_id.
 * `authEventsById` must hold every listed event; an id it lacks is rejected as unexpected.
 * The create event's own list is not checked: rule 1 decides it before rule 2.
 */
export function checkAuthEventsList(
  version: RoomVersion,
  event: StoredPdu,
  authEventsById: ReadonlyMap<string, StoredPdu>,
  options: AuthEventsListOptions = {},
): AuthVerdict {
  const v = version;
  if (event.type === 'm.room.create') return ALLOW;
  const listed: StoredPdu[] = [];
  for (const id of referencedEventIds(event.auth_events)) {
    const found = authEventsById.get(id);
    if (!found) return deny(v, 'authEvents.unexpected', `auth event ${id} is not known`);
    listed.push(found);
  }
  // 2.1
  const seen = new Set<string>();
  for (const e of listed) {
    const k = stateMapKey(e.type, e.state_key ?? '');
    if (seen.has(k)) return deny(v, 'authEvents.duplicate', `duplicate auth event for (${e.type}, ${e.state_key})`);
    seen.add(k);
  }
  // 2.2
  const expected = new Set(authEventKeys(v, event).map(([t, s]) => stateMapKey(t, s)));
  for (const e of listed) {
    if (typeof e.state_key !== 'string' || !expected.has(stateMapKey(e.type, e.state_key))) {
      return deny(v, 'authEvents.unexpected', `auth event ${e.event_id} (${e.type}, ${e.state_key}) is not selectable`);
    }
  }
  // 2.3
  for (const e of listed) {
    if (options.isRejected?.(e.event_id)) return deny(v, 'authEvents.rejected', `auth event ${e.event_id} was rejected`);
  }
  // 2.4
  if (!v.roomIdFromCreateEvent && !listed.some((e) => e.type === 'm.room.create')) {
    return deny(v, 'authEvents.noCreate', 'no m.room.create among the auth events');
  }
  // 2.5
  for (const e of listed) {
    if (e.room_id !== event.room_id) return deny(v, 'authEvents.roomId', `auth event ${e.event_id} is in another room`);
  }
  return ALLOW;
}

/**
 * "Checks performed on receipt of a PDU" step 4: rule 2 on the list, then the rules against the
 * state the auth events form. v12: pass the room's create event, which auth_events omit.
 */
export function checkEventAuthAgainstAuthEvents(
  version: RoomVersion,
  event: StoredPdu,
  authEventsById: ReadonlyMap<string, StoredPdu>,
  createEvent?: StoredPdu,
  options: AuthOptions & AuthEventsListOptions = {},
): AuthVerdict {
  if (event.type === 'm.room.create') return checkEventAuth(version, event, new Map(), options);
  const listVerdict = checkAuthEventsList(version, event, authEventsById, options);
  if (!listVerdict.allowed) return listVerdict;
  const state = new Map<string, StoredPdu>();
  if (createEvent) state.set(CREATE, createEvent);
  for (const id of referencedEventIds(event.auth_events)) {
    const e = authEventsById.get(id) as StoredPdu;
    state.set(stateMapKey(e.type, e.state_key as string), e);
  }
  return checkEventAuth(version, event, state, options);
}
