/**
 * Send-to-device messaging (spec: client-server to_device.yaml): PUT
 * /sendToDevice/{eventType}/{txnId}. Delivery happens through /sync (ToDeviceSource).
 */
import type { RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { requester } from '../http/auth.ts';
import { parseBody } from '../http/validate.ts';
import type { ToDeviceService } from '../../services/e2ee/to-device.ts';

const body = z.object({
  messages: z.record(z.string(), z.record(z.string(), z.record(z.string(), z.unknown()))),
});

export function register(r: ApiRouter, deps: { auth: RequestHandler; toDevice: ToDeviceService }): void {
  r.client('PUT', '/sendToDevice/:eventType/:txnId', [
    deps.auth,
    async (req, res) => {
      const b = parseBody(body, req.body);
      const { eventType, txnId } = req.params as { eventType: string; txnId: string };
      await deps.toDevice.send(requester(req), eventType, txnId, b.messages);
      res.json({});
    },
  ]);
}
