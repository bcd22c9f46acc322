/**
 * Helpers to drive Hearth with an independent client: matrix-js-sdk (the SDK Element Web is built
 * on), in Node, over real HTTP. The SDK checks our wire formats the way real clients do, so a
 * test that passes here means Element-family clients see the same thing.
 *
 * Version note: matrix-js-sdk is pinned to 37.5.0, the newest release whose `engines` accepts
 * Node 20 (37.6 and later, and every 38+ release, declare `node >=22`). Its Rust crypto
 * (@matrix-org/matrix-sdk-crypto-wasm 14.x) loads in plain Node 20: `initRustCrypto({
 * useIndexedDB: false })` keeps the Olm/Megolm store in memory, so no IndexedDB shim is needed,
 * and Node 20 already has global `crypto`, `TextEncoder` and `fetch`. `fake-indexeddb` is
 * installed only for a test that wants the SDK's persistent stores (`useIndexedDB: true`): call
 * `installFakeIndexedDb()` first.
 */
import * as sdk from 'matrix-js-sdk';
import { logger as sdkLogger } from 'matrix-js-sdk/lib/logger.js';
import type { MatrixClient, MatrixEvent, Room } from 'matrix-js-sdk';

/**
 * The SDK logs every request at debug level and the Rust crypto layer re-installs a DEBUG tracing
 * layer (console.debug/console.info) on every initRustCrypto. Silence both unless HEARTH_TEST_LOG
 * is set, so a failing test's output stays readable.
 */
let quieted = false;
export function quietSdkLogs(): void {
  if (quieted || process.env.HEARTH_TEST_LOG) return;
  quieted = true;
  // The exported logger is a loglevel logger (its declared type omits that). Child loggers
  // (getChild, e.g. "[MatrixRTCSessionManager]", whose "Got room state event for unknown room"
  // errors are known SDK noise: matrix-js-sdk#3781) copy the root's methodFactory, so a silent
  // factory on the root silences them all.
  const root = sdkLogger as unknown as { methodFactory: unknown; setLevel(level: string): void; rebuild?(): void };
  root.methodFactory = () => () => {};
  root.setLevel('silent');
  root.rebuild?.();
  const noop = (): void => {};
  console.debug = noop;
  console.info = noop;
  console.trace = noop;
}
quietSdkLogs();

/**
 * The SDK arms a timer per HTTP request (http-api/utils.ts `timeoutSignal`: a setTimeout of
 * localTimeoutMs, 110 s for a /sync long poll) and never clears it. In a browser that is
 * harmless; in Node it keeps a finished test process alive for up to two minutes. Timers that
 * long never matter to a test's outcome, so unref them: they still fire while the process is
 * alive, but no longer hold it open.
 */
const LONG_TIMER_MS = 60_000;
const originalSetTimeout = globalThis.setTimeout;
if (!(originalSetTimeout as { hearthUnrefLong?: boolean }).hearthUnrefLong) {
  const patched = ((handler: (...a: unknown[]) => void, ms?: number, ...rest: unknown[]) => {
    const t = originalSetTimeout(handler, ms, ...rest);
    if (typeof ms === 'number' && ms >= LONG_TIMER_MS) t.unref();
    return t;
  }) as typeof setTimeout;
  Object.assign(patched, originalSetTimeout, { hearthUnrefLong: true });
  globalThis.setTimeout = patched;
}

/** Makes `indexedDB` (and friends) global, for `initRustCrypto({ useIndexedDB: true })`. */
export async function installFakeIndexedDb(): Promise<void> {
  const fake = await import('fake-indexeddb');
  const g = globalThis as Record<string, unknown>;
  for (const [name, value] of Object.entries(fake)) if (name === 'indexedDB' || name.startsWith('IDB')) g[name] ??= value;
}

export interface Credentials {
  userId: string;
  deviceId: string;
  accessToken: string;
}

export interface SdkUser extends Credentials {
  client: MatrixClient;
  /** The localpart, for password logins and UIA. */
  username: string;
  password: string;
}

function isUiaChallenge(e: unknown): e is sdk.MatrixError & { data: { session?: string; flows?: { stages: string[] }[] } } {
  return e instanceof sdk.MatrixError && e.httpStatus === 401 && Array.isArray((e.data as { flows?: unknown }).flows);
}

/**
 * Registers through the SDK's `registerRequest` (POST /_matrix/client/v3/register), doing
 * user-interactive auth with m.login.dummy when the server asks for it, as Element does for
 * open registration.
 */
export async function registerWithSdk(baseUrl: string, username: string, password: string, opts: { deviceId?: string; displayName?: string } = {}): Promise<Credentials> {
  const anon = sdk.createClient({ baseUrl });
  const body: Record<string, unknown> = { username, password, initial_device_display_name: opts.displayName ?? `${username}'s js-sdk` };
  if (opts.deviceId) body.device_id = opts.deviceId;
  let res: sdk.RegisterResponse;
  try {
    res = await anon.registerRequest(body);
  } catch (e) {
    if (!isUiaChallenge(e)) throw e;
    const flows = e.data.flows ?? [];
    if (!flows.some((f) => f.stages.length === 1 && f.stages[0] === 'm.login.dummy')) {
      throw new Error(`register: no m.login.dummy-only flow offered: ${JSON.stringify(e.data)}`);
    }
    res = await anon.registerRequest({ ...body, auth: { type: 'm.login.dummy', session: e.data.session } });
  }
  if (!res.access_token || !res.device_id) throw new Error(`register: no access_token/device_id in ${JSON.stringify(res)}`);
  return { userId: res.user_id, deviceId: res.device_id, accessToken: res.access_token };
}

/** POST /login with m.login.password and an m.id.user identifier, through the SDK. */
export async function loginWithSdk(baseUrl: string, username: string, password: string, opts: { deviceId?: string; displayName?: string } = {}): Promise<Credentials> {
  const anon = sdk.createClient({ baseUrl });
  const res = await anon.loginRequest({
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: username },
    password,
    ...(opts.deviceId ? { device_id: opts.deviceId } : {}),
    initial_device_display_name: opts.displayName ?? `${username} (login)`,
  });
  return { userId: res.user_id, deviceId: res.device_id, accessToken: res.access_token };
}

/** A MatrixClient for existing credentials (not started). */
export function makeClient(baseUrl: string, creds: Credentials): MatrixClient {
  return sdk.createClient({
    baseUrl,
    userId: creds.userId,
    deviceId: creds.deviceId,
    accessToken: creds.accessToken,
    timelineSupport: true,
  });
}

/** Registers a user and returns a (not yet started) client for that first device. */
export async function newUser(baseUrl: string, username: string, password = `pw-${username}-secret`): Promise<SdkUser> {
  const creds = await registerWithSdk(baseUrl, username, password);
  return { ...creds, username, password, client: makeClient(baseUrl, creds) };
}

/** Logs the user in again (a new device) and returns a (not started) client for that device. */
export async function newDevice(baseUrl: string, user: { username: string; password: string }, displayName?: string): Promise<SdkUser> {
  const creds = await loginWithSdk(baseUrl, user.username, user.password, { displayName });
  return { ...creds, username: user.username, password: user.password, client: makeClient(baseUrl, creds) };
}

export interface StartOpts {
  initialSyncLimit?: number;
  /** Initialise the SDK's Rust crypto (in-memory store) before starting. */
  crypto?: boolean;
  /** How long to wait for PREPARED (ms). */
  timeoutMs?: number;
}

/**
 * initRustCrypto (optionally), startClient, and resolve once the first sync has been processed
 * (sync state PREPARED). Rejects with the sync error if the SDK reports ERROR, or on timeout.
 */
export async function startClient(client: MatrixClient, opts: StartOpts = {}): Promise<void> {
  if (opts.crypto) await client.initRustCrypto({ useIndexedDB: false });
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const prepared = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off(sdk.ClientEvent.Sync, onSync);
      reject(new Error(`${client.getUserId()}: sync state did not reach PREPARED within ${timeoutMs} ms (state ${client.getSyncState()})`));
    }, timeoutMs);
    const onSync = (state: sdk.SyncState, _prev: sdk.SyncState | null, data?: { error?: Error }): void => {
      if (state === sdk.SyncState.Prepared || state === sdk.SyncState.Syncing) {
        clearTimeout(timer);
        client.off(sdk.ClientEvent.Sync, onSync);
        resolve();
      } else if (state === sdk.SyncState.Error) {
        clearTimeout(timer);
        client.off(sdk.ClientEvent.Sync, onSync);
        reject(new Error(`${client.getUserId()}: sync ERROR: ${data?.error?.message ?? 'unknown'}`));
      }
    };
    client.on(sdk.ClientEvent.Sync, onSync);
  });
  await client.startClient({ initialSyncLimit: opts.initialSyncLimit ?? 20 });
  await prepared;
}

/**
 * Stops the sync loop, the crypto machine and in-flight requests, so the test process can exit.
 * Works around an SDK race (37.5.0, serverCapabilities.ts `poll`): a /capabilities request still
 * in flight at stopClient() fails (we abort it) and its catch arms a fresh 30-35 s retry timer
 * after stop() cleared the old one, which keeps Node alive. So: abort, let the aborted requests
 * settle, then stop that service once more.
 */
export async function stopClient(client: MatrixClient): Promise<void> {
  client.stopClient();
  client.http.abort();
  await new Promise((r) => setTimeout(r, 100));
  (client as unknown as { serverCapabilitiesService?: { stop(): void } }).serverCapabilitiesService?.stop();
}

/**
 * Polls `check` (every 20 ms and on every sync) until it returns a value other than
 * undefined/false/null; rejects after `timeoutMs` with `what` in the message (a function is
 * called at that moment, so it can report the last value seen).
 */
export async function waitUntil<T>(client: MatrixClient | null, what: string | (() => string), check: () => T | undefined | null | false, timeoutMs = 10_000): Promise<T> {
  const first = check();
  if (first !== undefined && first !== null && first !== false) return first;
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = (err: Error | null, v?: T): void => {
      if (done) return;
      done = true;
      clearInterval(interval);
      clearTimeout(timer);
      client?.off(sdk.ClientEvent.Sync, poll);
      if (err) reject(err);
      else resolve(v as T);
    };
    const poll = (): void => {
      try {
        const v = check();
        if (v !== undefined && v !== null && v !== false) finish(null, v);
      } catch (e) {
        finish(e as Error);
      }
    };
    const interval = setInterval(poll, 20);
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for: ${typeof what === 'function' ? what() : what}`)), timeoutMs);
    client?.on(sdk.ClientEvent.Sync, poll);
  });
}

/** Waits until the client knows the room (after a join or an invite arrives through sync). */
export function waitForRoom(client: MatrixClient, roomId: string, membership?: string, timeoutMs?: number): Promise<Room> {
  return waitUntil(client, `${client.getUserId()} sees room ${roomId}${membership ? ` as ${membership}` : ''}`, () => {
    const room = client.getRoom(roomId);
    if (!room) return undefined;
    if (membership && room.getMyMembership() !== membership) return undefined;
    return room;
  }, timeoutMs);
}

/**
 * Waits until an event matching `predicate` is in the room's live timeline (as delivered by
 * /sync). If the event is encrypted, waits until its decryption has finished (successfully or
 * not: the caller asserts on getClearContent()).
 */
export function waitForEvent(client: MatrixClient, roomId: string, predicate: (ev: MatrixEvent) => boolean, what = 'an event', timeoutMs?: number): Promise<MatrixEvent> {
  return waitUntil(client, `${client.getUserId()} sees ${what} in ${roomId}`, () => {
    const room = client.getRoom(roomId);
    if (!room) return undefined;
    const ev = room.getLiveTimeline().getEvents().find(predicate);
    if (!ev) return undefined;
    if (ev.isBeingDecrypted() || ev.shouldAttemptDecryption()) return undefined;
    return ev;
  }, timeoutMs);
}

/** Shorthand: an event by id. */
export function waitForEventId(client: MatrixClient, roomId: string, eventId: string, timeoutMs?: number): Promise<MatrixEvent> {
  return waitForEvent(client, roomId, (e) => e.getId() === eventId, `event ${eventId}`, timeoutMs);
}

/** Text bodies of m.room.message events in the live timeline, oldest first. */
export function timelineBodies(client: MatrixClient, roomId: string): string[] {
  const room = client.getRoom(roomId);
  if (!room) return [];
  return room
    .getLiveTimeline()
    .getEvents()
    .filter((e) => e.getType() === 'm.room.message')
    .map((e) => String(e.getContent().body ?? ''));
}

/** Password UIA dict for the given user (for deleteDevice etc.). */
export function passwordAuth(user: { username: string; password: string }, session?: string): sdk.AuthDict {
  return { type: 'm.login.password', identifier: { type: 'm.id.user', user: user.username }, password: user.password, ...(session ? { session } : {}) } as sdk.AuthDict;
}

/**
 * Runs a UIA-protected call: first without auth (expects 401 with a session), then with `auth`
 * built for that session. Returns the final result.
 */
export async function withUia<T>(call: (auth?: sdk.AuthDict) => Promise<T>, auth: (session?: string) => sdk.AuthDict): Promise<T> {
  try {
    return await call(undefined);
  } catch (e) {
    if (!isUiaChallenge(e)) throw e;
    return call(auth(e.data.session));
  }
}

/** Whether the server has this client-server endpoint wired (answers other than 404/405 M_UNRECOGNIZED). */
export async function endpointExists(baseUrl: string, method: string, path: string, body?: unknown): Promise<boolean> {
  const res = await fetch(baseUrl + path, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status === 404 || res.status === 405) {
    try {
      return JSON.parse(text).errcode !== 'M_UNRECOGNIZED';
    } catch {
      return false;
    }
  }
  return true;
}
