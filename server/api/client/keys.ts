/**
 * End-to-end encryption key management (spec: client-server keys.yaml: /keys/upload,
 * /keys/query, /keys/claim, /keys/changes; cross_signing.yaml: /keys/device_signing/upload,
 * /keys/signatures/upload). Key objects are validated with loose schemas: unknown fields are
 * kept, because signatures cover the whole object.
 */
import type { RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { requester } from '../http/auth.ts';
import { parseBody, parseQuery } from '../http/validate.ts';
import { parsePositionToken } from '../../services/sync/tokens.ts';
import type { DeviceKeysService } from '../../services/e2ee/device-keys.ts';
import type { CrossSigningService } from '../../services/e2ee/cross-signing.ts';

const signatures = z.record(z.string(), z.record(z.string(), z.string()));

const deviceKeys = z.looseObject({
  user_id: z.string(),
  device_id: z.string(),
  algorithms: z.array(z.string()),
  keys: z.record(z.string(), z.string()),
  signatures,
});

const keyMap = z.record(z.string(), z.union([z.string(), z.looseObject({ key: z.string(), signatures: signatures.optional() })]));

const uploadBody = z.object({
  device_keys: deviceKeys.optional(),
  one_time_keys: keyMap.optional(),
  fallback_keys: keyMap.optional(),
});

const queryBody = z.object({
  device_keys: z.record(z.string(), z.array(z.string())),
  timeout: z.number().int().optional(),
});

const claimBody = z.object({
  one_time_keys: z.record(z.string(), z.record(z.string(), z.string())),
  timeout: z.number().int().optional(),
});

const changesQuery = z.object({ from: z.string().min(1), to: z.string().min(1) });

const crossSigningKey = z.looseObject({
  user_id: z.string(),
  usage: z.array(z.string()),
  keys: z.record(z.string(), z.string()),
  signatures: signatures.optional(),
});

const deviceSigningBody = z.looseObject({
  master_key: crossSigningKey.optional(),
  self_signing_key: crossSigningKey.optional(),
  user_signing_key: crossSigningKey.optional(),
  auth: z.unknown().optional(),
});

const signaturesBody = z.record(z.string(), z.record(z.string(), z.record(z.string(), z.unknown())));

export interface KeysDeps {
  auth: RequestHandler;
  deviceKeys: DeviceKeysService;
  crossSigning: CrossSigningService;
}

export function register(r: ApiRouter, deps: KeysDeps): void {
  r.client('POST', '/keys/upload', [
    deps.auth,
    async (req, res) => {
      const body = parseBody(uploadBody, req.body);
      res.json(await deps.deviceKeys.upload(requester(req), body));
    },
  ]);

  r.client('POST', '/keys/query', [
    deps.auth,
    async (req, res) => {
      const body = parseBody(queryBody, req.body);
      res.json(await deps.deviceKeys.queryWithRemote(requester(req).userId, body.device_keys, body.timeout));
    },
  ]);

  r.client('POST', '/keys/claim', [
    deps.auth,
    async (req, res) => {
      const body = parseBody(claimBody, req.body);
      res.json(await deps.deviceKeys.claim(body.one_time_keys, { timeoutMs: body.timeout }));
    },
  ]);

  r.client('GET', '/keys/changes', [
    deps.auth,
    (req, res) => {
      const q = parseQuery(changesQuery, req.query);
      res.json(deps.deviceKeys.changesBetween(requester(req).userId, parsePositionToken(q.from), parsePositionToken(q.to)));
    },
  ]);

  r.client('POST', '/keys/device_signing/upload', [
    deps.auth,
    async (req, res) => {
      const body = parseBody(deviceSigningBody, req.body);
      await deps.crossSigning.uploadKeys(requester(req), body);
      res.json({});
    },
  ]);

  r.client('POST', '/keys/signatures/upload', [
    deps.auth,
    async (req, res) => {
      const body = parseBody(signaturesBody, req.body);
      res.json(await deps.crossSigning.uploadSignatures(requester(req), body));
    },
  ]);
}
