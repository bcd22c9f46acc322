/**
 * Room complexity for other servers (Synapse's unstable RoomComplexityServlet; no spec yaml):
 * GET /_matrix/federation/unstable/rooms/{roomId}/complexity, X-Matrix authenticated, answers
 * `{"v1": current state events / 500}` so a joining server can refuse a room too big for it
 * before make_join (Synapse's limit_remote_rooms). As in Synapse, only for rooms anyone may join
 * or read (public join rule or world-readable history); others are 404 M_INVALID_PARAM.
 */
import type { RequestHandler } from 'express';
import { MatrixError } from '../../errors.ts';
import { roomComplexity } from '../../services/admin/storage-care.ts';
import type { ApiRouter } from '../http/router.ts';

export interface ComplexityApiDeps {
  fed: RequestHandler;
  /** The room's current state size and whether it is public, or undefined for an unknown room. */
  roomState(roomId: string): { stateEventCount: number; isPublic: boolean } | undefined;
}

export function register(r: ApiRouter, deps: ComplexityApiDeps): void {
  r.route('GET', '/_matrix/federation/unstable/rooms/:roomId/complexity', [
    deps.fed,
    (req, res) => {
      const room = deps.roomState(String(req.params.roomId));
      if (!room?.isPublic) throw new MatrixError(404, 'M_INVALID_PARAM', 'Room not found');
      res.json(roomComplexity(room.stateEventCount));
    },
  ]);
}
