/**
 * Room server ACLs (spec: client-server "Server Access Control Lists (ACLs) for rooms",
 * m.room.server_acl; server-server "Server Access Control Lists (ACLs)"): whether a server may
 * take part in a room. Checked for the origin of every PDU and room EDU of a transaction and for
 * every room-scoped federation request. `*` and `?` are globs; server names compare without port.
 */
import { stateMapKey, type JsonObject, type StoredPdu } from '../../../core/events/types.ts';

/** Whether `serverName` may participate under the ACL `content` (no ACL event: everyone may). */
function serverAllowedByAcl(content: JsonObject | undefined, serverName: string): boolean {
  if (!content) return true;
  const host = hostOf(serverName);
  // IP literals (IPv4 dotted quad or bracketed IPv6) are refused unless allow_ip_literals is true.
  const isIpLiteral = /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.startsWith('[');
  if (isIpLiteral && content.allow_ip_literals === false) return false;
  const globs = (v: unknown): RegExp[] => (Array.isArray(v) ? v.filter((g): g is string => typeof g === 'string').map(globToRegExp) : []);
  if (globs(content.deny).some((g) => g.test(host))) return false;
  return globs(content.allow).some((g) => g.test(host));
}

/** Whether `serverName` may participate in a room with this current state (unknown room: yes). */
export function roomAllowsServer(state: ReadonlyMap<string, StoredPdu> | undefined, serverName: string): boolean {
  return serverAllowedByAcl(state?.get(stateMapKey('m.room.server_acl', ''))?.content, serverName);
}

function hostOf(serverName: string): string {
  if (serverName.startsWith('[')) return serverName.slice(0, serverName.indexOf(']') + 1);
  const i = serverName.lastIndexOf(':');
  return i < 0 ? serverName : serverName.slice(0, i);
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}
