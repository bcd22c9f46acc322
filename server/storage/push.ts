/**
 * Storage of push notifications (spec client-server "Push Notifications"; pushrules.yaml,
 * pusher.yaml, notifications.yaml): a user's own push rules in priority order, their changes to
 * the server-default rules, the push actions stored per (user, event) for unread counts and
 * /notifications, and HTTP pushers. Implemented by sqljs/push.ts; migration 0007-push.sql.
 */
import type { DefaultRuleOverride } from '../core/push/default-rules.ts';
import type { PushAction, PushRule, RuleKind } from '../core/push/evaluate.ts';

/** A user's stored rules: user rules per kind, most important first; default-rule changes keyed `kind/rule_id`. */
export interface UserPushRules {
  user: Record<RuleKind, PushRule[]>;
  defaults: Map<string, DefaultRuleOverride>;
}

export interface PushActionRow {
  userId: string;
  roomId: string;
  eventId: string;
  /** Stream position of the event. */
  position: number;
  /** '' for the main timeline, else the thread root's event id. */
  threadId: string;
  notify: boolean;
  highlight: boolean;
  actions: PushAction[];
  ts: number;
}

/** A push action about to be stored with its event, which gets its stream position in the same
 * write; the position names the event, so the event id is not stored. */
export type NewPushAction = Omit<PushActionRow, 'position' | 'eventId'>;

export interface UnreadCount {
  threadId: string;
  notify: number;
  highlight: number;
  /** Stream position of the newest row counted. */
  lastPosition: number;
}

export interface PusherRow {
  userId: string;
  appId: string;
  pushkey: string;
  kind: string;
  deviceId: string | null;
  appDisplayName: string;
  deviceDisplayName: string;
  profileTag: string | null;
  lang: string;
  data: Record<string, unknown>;
  /** Milliseconds since the epoch when the pushkey was last set. */
  pushkeyTs: number;
}

export interface PushStore {
  // Rules.
  /** The user's stored rules (empty lists and map when they changed nothing). */
  userRules(userId: string): UserPushRules;
  /**
   * Read-modify-write of a user's rules in one transaction; `update` is synchronous and may throw
   * (nothing is written). The new rules replace the old, and `m.push_rules` global account data
   * is set to `accountData(next)` with a fresh stream position, which the promise resolves with.
   */
  updateUserRules(
    userId: string,
    update: (current: UserPushRules) => UserPushRules,
    accountData: (next: UserPushRules) => Record<string, unknown>,
  ): Promise<{ rules: UserPushRules; position: number }>;

  // Push actions (written in their event's own write: sqljs/push.ts insertPushActions).
  /** Notifying rows after `after` in a room, counted per thread ('' = main timeline). */
  unreadByThread(userId: string, roomId: string, after: number, upTo: number): UnreadCount[];
  /** Notifying rows after `after` in one thread of a room. */
  unreadInThread(userId: string, roomId: string, threadId: string, after: number, upTo: number): { notify: number; highlight: number };
  /** Rooms where the user has any notifying rows after `minPosition`. */
  roomsWithNotifications(userId: string, minPosition: number): string[];
  /** Notifying rows newest first, strictly before position `before` (all when null). */
  notifications(userId: string, opts: { before: number | null; limit: number; onlyHighlight: boolean }): PushActionRow[];

  // Pushers.
  pushers(userId: string): PusherRow[];
  /** Creates or replaces the (appId, pushkey, userId) pusher; without `append`, removes the same
   * (appId, pushkey) for other users. */
  setPusher(p: PusherRow, append: boolean): Promise<void>;
  /** Removes one pusher; resolves with whether it existed. */
  deletePusher(userId: string, appId: string, pushkey: string): Promise<boolean>;
  /** Removes the pushers of a device (when the device or its token goes away). */
  deletePushersForDevice(userId: string, deviceId: string): Promise<void>;
  /** Removes all the user's pushers (account deactivation). */
  deletePushersForUser(userId: string): Promise<void>;
}
