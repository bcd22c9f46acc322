/**
 * The resident side of knocking (spec: server-server knocks.yaml): GET /v1/make_knock/{roomId}/
 * {userId}?ver=…, PUT /v1/send_knock/{roomId}/{eventId} answering with the stripped room state.
 * X-Matrix authenticated; shared handlers in joins.ts, logic in services/federation/resident.ts.
 */
import type { ApiRouter } from '../http/router.ts';
import { registerMembership, type MembershipApiDeps } from './joins.ts';

export function register(r: ApiRouter, deps: MembershipApiDeps): void {
  registerMembership(r, deps, 'knock', 'v1');
}
