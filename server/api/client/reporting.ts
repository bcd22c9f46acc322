/**
 * Reporting content (spec: client-server report_content.yaml): POST /rooms/{roomId}/report/{eventId}
 * (reason optional), POST /rooms/{roomId}/report and POST /users/{userId}/report (reason
 * required, may be blank). The checks (joined, visible, exists) are services/rooms/reports.ts.
 */
import type { RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { requester } from '../http/auth.ts';
import { parseBody } from '../http/validate.ts';
import { isValidUserId } from '../../core/ids.ts';
import { invalidParam } from '../../errors.ts';
import type { ReportsService } from '../../services/rooms/reports.ts';

export interface ReportingApiDeps {
  auth: RequestHandler;
  reports: Pick<ReportsService, 'reportEvent' | 'reportRoom' | 'reportUser'>;
}

const MAX_REASON = 10_000;

const eventReportBody = z.object({
  reason: z.string().max(MAX_REASON).optional(),
  // Removed in spec v1.18; older clients still send it.
  score: z.number().int().min(-100).max(0).optional(),
});

const reasonBody = z.object({ reason: z.string().max(MAX_REASON) });

export function register(r: ApiRouter, deps: ReportingApiDeps): void {
  r.client('POST', '/rooms/:roomId/report/:eventId', [
    deps.auth,
    async (req, res) => {
      const body = parseBody(eventReportBody, req.body);
      await deps.reports.reportEvent(requester(req).userId, String(req.params.roomId), String(req.params.eventId), body);
      res.json({});
    },
  ]);
  r.client('POST', '/rooms/:roomId/report', [
    deps.auth,
    async (req, res) => {
      const { reason } = parseBody(reasonBody, req.body);
      await deps.reports.reportRoom(requester(req).userId, String(req.params.roomId), reason);
      res.json({});
    },
  ]);
  r.client('POST', '/users/:userId/report', [
    deps.auth,
    async (req, res) => {
      const userId = String(req.params.userId);
      if (!isValidUserId(userId)) throw invalidParam('Invalid user ID');
      const { reason } = parseBody(reasonBody, req.body);
      await deps.reports.reportUser(requester(req).userId, userId, reason);
      res.json({});
    },
  ]);
}
