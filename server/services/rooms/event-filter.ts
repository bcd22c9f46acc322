/**
 * Applies the parts of a RoomEventFilter (spec: client-server filter.yaml, "RoomEventFilter")
 * that select events: types/not_types with `*` wildcards, senders/not_senders, contains_url.
 * not_* wins over the positive lists. lazy_load_members is handled by the callers.
 */
import type { StoredPdu } from '../../core/events/types.ts';
import type { EventFilter } from './reader.ts';

function typeMatches(pattern: string, type: string): boolean {
  if (!pattern.includes('*')) return pattern === type;
  const re = new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
  return re.test(type);
}

export function matchesFilter(filter: EventFilter | undefined, pdu: Pick<StoredPdu, 'type' | 'sender' | 'content'>): boolean {
  if (!filter) return true;
  if (filter.not_types?.some((t) => typeMatches(t, pdu.type))) return false;
  if (filter.types && !filter.types.some((t) => typeMatches(t, pdu.type))) return false;
  if (filter.not_senders?.includes(pdu.sender)) return false;
  if (filter.senders && !filter.senders.includes(pdu.sender)) return false;
  if (filter.contains_url !== undefined) {
    const has = typeof pdu.content.url === 'string';
    if (has !== filter.contains_url) return false;
  }
  return true;
}
