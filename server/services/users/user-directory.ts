/**
 * User directory search (client-server users.yaml): local users whose user id or display name
 * contains the search term (case-insensitive), limited to users the searcher can see: those
 * sharing a room with them and those joined to public (join rule `public`) or world-readable
 * rooms. Ranked: exact and prefix matches first, then users with a display name, then by id.
 */
import type { DirectoryEntry, SyncDataStore } from '../../storage/sync-data.ts';

export const DEFAULT_SEARCH_LIMIT = 10;
export const MAX_SEARCH_LIMIT = 100;
/** Candidates read before visibility filtering; searches are for people, not bulk export. */
const CANDIDATES = 2000;

export interface UserDirectoryDeps {
  store: Pick<SyncDataStore, 'searchProfiles' | 'usersInPublicRooms'>;
  /** RoomsReader.usersSharingRoomsWith. */
  usersSharingRoomsWith(userId: string): Set<string>;
}

export interface UserDirectoryResult {
  results: { user_id: string; display_name?: string; avatar_url?: string }[];
  limited: boolean;
}

export interface UserDirectoryService {
  search(requesterId: string, term: string, limit?: number): UserDirectoryResult;
}

function rank(e: DirectoryEntry, term: string): number {
  const id = e.userId.toLowerCase();
  const localpart = id.slice(1, id.indexOf(':') >= 0 ? id.indexOf(':') : undefined);
  const name = e.displayname?.toLowerCase() ?? '';
  if (localpart === term || name === term) return 0;
  if (localpart.startsWith(term) || name.startsWith(term) || name.split(/\s+/).some((w) => w.startsWith(term))) return 1;
  return 2;
}

export function createUserDirectory(deps: UserDirectoryDeps): UserDirectoryService {
  return {
    search(requesterId, term, limit) {
      const max = Math.max(1, Math.min(limit ?? DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT));
      const t = term.trim().toLowerCase();
      if (t === '') return { results: [], limited: false };
      const candidates = deps.store.searchProfiles(t, CANDIDATES);
      if (candidates.length === 0) return { results: [], limited: false };
      const shared = deps.usersSharingRoomsWith(requesterId);
      let publicUsers: Set<string> | null = null;
      const visible = candidates.filter((c) => {
        if (c.userId === requesterId || shared.has(c.userId)) return true;
        publicUsers ??= deps.store.usersInPublicRooms();
        return publicUsers.has(c.userId);
      });
      visible.sort(
        (a, b) =>
          rank(a, t) - rank(b, t) ||
          Number(b.displayname !== null) - Number(a.displayname !== null) ||
          (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0),
      );
      const results = visible.slice(0, max).map((e) => {
        const r: UserDirectoryResult['results'][number] = { user_id: e.userId };
        if (e.displayname !== null) r.display_name = e.displayname;
        if (e.avatarUrl !== null) r.avatar_url = e.avatarUrl;
        return r;
      });
      return { results, limited: visible.length > max };
    },
  };
}
