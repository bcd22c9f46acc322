/**
 * Receipts and read markers (client-server receipts.yaml, read_markers.yaml):
 * POST /rooms/{roomId}/receipt/{receiptType}/{eventId} (m.read, m.read.private, m.fully_read;
 * optional `thread_id`) and POST /rooms/{roomId}/read_markers.
 */
import type { RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { requester } from '../http/auth.ts';
import { parseBody } from '../http/validate.ts';
import { invalidParam } from '../../errors.ts';
import type { ReceiptsService } from '../../services/sync/receipts.ts';

export interface ReceiptsApiDeps {
  auth: RequestHandler;
  receipts: Pick<ReceiptsService, 'send' | 'setReadMarkers'>;
}

// thread_id is checked by hand: the spec wants M_INVALID_PARAM (not M_BAD_JSON) when it is not a string.
const receiptBody = z.looseObject({ thread_id: z.unknown().optional() });

const readMarkersBody = z.object({
  'm.fully_read': z.string().optional(),
  'm.read': z.string().optional(),
  'm.read.private': z.string().optional(),
});

export function register(r: ApiRouter, deps: ReceiptsApiDeps): void {
  r.client('POST', '/rooms/:roomId/receipt/:receiptType/:eventId', [
    deps.auth,
    async (req, res) => {
      const body = parseBody(receiptBody, req.body);
      if (body.thread_id !== undefined && typeof body.thread_id !== 'string') throw invalidParam('thread_id field must be a non-empty string');
      await deps.receipts.send(
        requester(req).userId,
        String(req.params.roomId),
        String(req.params.receiptType),
        String(req.params.eventId),
        body.thread_id as string | undefined,
      );
      res.json({});
    },
  ]);
  r.client('POST', '/rooms/:roomId/read_markers', [
    deps.auth,
    async (req, res) => {
      const body = parseBody(readMarkersBody, req.body);
      await deps.receipts.setReadMarkers(requester(req).userId, String(req.params.roomId), {
        fullyRead: body['m.fully_read'],
        read: body['m.read'],
        readPrivate: body['m.read.private'],
      });
      res.json({});
    },
  ]);
}
