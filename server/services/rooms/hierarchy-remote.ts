/**
 * Asking other servers for the part of a space tree this server is not in (spec: server-server
 * space_hierarchy.yaml, GET /_matrix/federation/v1/hierarchy/{roomId}; client-server
 * modules/spaces.md "Server behaviour"). Used by hierarchy.ts while walking for a local user: the
 * servers of a child's `via` are tried in turn (at most three, short timeout, as Synapse does);
 * the first well-formed answer wins and any failure just means "no answer". Answers are untrusted:
 * each room summary keeps only the room_summary.yaml fields with the right types, and malformed
 * children or child events are dropped one by one rather than failing the whole answer.
 */
import { z } from '../../validation/schema.ts';
import type { ChildStateEvent, HierarchyRoom } from './hierarchy.ts';

/** The transport: one signed GET of /hierarchy/{roomId} to `server` (wired to the federation client). */
export interface RemoteHierarchySource {
  /** Our server name: never asked, a `via` naming us is skipped. */
  serverName: string;
  request(server: string, roomId: string, suggestedOnly: boolean, timeoutMs: number): Promise<unknown>;
}

/** A parsed federation answer: the room, its children's summaries by room id, and the children the remote says we cannot see. */
export interface RemoteHierarchy {
  room: HierarchyRoom;
  children: Map<string, HierarchyRoom>;
  inaccessible: Set<string>;
}

/** Synapse's MAX_SERVERS_PER_SPACE. */
const MAX_SERVERS_PER_ROOM = 3;
/** Per server: a dead server must not hold a client's /hierarchy for long. */
const REMOTE_TIMEOUT_MS = 5_000;

const nonEmpty = z.string().min(1);
const childEvent = z.object({
  type: z.literal('m.space.child'),
  state_key: nonEmpty,
  content: z.record(z.string(), z.unknown()),
  sender: z.string(),
  origin_server_ts: z.number(),
});
const roomSummary = z.object({
  room_id: nonEmpty,
  num_joined_members: z.number().int().nonnegative(),
  world_readable: z.boolean(),
  guest_can_join: z.boolean(),
  name: nonEmpty.optional().catch(undefined),
  topic: nonEmpty.optional().catch(undefined),
  avatar_url: nonEmpty.optional().catch(undefined),
  canonical_alias: nonEmpty.optional().catch(undefined),
  join_rule: nonEmpty.optional().catch(undefined),
  room_type: nonEmpty.optional().catch(undefined),
  allowed_room_ids: z.array(z.string()).optional().catch(undefined),
  encryption: nonEmpty.optional().catch(undefined),
  room_version: nonEmpty.optional().catch(undefined),
  children_state: z.array(z.unknown()).catch([]).default([]),
});
const response = z.object({
  room: z.unknown(),
  children: z.array(z.unknown()).catch([]).default([]),
  inaccessible_children: z.array(z.string()).catch([]).default([]),
});

/** A room summary from a remote, or undefined if it is unusable. */
function parseRemoteRoom(raw: unknown): HierarchyRoom | undefined {
  const r = roomSummary.safeParse(raw);
  if (!r.success) return undefined;
  const children: ChildStateEvent[] = [];
  for (const c of r.data.children_state) {
    const ev = childEvent.safeParse(c);
    if (ev.success) children.push(ev.data);
  }
  // Optional fields that failed to parse are undefined, which JSON leaves out.
  return { ...r.data, children_state: children };
}

/** The hierarchy of `roomId` from the first server in `via` that gives a usable answer. */
export async function fetchRemoteHierarchy(
  source: RemoteHierarchySource,
  roomId: string,
  via: readonly string[],
  suggestedOnly: boolean,
  /** Date.now() by which every server must have answered (the client request's budget). */
  deadline: number,
): Promise<RemoteHierarchy | undefined> {
  const servers = [...new Set(via)].filter((s) => s !== source.serverName).slice(0, MAX_SERVERS_PER_ROOM);
  for (const server of servers) {
    // The whole client request shares one budget (dead `via` servers must not add up).
    const timeoutMs = Math.min(REMOTE_TIMEOUT_MS, deadline - Date.now());
    if (timeoutMs <= 0) return undefined;
    let raw: unknown;
    try {
      raw = await source.request(server, roomId, suggestedOnly, timeoutMs);
    } catch {
      continue; // Unreachable, timed out, refused, or 404: try the next server.
    }
    const body = response.safeParse(raw);
    const room = body.success ? parseRemoteRoom(body.data.room) : undefined;
    if (!body.success || !room || room.room_id !== roomId) continue;
    const children = new Map<string, HierarchyRoom>();
    for (const c of body.data.children) {
      const child = parseRemoteRoom(c);
      if (child && child.room_id !== roomId) children.set(child.room_id, child);
    }
    return { room, children, inaccessible: new Set(body.data.inaccessible_children) };
  }
  return undefined;
}
