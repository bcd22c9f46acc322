/**
 * Device keys, one-time and fallback keys, and the device-list stream (spec: client-server
 * keys.yaml: /keys/upload, /keys/query, /keys/claim, /keys/changes; end-to-end encryption module
 * "Tracking the device list for a user" and "Extensions to /sync"). Implements sync's
 * DeviceListSource. Keys of users on other servers are asked for over federation
 * (/user/keys/query, /user/keys/claim) once `useFederation` gave a way to; a server that does not
 * answer is reported under `failures`.
 *
 * Remote device lists are cached while a local user shares a room with their owner (Synapse's
 * device list tracking; server-server "Device Management"):
 *  1. First /keys/query for such a user: GET /user/devices/{userId} (devices, keys, cross-signing
 *     keys and the remote's stream_id), stored; later queries answer from the cache.
 *  2. m.device_list_update: applied when the cache is at the update's newest prev_id; an update
 *     already applied (stream_id not beyond ours) is ignored; any other gap marks the cache stale,
 *     and the next query fetches the whole list again ("resync"). m.signing_key_update replaces
 *     the cross-signing keys. The federation receiver then records the change for sync as before.
 *  3. A leave or ban after which no local user shares a room with a cached user drops the cache.
 * Users we share no room with are asked through /user/keys/query each time and never cached.
 */
import { MatrixError, invalidParam } from '../../errors.ts';
import { errorText } from '../../error-text.ts';
import { verifyJsonSignatures } from '../../core/crypto/signing.ts';
import { hasUserOn, userIdServerName } from '../../core/ids.ts';
import {
  OneTimeKeyConflictError,
  type ClaimRequest,
  type E2eeStore,
  type JsonObject,
  type RemoteDeviceList,
  type StoredSignature,
  type UploadedKey,
} from '../../storage/e2ee.ts';
import type { Bus } from '../bus.ts';
import type { DeviceListSource, SyncWindow } from '../sync/sources.ts';

/** The accounts service's view of devices (UsersStore.listDevices fits). */
export interface DeviceDirectory {
  listDevices(userId: string): { deviceId: string; displayName: string | null }[];
}

/** What e2ee needs from rooms (RoomsReader fits). */
export interface SharedRooms {
  usersSharingRoomsWith(userId: string): Set<string>;
  joinedMembers(roomId: string): string[];
}

export interface E2eeDeps {
  store: E2eeStore;
  serverName: string;
  notifier: { notify(position: number, userIds: Iterable<string>): void };
  rooms: SharedRooms;
  devices: DeviceDirectory;
  bus: Bus;
  onError?: (message: string, err: unknown) => void;
}

/** Keys of users on another server (server-server user_keys.yaml), answered as that server sent them. */
export interface RemoteKeys {
  query(server: string, wanted: Record<string, string[]>, timeoutMs: number): Promise<Record<string, unknown>>;
  claim(server: string, wanted: Record<string, Record<string, string>>, timeoutMs: number): Promise<Record<string, unknown>>;
  /** GET /user/devices/{userId} (server-server user_devices.yaml). */
  devices(server: string, userId: string, timeoutMs: number): Promise<Record<string, unknown>>;
}

/** How long a client waits for other servers (keys.yaml `timeout`: 10 s by default; bounded). */
const DEFAULT_REMOTE_TIMEOUT_MS = 10_000;
const remoteTimeout = (ms: number | undefined): number => Math.min(Math.max(ms ?? DEFAULT_REMOTE_TIMEOUT_MS, 1000), 60_000);

export interface DeviceKeysUpload {
  device_keys?: JsonObject;
  one_time_keys?: Record<string, unknown>;
  fallback_keys?: Record<string, unknown>;
}

export interface KeysQueryResult {
  device_keys: Record<string, Record<string, JsonObject>>;
  master_keys: Record<string, JsonObject>;
  self_signing_keys: Record<string, JsonObject>;
  user_signing_keys: Record<string, JsonObject>;
  failures: Record<string, JsonObject>;
}

/** Announces a durable device-list change: wakes everyone who may care, tells other services. */
export class DeviceListAnnouncer {
  private publishing = false;

  constructor(private readonly deps: E2eeDeps) {}

  announce(userId: string, position: number, publish = true): void {
    // A copy: the rooms reader's set may be its own cache.
    const users = new Set(this.deps.rooms.usersSharingRoomsWith(userId));
    users.add(userId);
    this.deps.notifier.notify(position, users);
    if (!publish) return;
    this.publishing = true;
    try {
      this.deps.bus.publish('deviceListChanged', { userId, streamPosition: position });
    } finally {
      this.publishing = false;
    }
  }

  /** True while our own deviceListChanged is being delivered (the bus is synchronous). */
  get isPublishing(): boolean {
    return this.publishing;
  }
}

export class DeviceKeysService implements DeviceListSource {
  readonly announcer: DeviceListAnnouncer;
  private remote: RemoteKeys | undefined;
  /** Resyncs in flight, by user (concurrent queries share one fetch). */
  private readonly resyncs = new Map<string, Promise<RemoteDeviceList>>();
  /** Updates that arrived while a user's resync was in flight: the newest stream_id seen (any
   * signing key update counts as newest). A snapshot older than that is kept stale. */
  private readonly updatesDuringResync = new Map<string, number>();

  constructor(private readonly deps: E2eeDeps) {
    this.announcer = new DeviceListAnnouncer(deps);
  }

  /** Called by the federation wiring: remote users' keys are asked for through `remote`. */
  useFederation(remote: RemoteKeys): void {
    this.remote = remote;
  }

  /** Subscribes to device and membership changes made by other services. */
  attach(): void {
    const { bus } = this.deps;
    bus.on('deviceListChanged', ({ userId }) => {
      if (this.announcer.isPublishing) return;
      this.background('device list change', this.onDevicesChanged(userId));
    });
    bus.on('eventPersisted', ({ pdu }) => {
      if (pdu.type !== 'm.room.member' || typeof pdu.state_key !== 'string' || typeof pdu.room_id !== 'string') return;
      const membership = (pdu.content as { membership?: unknown }).membership;
      const kind = membership === 'join' ? 'join' : membership === 'leave' || membership === 'ban' ? 'leave' : undefined;
      if (kind) this.background('membership change', this.onMembershipChanged(pdu.state_key, pdu.room_id, kind));
    });
  }

  private background(what: string, p: Promise<void>): void {
    p.catch((err: unknown) => this.deps.onError?.(`e2ee: recording ${what} failed`, err));
  }

  /** A device was added, renamed or removed by the accounts service: drop the e2ee data of
   * devices that no longer exist, and record the change for sync. */
  private async onDevicesChanged(userId: string): Promise<void> {
    const { store, devices } = this.deps;
    const live = new Set(devices.listDevices(userId).map((d) => d.deviceId));
    const gone = store.devicesWithData(userId).filter((d) => !live.has(d));
    let position: number;
    if (gone.length > 0) {
      position = 0;
      for (const d of gone) position = await store.deleteDevice(userId, d);
    } else {
      position = await store.recordKeysChange(userId);
    }
    this.announcer.announce(userId, position, false);
  }

  private async onMembershipChanged(userId: string, roomId: string, kind: 'join' | 'leave'): Promise<void> {
    // The room's members and the one who joined or left: whose sharing this change can alter.
    const users = new Set(this.deps.rooms.joinedMembers(roomId));
    users.add(userId);
    if (kind === 'leave') await this.dropUnsharedRemoteLists(users);
    const position = await this.deps.store.recordMembershipChange(userId, roomId, kind);
    if (position === null) return;
    for (const u of this.deps.rooms.usersSharingRoomsWith(userId)) users.add(u);
    this.deps.notifier.notify(position, users);
  }

  // ---- POST /keys/upload ----

  async upload(requester: { userId: string; deviceId: string }, body: DeviceKeysUpload): Promise<{ one_time_key_counts: Record<string, number> }> {
    const { userId, deviceId } = requester;
    if (body.device_keys !== undefined) checkDeviceKeys(body.device_keys, userId, deviceId);
    const oneTimeKeys = splitKeys(body.one_time_keys ?? {}, 'one_time_keys');
    const fallbackKeys = splitKeys(body.fallback_keys ?? {}, 'fallback_keys');
    const algorithms = fallbackKeys.map((k) => k.algorithm);
    if (new Set(algorithms).size !== algorithms.length) throw invalidParam('fallback_keys: at most one key per algorithm');
    let result;
    try {
      result = await this.deps.store.uploadKeys({ userId, deviceId, deviceKeys: body.device_keys, oneTimeKeys, fallbackKeys });
    } catch (e) {
      if (e instanceof OneTimeKeyConflictError) throw invalidParam(`One time key ${e.keyId} already exists with different content`);
      throw e;
    }
    if (result.position !== null) this.announcer.announce(userId, result.position);
    // Clients look for signed_curve25519 explicitly; zero is a count worth reporting.
    return { one_time_key_counts: { signed_curve25519: 0, ...result.oneTimeKeyCounts } };
  }

  // ---- POST /keys/query ----

  /** The client's /keys/query: local users from storage, each other server asked once, in parallel. */
  async queryWithRemote(viewer: string, wanted: Record<string, string[]>, timeoutMs?: number): Promise<KeysQueryResult> {
    const out = this.query(viewer, wanted);
    const remote = this.remote;
    if (!remote) return out;
    const timeout = remoteTimeout(timeoutMs);
    await Promise.all(
      Object.entries(byRemoteServer(wanted, this.deps.serverName)).map(async ([server, users]) => {
        delete out.failures[server];
        const uncached: Record<string, string[]> = {};
        await Promise.all(
          Object.entries(users).map(async ([userId, deviceIds]) => {
            if (!this.sharesRoomWithLocalUser(userId)) {
              uncached[userId] = deviceIds;
              return;
            }
            try {
              const cached = this.deps.store.remoteDeviceList(userId);
              serveList(out, cached && !cached.stale ? cached : await this.resync(remote, server, userId, timeout), deviceIds);
            } catch (e) {
              out.failures[server] = failure(e);
            }
          }),
        );
        if (Object.keys(uncached).length === 0) return;
        try {
          const res = await remote.query(server, uncached, timeout);
          const devices = objectField(res, 'device_keys');
          for (const userId of Object.keys(uncached)) {
            const list: RemoteDeviceList = { userId, streamId: null, stale: false, devices: {} };
            for (const [deviceId, keys] of Object.entries(objectField(devices, userId))) {
              if (isDeviceKeys(keys, userId, deviceId)) list.devices[deviceId] = keys;
            }
            list.masterKey = crossSigningKey(objectField(res, 'master_keys')[userId], userId);
            list.selfSigningKey = crossSigningKey(objectField(res, 'self_signing_keys')[userId], userId);
            // The remote answered for the devices asked: serve all it gave.
            serveList(out, list, []);
          }
        } catch (e) {
          out.failures[server] = failure(e);
        }
      }),
    );
    return out;
  }

  // ---- remote device lists: the cache ----

  /** Step 1 (and a stale list's resync): the user's whole list from their server, cached while
   * we still share a room with them. */
  private resync(remote: RemoteKeys, server: string, userId: string, timeoutMs: number): Promise<RemoteDeviceList> {
    let p = this.resyncs.get(userId);
    if (!p) {
      p = (async () => {
        const res = await remote.devices(server, userId, timeoutMs);
        if (res.user_id !== userId) throw new Error('the remote answered for another user');
        const list: RemoteDeviceList = { userId, streamId: typeof res.stream_id === 'number' ? res.stream_id : null, stale: false, devices: {} };
        for (const d of Array.isArray(res.devices) ? res.devices : []) {
          if (isJsonObject(d) && typeof d.device_id === 'string') list.devices[d.device_id] = deviceEntry(userId, d.device_id, d.keys, d.device_display_name);
        }
        const master = crossSigningKey(res.master_key, userId);
        if (master) list.masterKey = master;
        const selfSigning = crossSigningKey(res.self_signing_key, userId);
        if (selfSigning) list.selfSigningKey = selfSigning;
        const newer = this.updatesDuringResync.get(userId);
        // An update that came while we were asking may be newer than this snapshot: keep it stale
        // so the next query asks again, rather than trust a list that misses a device.
        if (newer !== undefined && (list.streamId === null || newer > list.streamId)) list.stale = true;
        if (this.sharesRoomWithLocalUser(userId)) await this.deps.store.putRemoteDeviceList(list);
        return list;
      })().finally(() => {
        this.resyncs.delete(userId);
        this.updatesDuringResync.delete(userId);
      });
      this.resyncs.set(userId, p);
    }
    return p;
  }

  /** Step 2: an m.device_list_update or m.signing_key_update from the user's own server (the
   * receiver checked the origin) updates a cached list. The caller records the change for sync. */
  async applyRemoteDeviceListEdu(eduType: 'm.device_list_update' | 'm.signing_key_update', content: JsonObject): Promise<void> {
    const { store } = this.deps;
    const userId = content.user_id;
    if (typeof userId !== 'string') return;
    if (this.resyncs.has(userId)) {
      const streamId = eduType === 'm.device_list_update' && typeof content.stream_id === 'number' ? content.stream_id : Number.MAX_SAFE_INTEGER;
      this.updatesDuringResync.set(userId, Math.max(streamId, this.updatesDuringResync.get(userId) ?? -Infinity));
      return;
    }
    const list = store.remoteDeviceList(userId);
    if (!list) return;
    if (eduType === 'm.signing_key_update') {
      const master = crossSigningKey(content.master_key, userId);
      const selfSigning = crossSigningKey(content.self_signing_key, userId);
      if (master) list.masterKey = master;
      if (selfSigning) list.selfSigningKey = selfSigning;
      if (master || selfSigning) await store.putRemoteDeviceList(list);
      return;
    }
    if (list.stale) return;
    const { stream_id: streamId, prev_id: prevIds, device_id: deviceId } = content;
    if (typeof streamId !== 'number' || typeof deviceId !== 'string') return store.markRemoteDeviceListStale(userId);
    if (list.streamId !== null && streamId <= list.streamId) return;
    const prev = Array.isArray(prevIds) ? prevIds.filter((x): x is number => typeof x === 'number') : [];
    // No prev_id: the sender's first update for this user, newer than our snapshot; it follows on
    // (as Synapse reads it). Otherwise the newest prev_id must be the version we hold.
    if (list.streamId === null || (prev.length > 0 && Math.max(...prev) !== list.streamId)) return store.markRemoteDeviceListStale(userId);
    if (content.deleted === true) delete list.devices[deviceId];
    else list.devices[deviceId] = deviceEntry(userId, deviceId, content.keys, content.device_display_name);
    list.streamId = streamId;
    await store.putRemoteDeviceList(list);
  }

  /** Step 3: cached users no local user shares a room with any more. Only sharing the room just
   * left can have ended, so only `candidates` (its remaining members and the one who left) are
   * looked at. */
  private async dropUnsharedRemoteLists(candidates: ReadonlySet<string>): Promise<void> {
    const remote = [...candidates].filter((u) => userIdServerName(u) !== this.deps.serverName);
    if (remote.length === 0) return;
    const gone = this.deps.store.remoteDeviceListUsers(remote).filter((u) => !this.sharesRoomWithLocalUser(u));
    if (gone.length > 0) await this.deps.store.dropRemoteDeviceLists(gone);
  }

  private sharesRoomWithLocalUser(userId: string): boolean {
    return hasUserOn(this.deps.serverName, this.deps.rooms.usersSharingRoomsWith(userId));
  }

  /** Local users only (remote ones are listed under `failures`); other servers see this too. */
  query(viewer: string, wanted: Record<string, string[]>): KeysQueryResult {
    const out: KeysQueryResult = { device_keys: {}, master_keys: {}, self_signing_keys: {}, user_signing_keys: {}, failures: {} };
    for (const [userId, deviceIds] of Object.entries(wanted)) {
      const server = userIdServerName(userId);
      if (server === undefined) continue;
      if (server !== this.deps.serverName) {
        out.failures[server] = {};
        continue;
      }
      const names = new Map(this.deps.devices.listDevices(userId).map((d) => [d.deviceId, d.displayName]));
      const devices: Record<string, JsonObject> = {};
      for (const [deviceId, keys] of this.deps.store.deviceKeys(userId, deviceIds)) {
        // Keys of a device the accounts service no longer knows are stale until cleaned up.
        if (!names.has(deviceId)) continue;
        const withSigs = mergeSignatures(keys, this.deps.store.signatures(userId, deviceId), viewer);
        const displayName = names.get(deviceId);
        devices[deviceId] = { ...withSigs, unsigned: displayName ? { device_display_name: displayName } : {} };
      }
      out.device_keys[userId] = devices;
      const cs = this.deps.store.crossSigningKeys(userId);
      if (cs.master) out.master_keys[userId] = mergeSignatures(cs.master, this.deps.store.signatures(userId, crossSigningPublicKey(cs.master)), viewer);
      if (cs.self_signing) out.self_signing_keys[userId] = cs.self_signing;
      // The user-signing key is private to its owner (keys.yaml).
      if (cs.user_signing && userId === viewer) out.user_signing_keys[userId] = cs.user_signing;
    }
    return out;
  }

  // ---- POST /keys/claim ----

  /** Claims local keys, and (`withRemote`, for clients) other servers' over federation. */
  async claim(
    wanted: Record<string, Record<string, string>>,
    withRemote: { timeoutMs?: number } | false = false,
  ): Promise<{ one_time_keys: Record<string, Record<string, Record<string, unknown>>>; failures: Record<string, JsonObject> }> {
    const requests: ClaimRequest[] = [];
    const failures: Record<string, JsonObject> = {};
    for (const [userId, devices] of Object.entries(wanted)) {
      const server = userIdServerName(userId);
      if (server === undefined) continue;
      if (server !== this.deps.serverName) {
        failures[server] = {};
        continue;
      }
      for (const [deviceId, algorithm] of Object.entries(devices)) requests.push({ userId, deviceId, algorithm });
    }
    const one_time_keys: Record<string, Record<string, Record<string, unknown>>> = {};
    const remote = this.remote;
    const remoteClaims =
      withRemote && remote
        ? Object.entries(byRemoteServer(wanted, this.deps.serverName)).map(async ([server, users]) => {
            try {
              const res = await remote.claim(server, users, remoteTimeout(withRemote.timeoutMs));
              delete failures[server];
              const keys = objectField(res, 'one_time_keys');
              for (const [userId, devices] of Object.entries(users)) {
                for (const deviceId of Object.keys(devices)) {
                  const got = objectField(objectField(keys, userId), deviceId);
                  if (Object.keys(got).length > 0) ((one_time_keys[userId] ??= {})[deviceId] = got);
                }
              }
            } catch (e) {
              failures[server] = failure(e);
            }
          })
        : [];
    const claimed = requests.length > 0 ? await this.deps.store.claimKeys(requests) : [];
    await Promise.all(remoteClaims);
    for (const c of claimed) {
      const perUser = (one_time_keys[c.userId] ??= {});
      const perDevice = (perUser[c.deviceId] ??= {});
      perDevice[`${c.algorithm}:${c.keyId}`] = c.key;
    }
    return { one_time_keys, failures };
  }

  // ---- GET /keys/changes and sync's device_lists ----

  changesBetween(viewer: string, since: number, upTo: number): { changed: string[]; left: string[] } {
    const { rooms, store } = this.deps;
    if (upTo <= since) return { changed: [], left: [] };
    const sharing = rooms.usersSharingRoomsWith(viewer);
    const changed = new Set<string>();
    const left = new Set<string>();
    for (const c of store.deviceListChanges(since, upTo)) {
      if (c.kind === 'keys') {
        if (c.userId === viewer || sharing.has(c.userId)) changed.add(c.userId);
      } else if (c.kind === 'join') {
        // Users who now share a room with the viewer: the viewer joined theirs, or they joined the viewer's.
        if (c.userId === viewer) for (const m of rooms.joinedMembers(c.roomId!)) changed.add(m);
        else if (sharing.has(c.userId)) changed.add(c.userId);
      } else if (c.userId === viewer) {
        for (const m of rooms.joinedMembers(c.roomId!)) if (!sharing.has(m)) left.add(m);
      } else if (!sharing.has(c.userId) && rooms.joinedMembers(c.roomId!).includes(viewer)) {
        left.add(c.userId);
      }
    }
    for (const u of [...left]) {
      // Someone who left one room but still shares (or again shares) another is not `left`.
      if (sharing.has(u) || u === viewer) left.delete(u);
      else changed.delete(u);
    }
    for (const u of changed) if (u !== viewer && !sharing.has(u)) changed.delete(u);
    return { changed: [...changed].sort(), left: [...left].sort() };
  }

  changes(w: SyncWindow): { changed: string[]; left: string[] } {
    // The spec asks for device_lists only on incremental syncs.
    if (w.since === null) return { changed: [], left: [] };
    return this.changesBetween(w.userId, w.since, w.upTo);
  }

  oneTimeKeyCounts(userId: string, deviceId: string): Record<string, number> {
    return { signed_curve25519: 0, ...this.deps.store.oneTimeKeyCounts(userId, deviceId) };
  }

  unusedFallbackKeyTypes(userId: string, deviceId: string): string[] {
    return this.deps.store.unusedFallbackKeyTypes(userId, deviceId);
  }
}

// ---- helpers ----

/** The requested users of other servers, grouped by server (a server answers only for its own). */
function byRemoteServer<T>(wanted: Record<string, T>, ourServer: string): Record<string, Record<string, T>> {
  const out: Record<string, Record<string, T>> = {};
  for (const [userId, v] of Object.entries(wanted)) {
    const server = userIdServerName(userId);
    if (server !== undefined && server !== ourServer) (out[server] ??= {})[userId] = v;
  }
  return out;
}

function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A remote's device_keys object for this user and device (remote answers are untrusted JSON). */
function isDeviceKeys(v: unknown, userId: string, deviceId: string): v is JsonObject {
  return isJsonObject(v) && v.user_id === userId && v.device_id === deviceId;
}

function crossSigningKey(v: unknown, userId: string): JsonObject | undefined {
  return isJsonObject(v) && v.user_id === userId ? v : undefined;
}

/** A cached device: its keys (or {} without keys) with the display name under `unsigned`. */
function deviceEntry(userId: string, deviceId: string, keys: unknown, displayName: unknown): JsonObject {
  if (!isDeviceKeys(keys, userId, deviceId)) return {};
  const { unsigned: _u, ...rest } = keys;
  return { ...rest, unsigned: typeof displayName === 'string' ? { device_display_name: displayName } : {} };
}

/** A cached list into a /keys/query answer (`deviceIds` empty: every device with keys). */
function serveList(out: KeysQueryResult, list: RemoteDeviceList, deviceIds: readonly string[]): void {
  const devices: Record<string, JsonObject> = {};
  for (const [deviceId, keys] of Object.entries(list.devices)) {
    if (keys.device_id === deviceId && (deviceIds.length === 0 || deviceIds.includes(deviceId))) devices[deviceId] = keys;
  }
  out.device_keys[list.userId] = devices;
  if (list.masterKey) out.master_keys[list.userId] = list.masterKey;
  if (list.selfSigningKey) out.self_signing_keys[list.userId] = list.selfSigningKey;
}

/** `obj[field]` if it is an object, else {} (remote answers are untrusted JSON). */
function objectField(obj: unknown, field: string): Record<string, unknown> {
  const v = isJsonObject(obj) ? obj[field] : undefined;
  return isJsonObject(v) ? v : {};
}

/** A `failures` entry: status and message of a server that did not answer (Synapse's shape). */
function failure(e: unknown): JsonObject {
  const status = e instanceof MatrixError ? e.status : undefined;
  return { ...(typeof status === 'number' ? { status } : {}), message: errorText(e) };
}

/** device_keys must describe the requester's own device and carry its own signature (keys.yaml). */
function checkDeviceKeys(dk: JsonObject, userId: string, deviceId: string): void {
  if (dk.user_id !== userId) throw invalidParam('device_keys.user_id does not match the authenticated user');
  if (dk.device_id !== deviceId) throw invalidParam('device_keys.device_id does not match the authenticated device');
  const keys = dk.keys as Record<string, string>;
  const ed25519 = keys[`ed25519:${deviceId}`];
  if (typeof ed25519 !== 'string') throw invalidParam(`device_keys.keys must include ed25519:${deviceId}`);
  const verdict = verifyJsonSignatures(dk, userId, { [userId]: { [`ed25519:${deviceId}`]: ed25519 } });
  if (!verdict.ok) throw new MatrixError(400, 'M_INVALID_SIGNATURE', `device_keys: ${verdict.reason}`);
}

/** Splits `<algorithm>:<key_id>` names; a key is a string or an object with a string `key`. */
function splitKeys(keys: Record<string, unknown>, field: string): UploadedKey[] {
  const out: UploadedKey[] = [];
  for (const [name, key] of Object.entries(keys)) {
    const i = name.indexOf(':');
    if (i <= 0 || i === name.length - 1) throw invalidParam(`${field}: key name ${JSON.stringify(name)} is not <algorithm>:<key_id>`);
    const ok = typeof key === 'string' || (typeof key === 'object' && key !== null && !Array.isArray(key) && typeof (key as { key?: unknown }).key === 'string');
    if (!ok) throw invalidParam(`${field}.${name}: a key is a string or an object with a string "key"`);
    out.push({ algorithm: name.slice(0, i), keyId: name.slice(i + 1), key });
  }
  return out;
}

/** The unpadded base64 public key of a cross-signing key object (its one `keys` entry). */
export function crossSigningPublicKey(key: JsonObject): string {
  const keys = key.keys as Record<string, string> | undefined;
  return Object.values(keys ?? {})[0] ?? '';
}

/** Adds stored signatures to a key object. Signatures by another user (a user-signing key on
 * someone's master key) are shown only to that user, as Synapse does. */
export function mergeSignatures(obj: JsonObject, extra: StoredSignature[], viewer: string): JsonObject {
  const sigs: Record<string, Record<string, string>> = {};
  for (const [u, m] of Object.entries((obj.signatures as Record<string, Record<string, string>> | undefined) ?? {})) sigs[u] = { ...m };
  const owner = obj.user_id;
  for (const s of extra) {
    if (s.signerUserId !== owner && s.signerUserId !== viewer) continue;
    (sigs[s.signerUserId] ??= {})[s.signerKeyId] = s.signature;
  }
  return { ...obj, signatures: sigs };
}
