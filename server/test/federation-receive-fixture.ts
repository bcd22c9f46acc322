/**
 * Fixture for the federation receiver tests: the rooms fixture (server `localhost`) plus a
 * pretend remote server `remote.test` with its own signing key, which builds and signs PDUs the
 * way a real remote would (core/events/build.ts), and the receiver wired with a KeyLookup that
 * knows both servers' keys.
 */
import { randomBytes } from 'node:crypto';
import { signingKeyFromSeed, type Ed25519SigningKey } from '../core/crypto/ed25519.ts';
import { buildEvent } from '../core/events/build.ts';
import { selectAuthEventIds } from '../core/auth/auth-events.ts';
import { getRoomVersion, type RoomVersion } from '../core/room-versions.ts';
import type { JsonObject, StoredPdu } from '../core/events/types.ts';
import type { KeyLookup } from '../core/crypto/signing.ts';
import { IncomingPdus, type EventKeySource } from '../services/federation/receiver/incoming-pdu.ts';
import type { RemoteRooms } from '../services/federation/receiver/missing-events.ts';
import { startRoomsFixture, type RoomsFixture } from './rooms-fixture.ts';

export const REMOTE = 'remote.test';
export const rid = (name: string): string => `@${name}:${REMOTE}`;

export interface ReceiveFixture extends RoomsFixture {
  remoteKey: Ed25519SigningKey;
  keys: KeyLookup;
  receiver: IncomingPdus;
  /** Replaces the receiver's RemoteRooms (fetching missing events) for one test. */
  setRemote(remote: Partial<RemoteRooms>): void;
  /** Builds a PDU from `remote.test` on the room's current tip (or the given prev events). */
  remoteEvent(roomId: string, spec: { sender: string; type: string; stateKey?: string; content: JsonObject; prev?: string[]; depth?: number; key?: Ed25519SigningKey; redacts?: string }): StoredPdu;
  version(roomId: string): RoomVersion;
}

export async function startReceiveFixture(): Promise<ReceiveFixture> {
  const f = await startRoomsFixture();
  const remoteKey = signingKeyFromSeed(randomBytes(32), 'remote1');
  const keys: KeyLookup = {
    [REMOTE]: { [remoteKey.keyId]: remoteKey.publicKeyBase64 },
    localhost: { [f.deps.signingKey.keyId]: f.deps.signingKey.publicKeyBase64 },
  };
  const keySource: EventKeySource = { keysFor: async () => keys };
  let remote: Partial<RemoteRooms> = {};
  const remoteProxy: RemoteRooms = {
    getMissingEvents: (...a) => (remote.getMissingEvents ? remote.getMissingEvents(...a) : Promise.resolve({ events: [] })),
    stateIds: (...a) => (remote.stateIds ? remote.stateIds(...a) : Promise.reject(new Error('no /state_ids'))),
    state: (...a) => (remote.state ? remote.state(...a) : Promise.reject(new Error('no /state'))),
    event: (...a) => (remote.event ? remote.event(...a) : Promise.reject(new Error('no /event'))),
    eventAuth: (...a) => (remote.eventAuth ? remote.eventAuth(...a) : Promise.reject(new Error('no /event_auth'))),
  };
  const receiver = new IncomingPdus({ store: f.store, sender: f.rooms.sender, keys: keySource, remote: remoteProxy });
  const version = (roomId: string): RoomVersion => getRoomVersion(f.store.getRoom(roomId)!.roomVersion)!;
  return {
    ...f,
    remoteKey,
    keys,
    receiver,
    setRemote: (r) => {
      remote = r;
    },
    version,
    remoteEvent(roomId, spec) {
      const entry = f.rooms.sender.cache.get(roomId)!;
      const v = version(roomId);
      const prev = spec.prev ?? entry.extremities.map((e) => e.event_id);
      const prevDepth = Math.max(0, ...prev.map((id) => f.store.getDagEvent(id)?.pdu.depth ?? 0));
      return buildEvent(
        v,
        {
          type: spec.type,
          state_key: spec.stateKey,
          content: spec.content,
          sender: spec.sender,
          room_id: roomId,
          prev_events: prev,
          auth_events: selectAuthEventIds(v, { type: spec.type, sender: spec.sender, content: spec.content, state_key: spec.stateKey }, entry.state),
          depth: spec.depth ?? prevDepth + 1,
          origin_server_ts: Date.now(),
          redacts: spec.redacts,
        },
        { serverName: REMOTE, signingKey: spec.key ?? remoteKey, eventIdLocalpart: randomBytes(9).toString('hex') },
      );
    },
  };
}

/** The PDU as it travels (v3+: no event_id). */
export function wire(pdu: StoredPdu): Record<string, unknown> {
  const { event_id: _id, ...rest } = pdu;
  return rest;
}
