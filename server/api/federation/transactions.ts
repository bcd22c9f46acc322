/**
 * PUT /_matrix/federation/v1/send/{txnId} (spec: server-server transactions.yaml): a remote
 * server's PDUs and EDUs. X-Matrix authenticated; the body's origin must be the request's.
 * The limits, idempotency, per-PDU results and EDU dispatch live in
 * services/federation/receiver/transactions.ts.
 */
import type { RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { parseBody } from '../http/validate.ts';
import { federationOrigin } from './auth.ts';
import type { TransactionReceiver } from '../../services/federation/receiver/transactions.ts';

const transactionBody = z.object({
  origin: z.string().min(1),
  origin_server_ts: z.number().int(),
  pdus: z.array(z.unknown()),
  edus: z.array(z.unknown()).optional(),
});

export interface TransactionsApiDeps {
  fed: RequestHandler;
  transactions: TransactionReceiver;
}

export function register(r: ApiRouter, deps: TransactionsApiDeps): void {
  r.route('PUT', '/_matrix/federation/v1/send/:txnId', [
    deps.fed,
    async (req, res) => {
      const body = parseBody(transactionBody, req.body);
      res.json(await deps.transactions.receive(federationOrigin(req), String(req.params.txnId), body));
    },
  ]);
}
