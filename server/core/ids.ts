/**
 * Identifier grammars (spec: appendices "Identifier Grammar": Server Name, User Identifiers incl.
 * Historical User IDs, Room IDs, Room Aliases, Event IDs, Opaque and Common Namespaced Identifiers;
 * event id formats from rooms/fragments v1-event-ids and v4-event-ids).
 * Parse once at the edge; the parsers return undefined rather than throwing.
 * Lengths are measured in UTF-8 bytes (spec v1.11 clarification).
 */
import type { RoomVersion } from './room-versions.ts';

/** Maximum length in bytes of user ids, room ids, aliases and event ids. */
export const MAX_ID_BYTES = 255;

export type ServerNameKind = 'dns' | 'ipv4' | 'ipv6';

export interface ParsedServerName {
  /** Host as written: a DNS name, a dotted quad, or an IPv6 literal *with* its brackets. */
  host: string;
  kind: ServerNameKind;
  port?: number;
}

export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

// Synapse's VALID_HOST_REGEX: dns-chars in non-empty dot-separated labels.
const DNS_NAME = /^[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*$/;
const DOTTED_DIGITS = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const PORT = /^\d{1,5}$/;

/** server_name = hostname [ ":" port ]; hostname = IPv4address / "[" IPv6address "]" / dns-name. */
export function parseServerName(s: string): ParsedServerName | undefined {
  if (typeof s !== 'string' || s.length === 0 || s.length > MAX_ID_BYTES) return undefined;
  let host: string;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return undefined;
    host = s.slice(0, close + 1);
    const rest = s.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return undefined;
      portText = rest.slice(1);
    }
    if (!isIpv6(host.slice(1, -1))) return undefined;
  } else {
    const colon = s.indexOf(':');
    host = colon < 0 ? s : s.slice(0, colon);
    if (colon >= 0) portText = s.slice(colon + 1);
    if (!DNS_NAME.test(host) || host.length > 255) return undefined;
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!PORT.test(portText)) return undefined;
    port = Number(portText);
    if (port > 65535) return undefined;
  }
  let kind: ServerNameKind = 'dns';
  if (host.startsWith('[')) kind = 'ipv6';
  else if (DOTTED_DIGITS.test(host)) {
    // A dotted quad is an IPv4 literal, whose parts must be 0–255 (appendix "Server Name").
    if (host.split('.').some((p) => Number(p) > 255)) return undefined;
    kind = 'ipv4';
  }
  return port === undefined ? { host, kind } : { host, kind, port };
}

export function isValidServerName(s: string): boolean {
  return parseServerName(s) !== undefined;
}

/** IPv6 text form per RFC 3513 §2.2: eight 16-bit groups, at most one `::`, optional trailing
 * dotted-quad IPv4. No zone ids. */
export function isIpv6(s: string): boolean {
  if (s.length < 2 || s.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(s)) return false;
  const doubleColon = s.indexOf('::');
  if (doubleColon !== s.lastIndexOf('::')) return false;
  let groups = 0;
  const countPart = (part: string, allowIpv4Tail: boolean): boolean => {
    if (part === '') return true;
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!;
      if (allowIpv4Tail && i === pieces.length - 1 && p.includes('.')) {
        if (!DOTTED_DIGITS.test(p) || p.split('.').some((o) => Number(o) > 255)) return false;
        groups += 2;
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(p)) return false;
        groups += 1;
      }
    }
    return true;
  };
  if (doubleColon < 0) return countPart(s, true) && groups === 8;
  const head = s.slice(0, doubleColon);
  const tail = s.slice(doubleColon + 2);
  return countPart(head, false) && countPart(tail, true) && groups <= 7;
}

/** Splits `<sigil>localpart:server` at the first colon (localparts cannot contain one). */
function splitSigilled(s: string, sigil: string): { localpart: string; serverName: string } | undefined {
  if (typeof s !== 'string' || !s.startsWith(sigil) || byteLength(s) > MAX_ID_BYTES) return undefined;
  const colon = s.indexOf(':');
  if (colon < 0) return undefined;
  const localpart = s.slice(1, colon);
  const serverName = s.slice(colon + 1);
  if (!isValidServerName(serverName)) return undefined;
  return { localpart, serverName };
}

/** Historical localparts: any non-surrogate code points except `:` and NUL (appendix "Historical
 * User IDs", "Room IDs", "Room Aliases"). Surrogates can only appear unpaired in a JS string. */
function isHistoricalLocalpart(localpart: string): boolean {
  return !COLON_OR_NUL.test(localpart) && !LONE_SURROGATE.test(localpart);
}
// Module constants: a literal in the function makes two RegExp objects per call, and ids are
// parsed several times per request.
const COLON_OR_NUL = /[:\u0000]/;
const LONE_SURROGATE = /\p{Cs}/u;

// ---- User ids --------------------------------------------------------------------------------

export interface ParsedUserId {
  localpart: string;
  serverName: string;
}

/** Current grammar: user_id_char = DIGIT / a-z / "-" / "." / "=" / "_" / "/" / "+". */
const STRICT_LOCALPART = /^[a-z0-9._=/+-]+$/;

/** Parses a user id accepting historical localparts (possibly empty), which servers MUST accept
 * on events over federation. Use isStrictUserId for ids this server creates. */
export function parseUserId(s: string): ParsedUserId | undefined {
  const parts = splitSigilled(s, '@');
  if (parts === undefined || !isHistoricalLocalpart(parts.localpart)) return undefined;
  return parts;
}

export function isValidUserId(s: string): boolean {
  return parseUserId(s) !== undefined;
}

/** The current (v1.8+) grammar: localpart from `[a-z0-9._=/+-]`, non-empty. */
export function isStrictUserId(s: string): boolean {
  const p = parseUserId(s);
  return p !== undefined && STRICT_LOCALPART.test(p.localpart);
}

/** "Compliant" per the historical section: non-empty localpart of U+0021–U+007E only. Servers
 * SHOULD NOT forward non-compliant ids to clients outside events. */
export function isCompliantUserId(s: string): boolean {
  const p = parseUserId(s);
  return p !== undefined && /^[\u0021-\u007e]+$/.test(p.localpart);
}

/** A localpart a new account may take. With `serverName`, also checks the full id fits 255 bytes. */
export function isValidLocalpartForRegistration(localpart: string, serverName?: string): boolean {
  if (typeof localpart !== 'string' || !STRICT_LOCALPART.test(localpart)) return false;
  return serverName === undefined || byteLength(`@${localpart}:${serverName}`) <= MAX_ID_BYTES;
}

export function userIdServerName(s: string): string | undefined {
  return parseUserId(s)?.serverName;
}

/** Whether one of `users` (say, a room's joined members) belongs to `server`: whether that
 * server is in the room (ours: we are resident; another: it may see the room's events). */
export function hasUserOn(server: string, users: Iterable<string>): boolean {
  for (const u of users) if (userIdServerName(u) === server) return true;
  return false;
}

export function userIdLocalpart(s: string): string | undefined {
  return parseUserId(s)?.localpart;
}

// ---- Room ids --------------------------------------------------------------------------------

export type ParsedRoomId =
  | { kind: 'domain'; localpart: string; serverName: string }
  /** v12+: `!` + URL-safe unpadded Base64 of the create event's reference hash. */
  | { kind: 'hash'; hash: string };

const URLSAFE_HASH = /^[A-Za-z0-9_-]{43}$/;
const STANDARD_HASH = /^[A-Za-z0-9+/]{43}$/;

/** Parses a room id in either form. With a room version, only the form that version uses. */
export function parseRoomId(s: string, version?: Pick<RoomVersion, 'roomIdFromCreateEvent'>): ParsedRoomId | undefined {
  if (typeof s !== 'string' || !s.startsWith('!') || byteLength(s) > MAX_ID_BYTES) return undefined;
  const body = s.slice(1);
  if (version?.roomIdFromCreateEvent !== false && URLSAFE_HASH.test(body)) return { kind: 'hash', hash: body };
  if (version?.roomIdFromCreateEvent === true) return undefined;
  const parts = splitSigilled(s, '!');
  if (parts === undefined || !isHistoricalLocalpart(parts.localpart)) return undefined;
  return { kind: 'domain', ...parts };
}

export function isValidRoomId(s: string, version?: Pick<RoomVersion, 'roomIdFromCreateEvent'>): boolean {
  return parseRoomId(s, version) !== undefined;
}

/** The server in a `!local:server` room id; undefined for hash-form ids. */
export function roomIdServerName(s: string): string | undefined {
  const p = parseRoomId(s);
  return p?.kind === 'domain' ? p.serverName : undefined;
}

// ---- Room aliases ----------------------------------------------------------------------------

export interface ParsedRoomAlias {
  localpart: string;
  serverName: string;
}

export function parseRoomAlias(s: string): ParsedRoomAlias | undefined {
  const parts = splitSigilled(s, '#');
  if (parts === undefined || !isHistoricalLocalpart(parts.localpart)) return undefined;
  return parts;
}

export function isValidRoomAlias(s: string): boolean {
  return parseRoomAlias(s) !== undefined;
}

// ---- Event ids -------------------------------------------------------------------------------

/** Checks an event id against a room version's format (v1: `$local:server`; v3: `$` + 43 chars
 * of standard Base64; v4+: `$` + 43 chars of URL-safe Base64). Without a version, any format. */
export function isValidEventId(s: string, version?: Pick<RoomVersion, 'eventIdFormat'>): boolean {
  if (typeof s !== 'string' || !s.startsWith('$') || byteLength(s) > MAX_ID_BYTES) return false;
  const body = s.slice(1);
  const format = version?.eventIdFormat;
  if ((format === undefined || format === 'v3') && STANDARD_HASH.test(body)) return true;
  if ((format === undefined || format === 'v4') && URLSAFE_HASH.test(body)) return true;
  if (format === undefined || format === 'v1') {
    const parts = splitSigilled(s, '$');
    return parts !== undefined && isHistoricalLocalpart(parts.localpart);
  }
  return false;
}

/** The server in a v1–2 event id (`$local:server`); undefined for hash-form ids. */
export function eventIdServerName(s: string): string | undefined {
  const parts = splitSigilled(s, '$');
  return parts !== undefined && isHistoricalLocalpart(parts.localpart) ? parts.serverName : undefined;
}

// ---- Other grammars --------------------------------------------------------------------------

/** Opaque Identifier Grammar: 1–255 chars of `[0-9A-Za-z._~-]` (RFC 3986 unreserved). */
export function isValidOpaqueId(s: string): boolean {
  return typeof s === 'string' && /^[0-9A-Za-z._~-]{1,255}$/.test(s);
}

/** Common Namespaced Identifier Grammar: 1–255 chars, starts with a-z, then `[a-z0-9._-]`. */
export function isValidNamespacedId(s: string): boolean {
  return typeof s === 'string' && /^[a-z][a-z0-9._-]{0,254}$/.test(s);
}
