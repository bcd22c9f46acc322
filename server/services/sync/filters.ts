/**
 * Sync filters (client-server filter.yaml; definitions/sync_filter.yaml, room_event_filter.yaml,
 * event_filter.yaml; prose "Filtering"): the schema a filter must satisfy, storage of uploaded
 * filters, resolution of /sync's `filter` parameter (inline JSON or a stored id), and the matching
 * rules (`*` wildcards in types, not_* winning over the allow lists, contains_url, event_fields).
 */
import { z } from '../../validation/schema.ts';
import { MatrixError, badJson, forbidden, notFound } from '../../errors.ts';
import type { SyncDataStore } from '../../storage/sync-data.ts';

const stringList = z.array(z.string());

export const eventFilterSchema = z.looseObject({
  limit: z.number().int().positive().optional(),
  types: stringList.optional(),
  not_types: stringList.optional(),
  senders: stringList.optional(),
  not_senders: stringList.optional(),
});

export const roomEventFilterSchema = eventFilterSchema.extend({
  rooms: stringList.optional(),
  not_rooms: stringList.optional(),
  contains_url: z.boolean().optional(),
  lazy_load_members: z.boolean().optional(),
  include_redundant_members: z.boolean().optional(),
  unread_thread_notifications: z.boolean().optional(),
});

export const syncFilterSchema = z.looseObject({
  event_fields: stringList.optional(),
  event_format: z.enum(['client', 'federation']).optional(),
  presence: eventFilterSchema.optional(),
  account_data: eventFilterSchema.optional(),
  room: z
    .looseObject({
      rooms: stringList.optional(),
      not_rooms: stringList.optional(),
      include_leave: z.boolean().optional(),
      ephemeral: roomEventFilterSchema.optional(),
      state: roomEventFilterSchema.optional(),
      timeline: roomEventFilterSchema.optional(),
      account_data: roomEventFilterSchema.optional(),
    })
    .optional(),
});

export type EventFilterSpec = z.infer<typeof eventFilterSchema>;
export type RoomEventFilterSpec = z.infer<typeof roomEventFilterSchema>;
export type SyncFilter = z.infer<typeof syncFilterSchema>;

/** Timeline limit when the filter gives none (Synapse's default), and the most we ever return. */
export const DEFAULT_TIMELINE_LIMIT = 10;
export const MAX_TIMELINE_LIMIT = 500;

/** `*` matches any sequence of characters; everything else literally. */
function typeMatches(pattern: string, type: string): boolean {
  if (!pattern.includes('*')) return pattern === type;
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(type);
}

export interface FilterableEvent {
  type: string;
  sender?: string;
  content?: Record<string, unknown>;
}

/** Whether an event passes an EventFilter / RoomEventFilter (rooms are checked separately). */
export function eventMatches(f: (EventFilterSpec & { contains_url?: boolean }) | undefined, ev: FilterableEvent): boolean {
  if (!f) return true;
  if (f.not_types?.some((p) => typeMatches(p, ev.type))) return false;
  if (f.types && !f.types.some((p) => typeMatches(p, ev.type))) return false;
  if (ev.sender !== undefined) {
    if (f.not_senders?.includes(ev.sender)) return false;
    if (f.senders && !f.senders.includes(ev.sender)) return false;
  }
  if (f.contains_url !== undefined) {
    const hasUrl = typeof ev.content?.url === 'string';
    if (hasUrl !== f.contains_url) return false;
  }
  return true;
}

/** Whether a room passes the rooms / not_rooms lists of a RoomFilter or RoomEventFilter. */
export function roomMatches(f: { rooms?: string[]; not_rooms?: string[] } | undefined, roomId: string): boolean {
  if (!f) return true;
  if (f.not_rooms?.includes(roomId)) return false;
  if (f.rooms && !f.rooms.includes(roomId)) return false;
  return true;
}

/** Splits a dot-separated property path (appendices "Dot-separated property paths": `\.` and `\\` escapes). */
function splitPath(path: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    if (c === '\\' && (path[i + 1] === '.' || path[i + 1] === '\\')) {
      cur += path[i + 1];
      i++;
    } else if (c === '.') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

/** Keeps only the listed fields of an event (filter `event_fields`); no list keeps everything. */
export function projectEventFields<T extends object>(ev: T, fields: string[] | undefined): T {
  if (!fields) return ev;
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const path = splitPath(f);
    let src: unknown = ev;
    for (const p of path) {
      src = src !== null && typeof src === 'object' && !Array.isArray(src) ? (src as Record<string, unknown>)[p] : undefined;
    }
    if (src === undefined) continue;
    let dst = out;
    for (const p of path.slice(0, -1)) {
      const next = dst[p];
      dst = (next !== null && typeof next === 'object' ? next : (dst[p] = {})) as Record<string, unknown>;
    }
    dst[path[path.length - 1]!] = src;
  }
  return out as T;
}

export function timelineLimit(f: SyncFilter): number {
  return Math.min(f.room?.timeline?.limit ?? DEFAULT_TIMELINE_LIMIT, MAX_TIMELINE_LIMIT);
}

/** Parses and checks a filter definition (POST body or inline /sync parameter). */
export function validateFilter(value: unknown): SyncFilter {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badJson('Filter must be a JSON object');
  const r = syncFilterSchema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw badJson(`Invalid filter: ${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`);
  }
  return r.data;
}

export interface FilterService {
  create(requesterId: string, userId: string, filter: SyncFilter): Promise<string>;
  get(requesterId: string, userId: string, filterId: string): SyncFilter;
  /** /sync's `filter` query parameter: inline JSON when it starts with `{`, else a stored id. */
  resolve(userId: string, param: string | undefined): SyncFilter;
}

export function createFilterService(store: Pick<SyncDataStore, 'createFilter' | 'getFilter'>): FilterService {
  const own = (requesterId: string, userId: string, verb: string): void => {
    if (requesterId !== userId) throw forbidden(`Cannot ${verb} filters for other users`);
  };
  return {
    async create(requesterId, userId, filter) {
      own(requesterId, userId, 'create');
      return store.createFilter(userId, JSON.stringify(filter));
    },
    get(requesterId, userId, filterId) {
      own(requesterId, userId, 'get');
      const json = store.getFilter(userId, filterId);
      if (json === undefined) throw notFound('No such filter');
      return JSON.parse(json) as SyncFilter;
    },
    resolve(userId, param) {
      if (param === undefined || param === '') return {};
      if (param.trimStart().startsWith('{')) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(param);
        } catch {
          throw badJson('Filter is not valid JSON');
        }
        return validateFilter(parsed);
      }
      const json = store.getFilter(userId, param);
      if (json === undefined) throw new MatrixError(400, 'M_INVALID_PARAM', `No filter with id ${param}`);
      return JSON.parse(json) as SyncFilter;
    },
  };
}
