/**
 * What the rooms services need from the rest of the server, wired in homeserver.ts: storage (the
 * RoomsStore interface only), this server's identity and signing key, the bus and sync notifier,
 * profiles for member events, and the clock and randomness (kept injectable for tests).
 */
import type { Ed25519SigningKey } from '../../core/crypto/ed25519.ts';
import type { RoomsStore } from '../../storage/rooms.ts';
import type { Bus } from '../bus.ts';
import type { Notifier } from '../sync/notifier.ts';

export interface Profile {
  displayname?: string;
  avatar_url?: string;
}

export interface RoomsDeps {
  store: RoomsStore;
  serverName: string;
  signingKey: Ed25519SigningKey;
  bus: Bus;
  notifier: Notifier;
  /** Room version for new rooms when the client names none (setting defaultRoomVersion). */
  defaultRoomVersion: () => string;
  /** Profile of a user for m.room.member displayname/avatar_url (local users; {} if unknown). */
  getProfile: (userId: string) => Profile;
  /** Users the viewer ignores (m.ignored_user_list); their non-state events are hidden. */
  ignoredUsers?: (userId: string) => ReadonlySet<string>;
  now?: () => number;
  /** Random URL-safe string (room id and v1–2 event id localparts). */
  randomString?: (length: number) => string;
}
