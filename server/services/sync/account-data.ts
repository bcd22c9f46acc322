/**
 * Account data (client-server account-data.yaml, modules/account_data.md) and room tags
 * (tags.yaml, modules/tags.md; stored as room account data of type `m.tag`). Also the sync source
 * for the top-level and per-room `account_data` sections. Server-managed types (`m.fully_read`,
 * `m.push_rules`) cannot be set by clients (405 M_BAD_JSON); the server sets them through `put`.
 */
import { MatrixError, forbidden, notFound } from '../../errors.ts';
import { byteLength, isValidRoomId } from '../../core/ids.ts';
import type { SyncDataStore } from '../../storage/sync-data.ts';
import type { Notifier } from './notifier.ts';
import type { AccountDataSource, BasicEvent, SyncWindow } from './sources.ts';

/** Types only the server writes (modules/account_data.md "Server Behaviour"). */
export const SERVER_MANAGED_TYPES: ReadonlySet<string> = new Set(['m.fully_read', 'm.push_rules']);

export const MAX_TAG_BYTES = 255;

export interface AccountDataService extends AccountDataSource {
  /** Client API: GET (404 when unset). */
  get(requesterId: string, userId: string, roomId: string | null, type: string): Record<string, unknown>;
  /** Client API: PUT (server-managed types refused). */
  set(requesterId: string, userId: string, roomId: string | null, type: string, content: Record<string, unknown>): Promise<void>;
  /** Server-side writes (m.fully_read from read markers, m.push_rules from push rules). */
  put(userId: string, roomId: string | null, type: string, content: Record<string, unknown>): Promise<void>;
  /** Users in the user's m.ignored_user_list (spec modules/ignore_users.md). */
  ignoredUsers(userId: string): ReadonlySet<string>;
  getTags(requesterId: string, userId: string, roomId: string): Record<string, Record<string, unknown>>;
  setTag(requesterId: string, userId: string, roomId: string, tag: string, body: Record<string, unknown>): Promise<void>;
  deleteTag(requesterId: string, userId: string, roomId: string, tag: string): Promise<void>;
}

export function createAccountDataService(deps: { store: SyncDataStore; notifier: Notifier }): AccountDataService {
  const { store, notifier } = deps;

  const checkAccess = (requesterId: string, userId: string, roomId: string | null): void => {
    if (requesterId !== userId) throw forbidden('Cannot access account data of other users.');
    if (roomId !== null && !isValidRoomId(roomId)) throw new MatrixError(400, 'M_INVALID_PARAM', `${roomId} is not a valid room ID.`);
  };

  const announce = (position: number | null, userId: string): void => {
    if (position !== null) notifier.notify(position, [userId]);
  };

  const put = async (userId: string, roomId: string | null, type: string, content: Record<string, unknown>): Promise<void> => {
    announce(await store.putAccountData(userId, roomId, type, content), userId);
  };

  const tagsOf = (content: Record<string, unknown> | undefined): Record<string, Record<string, unknown>> => {
    const tags = content?.tags;
    return tags !== null && typeof tags === 'object' && !Array.isArray(tags) ? (tags as Record<string, Record<string, unknown>>) : {};
  };

  return {
    changes(w: SyncWindow) {
      const global: BasicEvent[] = [];
      const rooms = new Map<string, BasicEvent[]>();
      for (const row of store.accountDataChanges(w.userId, w.since, w.upTo)) {
        const ev = { type: row.type, content: row.content };
        if (row.roomId === null) global.push(ev);
        else {
          let list = rooms.get(row.roomId);
          if (!list) rooms.set(row.roomId, (list = []));
          list.push(ev);
        }
      }
      return { global, rooms };
    },

    get(requesterId, userId, roomId, type) {
      checkAccess(requesterId, userId, roomId);
      const content = store.getAccountData(userId, roomId, type);
      if (!content) throw notFound(roomId === null ? 'Account data not found.' : 'Room account data not found.');
      return content;
    },

    async set(requesterId, userId, roomId, type, content) {
      checkAccess(requesterId, userId, roomId);
      if (SERVER_MANAGED_TYPES.has(type)) throw new MatrixError(405, 'M_BAD_JSON', `Cannot set ${type} through this API.`);
      await put(userId, roomId, type, content);
    },

    put,

    ignoredUsers(userId) {
      const ignored = store.getAccountData(userId, null, 'm.ignored_user_list')?.ignored_users;
      return new Set(ignored !== null && typeof ignored === 'object' && !Array.isArray(ignored) ? Object.keys(ignored) : []);
    },

    getTags(requesterId, userId, roomId) {
      checkAccess(requesterId, userId, roomId);
      return tagsOf(store.getAccountData(userId, roomId, 'm.tag'));
    },

    async setTag(requesterId, userId, roomId, tag, body) {
      checkAccess(requesterId, userId, roomId);
      if (tag.length === 0 || byteLength(tag) > MAX_TAG_BYTES) {
        throw new MatrixError(400, 'M_INVALID_PARAM', `Tag names must be 1 to ${MAX_TAG_BYTES} bytes.`);
      }
      if ('order' in body) {
        const order = body.order;
        if (typeof order !== 'number' || !Number.isFinite(order) || order < 0 || order > 1) {
          throw new MatrixError(400, 'M_INVALID_PARAM', 'Tag order must be a number between 0 and 1.');
        }
      }
      const pos = await store.updateAccountData(userId, roomId, 'm.tag', (current) => ({
        ...current,
        tags: { ...tagsOf(current), [tag]: body },
      }));
      announce(pos, userId);
    },

    async deleteTag(requesterId, userId, roomId, tag) {
      checkAccess(requesterId, userId, roomId);
      const pos = await store.updateAccountData(userId, roomId, 'm.tag', (current) => {
        const tags = tagsOf(current);
        if (!(tag in tags)) return null;
        const { [tag]: _removed, ...rest } = tags;
        return { ...current, tags: rest };
      });
      announce(pos, userId);
    },
  };
}
