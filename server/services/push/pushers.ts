/**
 * HTTP pushers (spec client-server "Push Notifications" → pusher.yaml; push-gateway-api.md,
 * push-gateway/push_notifier.yaml). POST /pushers/set creates, replaces (`append`) or deletes
 * (`kind: null`) a pusher; each notifying event is POSTed to every pusher's `data.url`
 * (`/_matrix/push/v1/notify`) with the spec's notification body, one device per request.
 *
 * Delivery: one request in flight per pusher, in order; network errors, 5xx and 429 are retried
 * with exponential backoff up to a bounded number of attempts ("retry for a reasonable amount of
 * time"), other 4xx drop that notification; pushkeys the gateway lists as `rejected` lose their
 * pusher. The queue is in memory: a restart drops undelivered pokes (counts stay in storage).
 */
import { MatrixError, invalidParam } from '../../errors.ts';
import { errorText } from '../../error-text.ts';
import type { StoredPdu } from '../../core/events/types.ts';
import type { PushVerdict } from '../../core/push/evaluate.ts';
import type { PushStore, PusherRow } from '../../storage/push.ts';

export interface PushersDeps {
  store: PushStore;
  /** Unread notifications across rooms (services/push/counts.ts totalUnread). */
  totalUnread(userId: string): number;
  rooms: {
    displayName(roomId: string, userId: string): string | null;
    roomName(roomId: string): string | null;
    canonicalAlias?(roomId: string): string | null;
  };
  now(): number;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  log?: (level: 'info' | 'warn', message: string, fields?: Record<string, unknown>) => void;
  retry?: { initialMs?: number; maxMs?: number; attempts?: number };
  requestTimeoutMs?: number;
  /** Pending pokes kept per pusher; the oldest are dropped beyond it. */
  maxQueue?: number;
}

/** POST /pushers/set body, validated at the edge. */
export interface SetPusherRequest {
  kind: string | null;
  app_id: string;
  pushkey: string;
  app_display_name?: string;
  device_display_name?: string;
  profile_tag?: string;
  lang?: string;
  data?: Record<string, unknown>;
  append?: boolean;
}

export interface PusherWire {
  pushkey: string;
  kind: string;
  app_id: string;
  app_display_name: string;
  device_display_name: string;
  profile_tag?: string;
  lang: string;
  data: Record<string, unknown>;
}

const NOTIFY_PATH = '/_matrix/push/v1/notify';

interface Queue {
  pusher: PusherRow;
  items: Record<string, unknown>[];
  busy: boolean;
}

export class Pushers {
  private readonly queues = new Map<string, Queue>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inflight = new Set<AbortController>();
  private stopped = false;
  private readonly fetchFn: typeof fetch;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly attempts: number;

  constructor(private readonly deps: PushersDeps) {
    this.fetchFn = deps.fetch ?? fetch;
    this.initialMs = deps.retry?.initialMs ?? 1000;
    this.maxMs = deps.retry?.maxMs ?? 60_000;
    this.attempts = deps.retry?.attempts ?? 8;
  }

  /** GET /pushers */
  list(userId: string): PusherWire[] {
    return this.deps.store.pushers(userId).map((p) => {
      const w: PusherWire = {
        pushkey: p.pushkey,
        kind: p.kind,
        app_id: p.appId,
        app_display_name: p.appDisplayName,
        device_display_name: p.deviceDisplayName,
        lang: p.lang,
        data: p.data,
      };
      if (p.profileTag !== null) w.profile_tag = p.profileTag;
      return w;
    });
  }

  /** POST /pushers/set */
  async set(userId: string, deviceId: string | null, req: SetPusherRequest): Promise<void> {
    if (req.kind === null) {
      await this.deps.store.deletePusher(userId, req.app_id, req.pushkey);
      this.queues.delete(queueKey(userId, req.app_id, req.pushkey));
      return;
    }
    const missing = (['app_display_name', 'device_display_name', 'lang', 'data'] as const).filter((k) => req[k] === undefined);
    if (missing.length > 0) throw new MatrixError(400, 'M_MISSING_PARAM', `Missing parameters: ${missing.join(', ')}`);
    if (req.kind !== 'http') throw invalidParam(`Unsupported pusher kind: ${req.kind}`);
    const url = req.data!.url;
    if (typeof url !== 'string') throw new MatrixError(400, 'M_MISSING_PARAM', "'url' is required in data for an http pusher");
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw invalidParam("'url' must be a valid URL");
    }
    if ((parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || parsed.pathname !== NOTIFY_PATH) {
      throw invalidParam(`'url' must be an http(s) URL with the path ${NOTIFY_PATH}`);
    }
    const row: PusherRow = {
      userId,
      appId: req.app_id,
      pushkey: req.pushkey,
      kind: req.kind,
      deviceId,
      appDisplayName: req.app_display_name!,
      deviceDisplayName: req.device_display_name!,
      profileTag: req.profile_tag ?? null,
      lang: req.lang!,
      data: req.data!,
      pushkeyTs: this.deps.now(),
    };
    await this.deps.store.setPusher(row, req.append ?? false);
    const q = this.queues.get(queueKey(userId, row.appId, row.pushkey));
    if (q) q.pusher = row;
  }

  /** Called for each (user, event) that notified (services/push/counts.ts onNotified). */
  onNotified(userId: string, pdu: StoredPdu, verdict: PushVerdict): void {
    if (this.stopped) return;
    const pushers = this.deps.store.pushers(userId).filter((p) => p.kind === 'http');
    if (pushers.length === 0) return;
    const unread = this.deps.totalUnread(userId);
    for (const p of pushers) this.enqueue(p, this.body(p, userId, pdu, verdict, unread));
  }

  /** A device was deleted or logged out: its pushers go with it (as in Synapse). */
  async onDeviceDeleted(userId: string, deviceId: string): Promise<void> {
    for (const p of this.deps.store.pushers(userId)) if (p.deviceId === deviceId) this.queues.delete(queueKey(userId, p.appId, p.pushkey));
    await this.deps.store.deletePushersForDevice(userId, deviceId);
  }

  /** Bus 'userDeactivated': a deactivated account keeps no pushers. */
  async onUserDeactivated(userId: string): Promise<void> {
    for (const p of this.deps.store.pushers(userId)) this.queues.delete(queueKey(userId, p.appId, p.pushkey));
    await this.deps.store.deletePushersForUser(userId);
  }

  /** Cancels retries and in-flight requests (homeserver shutdown). */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.inflight) c.abort();
    this.queues.clear();
  }

  /** The /notify request body for one pusher (push_notifier.yaml). */
  body(p: PusherRow, userId: string, pdu: StoredPdu, verdict: PushVerdict, unread: number): Record<string, unknown> {
    const { url: _url, ...data } = p.data;
    const device: Record<string, unknown> = {
      app_id: p.appId,
      pushkey: p.pushkey,
      pushkey_ts: Math.floor(p.pushkeyTs / 1000),
      data,
      tweaks: { ...verdict.tweaks },
    };
    const counts: Record<string, number> = {};
    if (unread > 0) counts.unread = unread;
    const roomId = pdu.room_id ?? '';
    // High priority when the user should be alerted now (Synapse's rule): sound, highlight or encrypted.
    const prio = verdict.tweaks.sound !== undefined || verdict.highlight || pdu.type === 'm.room.encrypted' ? 'high' : 'low';
    const n: Record<string, unknown> = { event_id: pdu.event_id, room_id: roomId, counts, prio, devices: [device] };
    if (data.format !== 'event_id_only') {
      n.type = pdu.type;
      n.sender = pdu.sender;
      const senderName = this.deps.rooms.displayName(roomId, pdu.sender);
      if (senderName) n.sender_display_name = senderName;
      const roomName = this.deps.rooms.roomName(roomId);
      if (roomName) n.room_name = roomName;
      const alias = this.deps.rooms.canonicalAlias?.(roomId);
      if (alias) n.room_alias = alias;
      if (pdu.type === 'm.room.member') n.user_is_target = pdu.state_key === userId;
      if (pdu.content && Object.keys(pdu.content).length > 0) n.content = pdu.content;
    }
    return { notification: n };
  }

  private enqueue(p: PusherRow, body: Record<string, unknown>): void {
    const key = queueKey(p.userId, p.appId, p.pushkey);
    let q = this.queues.get(key);
    if (!q) this.queues.set(key, (q = { pusher: p, items: [], busy: false }));
    q.items.push(body);
    const max = this.deps.maxQueue ?? 100;
    if (q.items.length > max) q.items.splice(0, q.items.length - max);
    if (!q.busy) void this.drain(key, q);
  }

  private async drain(key: string, q: Queue): Promise<void> {
    q.busy = true;
    try {
      while (!this.stopped && q.items.length > 0 && this.queues.get(key) === q) {
        const body = q.items[0]!;
        const outcome = await this.deliver(q, body);
        if (outcome === 'rejected') {
          this.queues.delete(key);
          await this.deps.store.deletePusher(q.pusher.userId, q.pusher.appId, q.pusher.pushkey);
          this.deps.log?.('info', 'push gateway rejected pushkey; pusher removed', { appId: q.pusher.appId, userId: q.pusher.userId });
          return;
        }
        q.items.shift();
      }
    } catch (err) {
      this.deps.log?.('warn', 'pusher queue failed', { error: errorText(err) });
    } finally {
      q.busy = false;
    }
  }

  /** Sends one notification with retries; 'rejected' when the gateway rejected this pushkey. */
  private async deliver(q: Queue, body: Record<string, unknown>): Promise<'done' | 'rejected' | 'dropped'> {
    let delay = this.initialMs;
    for (let attempt = 1; attempt <= this.attempts && !this.stopped; attempt++) {
      const url = String(q.pusher.data.url);
      const ctl = new AbortController();
      this.inflight.add(ctl);
      const timer = setTimeout(() => ctl.abort(), this.deps.requestTimeoutMs ?? 10_000);
      let status = 0;
      let json: unknown;
      try {
        const res = await this.fetchFn(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
          signal: ctl.signal,
          redirect: 'error',
        });
        status = res.status;
        json = await res.json().catch(() => undefined);
      } catch {
        status = 0;
      } finally {
        clearTimeout(timer);
        this.inflight.delete(ctl);
      }
      if (status >= 200 && status < 300) {
        const rejected = (json as { rejected?: unknown } | undefined)?.rejected;
        return Array.isArray(rejected) && rejected.includes(q.pusher.pushkey) ? 'rejected' : 'done';
      }
      if (status >= 400 && status < 500 && status !== 429) {
        this.deps.log?.('warn', 'push gateway refused a notification', { status, appId: q.pusher.appId });
        return 'dropped';
      }
      if (attempt === this.attempts || this.stopped) break;
      await this.sleep(delay);
      delay = Math.min(delay * 2, this.maxMs);
    }
    this.deps.log?.('warn', 'push gateway unreachable; notification dropped', { appId: q.pusher.appId });
    return 'dropped';
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      t.unref();
      this.timers.add(t);
    });
  }
}

function queueKey(userId: string, appId: string, pushkey: string): string {
  return `${userId}\u0000${appId}\u0000${pushkey}`;
}
