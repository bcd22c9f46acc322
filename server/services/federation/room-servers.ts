/**
 * The servers behind a set of users (spec: server-server "Room Servers"): which other servers to
 * send a room's events and EDUs to, and which to ask for a room (directory queries, backfill).
 */
import { userIdServerName } from '../../core/ids.ts';

/** The servers of `users`, except `ourServer`. */
export function remoteServersOf(ourServer: string, users: Iterable<string>): Set<string> {
  const servers = new Set<string>();
  for (const u of users) {
    const s = userIdServerName(u);
    if (s !== undefined && s !== ourServer) servers.add(s);
  }
  return servers;
}

/** Servers of the room's joined members, ours first, then by member count (likeliest to be up). */
export function residentServers(ourServer: string, joined: Iterable<string>): string[] {
  const counts = new Map<string, number>();
  for (const u of joined) {
    const s = userIdServerName(u);
    if (s !== undefined) counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  counts.delete(ourServer);
  return [ourServer, ...[...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([s]) => s)];
}
