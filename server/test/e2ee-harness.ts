/**
 * A small real-HTTP app for the e2ee integration tests: the e2ee API files over a real sql.js
 * database in a temporary folder, with in-memory stand-ins for what other engineers own (access
 * tokens, the device directory, room membership, UIA). Requests go over 127.0.0.1 like the main
 * harness's, so the tests can move to startTestServer once /register and rooms are wired.
 * Also: real Ed25519 device and cross-signing keys (node:crypto) for signing test objects.
 */
import { randomBytes } from 'node:crypto';
import { requireAuth, type Requester } from '../api/http/auth.ts';
import { MatrixError, unknownToken } from '../errors.ts';
import { SqlJsE2eeStore } from '../storage/sqljs/e2ee.ts';
import { currentStreamPosition } from '../storage/stream.ts';
import type { Database } from '../storage/storage.ts';
import { Bus } from '../services/bus.ts';
import { Notifier } from '../services/sync/notifier.ts';
import { DeviceKeysService, type E2eeDeps } from '../services/e2ee/device-keys.ts';
import { CrossSigningService, type RequireUia } from '../services/e2ee/cross-signing.ts';
import { KeyBackupService } from '../services/e2ee/key-backup.ts';
import { ToDeviceService } from '../services/e2ee/to-device.ts';
import * as keysApi from '../api/client/keys.ts';
import * as keyBackupApi from '../api/client/key-backup.ts';
import * as toDeviceApi from '../api/client/to-device.ts';
import { computeSignature } from '../core/crypto/signing.ts';
import { signingKeyFromSeed, type Ed25519SigningKey } from '../core/crypto/ed25519.ts';
import { encodeBase64 } from '../core/json/base64.ts';
import type { StoredPdu } from '../core/events/types.ts';
import { listenApp, openTempDatabase, type InProcessApp } from './in-process-app.ts';

export const SERVER_NAME = 'localhost';
export const UIA_PASSWORD = 'correct horse';

export interface E2eeTestApp {
  url: string;
  db: Database;
  bus: Bus;
  notifier: Notifier;
  deviceKeys: DeviceKeysService;
  toDevice: ToDeviceService;
  request: InProcessApp['request'];
  /** Creates a device (and its user) and returns an access token for it. */
  login(userId: string, deviceId: string, displayName?: string): string;
  /** Removes a device the way the accounts service does: gone, then deviceListChanged. */
  deleteDevice(userId: string, deviceId: string): Promise<void>;
  /** Membership changes as the rooms service announces them; resolves once e2ee recorded them. */
  join(userId: string, roomId: string): Promise<void>;
  leave(userId: string, roomId: string): Promise<void>;
  /** Resolves once a stream position beyond `pos` has been announced. */
  waitForPosition(pos: number): Promise<void>;
  close(): Promise<void>;
}

export async function startE2eeTestApp(): Promise<E2eeTestApp> {
  const temp = await openTempDatabase('e2ee');
  const db = temp.db;
  const bus = new Bus((event, err) => console.error('bus handler failed', event, err));
  const notifier = new Notifier(db.read((r) => currentStreamPosition(r)));
  const devices = new Map<string, Map<string, string | null>>();
  const tokens = new Map<string, Requester>();
  const rooms = new Map<string, Set<string>>();

  const deps: E2eeDeps = {
    store: new SqlJsE2eeStore(db),
    serverName: SERVER_NAME,
    notifier,
    bus,
    devices: {
      listDevices: (userId) => [...(devices.get(userId) ?? new Map<string, string | null>())].map(([deviceId, displayName]) => ({ deviceId, displayName })),
    },
    rooms: {
      usersSharingRoomsWith(userId) {
        const out = new Set<string>();
        for (const members of rooms.values()) if (members.has(userId)) for (const m of members) out.add(m);
        return out;
      },
      joinedMembers: (roomId) => [...(rooms.get(roomId) ?? [])],
    },
    onError: (msg, err) => console.error(msg, err),
  };
  // Stand-in for services/users/uia.ts with the m.login.password flow.
  const requireUia: RequireUia = async (auth) => {
    const a = auth as { type?: unknown; password?: unknown } | undefined;
    if (a?.type === 'm.login.password' && a.password === UIA_PASSWORD) return;
    throw new MatrixError(401, 'M_FORBIDDEN', 'Authentication required', { flows: [{ stages: ['m.login.password'] }], params: {}, session: 'test-session' });
  };

  const deviceKeys = new DeviceKeysService(deps);
  deviceKeys.attach();
  const crossSigning = new CrossSigningService(deps, deviceKeys.announcer, requireUia);
  const keyBackup = new KeyBackupService(deps.store);
  const toDevice = new ToDeviceService(deps);

  const auth = requireAuth({
    resolve(token) {
      const r = tokens.get(token);
      if (!r) throw unknownToken('Unknown access token');
      return r;
    },
  });
  const app = await listenApp(
    (routes) => {
      keysApi.register(routes, { auth, deviceKeys, crossSigning });
      keyBackupApi.register(routes, { auth, keyBackup });
      toDeviceApi.register(routes, { auth, toDevice });
    },
    { maxJsonBodyBytes: 65536 },
  );

  const waitForPosition = async (pos: number): Promise<void> => {
    for (let i = 0; i < 200 && notifier.current <= pos; i++) await new Promise((r) => setTimeout(r, 10));
    if (notifier.current <= pos) throw new Error(`no stream position after ${pos} was announced`);
  };
  const member = (userId: string, roomId: string, membership: string): void => {
    const pdu = { type: 'm.room.member', state_key: userId, room_id: roomId, sender: userId, content: { membership }, event_id: `$${randomBytes(8).toString('hex')}` };
    bus.publish('eventPersisted', { pdu: pdu as unknown as StoredPdu, streamPosition: notifier.current, roomVersion: '10' });
  };

  return {
    url: app.url,
    db,
    bus,
    notifier,
    deviceKeys,
    toDevice,
    request: app.request,
    login(userId, deviceId, displayName) {
      let list = devices.get(userId);
      if (!list) devices.set(userId, (list = new Map()));
      list.set(deviceId, displayName ?? null);
      const token = randomBytes(16).toString('hex');
      tokens.set(token, { userId, deviceId, isAdmin: false, accessTokenId: tokens.size + 1 });
      return token;
    },
    async deleteDevice(userId, deviceId) {
      devices.get(userId)?.delete(deviceId);
      for (const [t, r] of tokens) if (r.userId === userId && r.deviceId === deviceId) tokens.delete(t);
      const before = notifier.current;
      bus.publish('deviceListChanged', { userId, streamPosition: before });
      await waitForPosition(before);
    },
    async join(userId, roomId) {
      let members = rooms.get(roomId);
      if (!members) rooms.set(roomId, (members = new Set()));
      members.add(userId);
      const before = notifier.current;
      member(userId, roomId, 'join');
      await waitForPosition(before);
    },
    async leave(userId, roomId) {
      rooms.get(roomId)?.delete(userId);
      const before = notifier.current;
      member(userId, roomId, 'leave');
      await waitForPosition(before);
    },
    waitForPosition,
    async close() {
      await app.close();
      notifier.close();
      await temp.close();
    },
  };
}

// ---- keys for tests ----

export interface TestSigningKey {
  key: Ed25519SigningKey;
  /** Unpadded base64 public key. */
  publicKey: string;
}

export function newSigningKey(): TestSigningKey {
  const key = signingKeyFromSeed(randomBytes(32), 'test');
  return { key, publicKey: key.publicKeyBase64 };
}

/** Adds `signatures[userId][keyId]` by `k` to a copy of `obj`. */
export function sign<T extends Record<string, unknown>>(obj: T, userId: string, keyId: string, k: TestSigningKey): T {
  const sig = computeSignature(obj, k.key);
  const old = (obj.signatures ?? {}) as Record<string, Record<string, string>>;
  return { ...obj, signatures: { ...old, [userId]: { ...(old[userId] ?? {}), [keyId]: sig } } };
}

export interface TestDevice {
  userId: string;
  deviceId: string;
  signing: TestSigningKey;
  /** Signed device_keys for /keys/upload. */
  deviceKeys: Record<string, unknown>;
  /** A signed one-time (or fallback) key object. */
  oneTimeKey(fallback?: boolean): Record<string, unknown>;
}

export function newDevice(userId: string, deviceId: string): TestDevice {
  const signing = newSigningKey();
  const unsigned = {
    user_id: userId,
    device_id: deviceId,
    algorithms: ['m.olm.v1.curve25519-aes-sha2', 'm.megolm.v1.aes-sha2'],
    keys: { [`curve25519:${deviceId}`]: encodeBase64(randomBytes(32)), [`ed25519:${deviceId}`]: signing.publicKey },
  };
  return {
    userId,
    deviceId,
    signing,
    deviceKeys: sign(unsigned, userId, `ed25519:${deviceId}`, signing),
    oneTimeKey(fallback = false) {
      const k: Record<string, unknown> = { key: encodeBase64(randomBytes(32)) };
      if (fallback) k.fallback = true;
      return sign(k, userId, `ed25519:${deviceId}`, signing);
    },
  };
}

/** A cross-signing key object of `usage`, signed by `signer` (the master key) when given. */
export function crossSigningKey(userId: string, usage: 'master' | 'self_signing' | 'user_signing', k: TestSigningKey, signer?: TestSigningKey): Record<string, unknown> {
  const obj = { user_id: userId, usage: [usage], keys: { [`ed25519:${k.publicKey}`]: k.publicKey } };
  return signer ? sign(obj, userId, `ed25519:${signer.publicKey}`, signer) : obj;
}
