/**
 * The resident side of leaving and rejecting invites (spec: server-server leaving-v2.yaml; the
 * v1 make_leave): GET /v1/make_leave/{roomId}/{userId}, PUT /v2/send_leave/{roomId}/{eventId}.
 * X-Matrix authenticated; shared handlers in joins.ts, logic in services/federation/resident.ts.
 */
import type { ApiRouter } from '../http/router.ts';
import { registerMembership, type MembershipApiDeps } from './joins.ts';

export function register(r: ApiRouter, deps: MembershipApiDeps): void {
  registerMembership(r, deps, 'leave', 'v2');
}
