/**
 * Cross-signing (spec: client-server cross_signing.yaml: /keys/device_signing/upload and
 * /keys/signatures/upload; end-to-end encryption module "Cross-signing"). Self-signing and
 * user-signing keys must be signed by the master key; uploaded signatures are verified against
 * the signer's key before they are stored and shown by /keys/query.
 */
import { MatrixError, forbidden, invalidParam, missingParam } from '../../errors.ts';
import { verifySignature } from '../../core/crypto/signing.ts';
import { canonicalJson } from '../../core/json/canonical.ts';
import type { CrossSigningKeyType, JsonObject, NewSignature } from '../../storage/e2ee.ts';
import type { UserInteractiveAuth } from '../users/uia.ts';
import { crossSigningPublicKey, type DeviceListAnnouncer, type E2eeDeps } from './device-keys.ts';

/**
 * User-interactive authentication (services/users/uia.ts): resolves when the request's `auth`
 * completes a flow (m.login.password), otherwise throws the 401 UIA challenge.
 */
export type RequireUia = (auth: unknown, requester: { userId: string; deviceId: string }, requestBody: JsonObject) => Promise<void>;

/** RequireUia over the accounts service's UIA with the password flow. The session is used up
 * once authentication completes: the upload that follows cannot fail for UIA reasons. */
export function passwordUia(uia: Pick<UserInteractiveAuth, 'authenticate' | 'finish'>): RequireUia {
  return async (auth, requester) => {
    const session = await uia.authenticate({
      op: 'keys/device_signing/upload',
      flows: [{ stages: ['m.login.password'] }],
      auth,
      userId: requester.userId,
    });
    uia.finish(session);
  };
}

export interface CrossSigningUpload {
  master_key?: JsonObject;
  self_signing_key?: JsonObject;
  user_signing_key?: JsonObject;
  auth?: unknown;
}

const FIELDS: Record<CrossSigningKeyType, 'master_key' | 'self_signing_key' | 'user_signing_key'> = {
  master: 'master_key',
  self_signing: 'self_signing_key',
  user_signing: 'user_signing_key',
};

const invalidSignature = (msg: string): MatrixError => new MatrixError(400, 'M_INVALID_SIGNATURE', msg);

export class CrossSigningService {
  constructor(
    private readonly deps: E2eeDeps,
    private readonly announcer: DeviceListAnnouncer,
    private readonly requireUia: RequireUia,
  ) {}

  // ---- POST /keys/device_signing/upload ----

  async uploadKeys(requester: { userId: string; deviceId: string }, body: CrossSigningUpload): Promise<void> {
    const { userId } = requester;
    const { store, devices } = this.deps;
    const existing = store.crossSigningKeys(userId);
    const incoming: Partial<Record<CrossSigningKeyType, { publicKey: string; json: JsonObject }>> = {};
    for (const type of Object.keys(FIELDS) as CrossSigningKeyType[]) {
      const key = body[FIELDS[type]];
      if (key !== undefined) incoming[type] = { publicKey: checkKeyShape(key, userId, type, FIELDS[type]), json: key };
    }

    // cross_signing.yaml (v1.11): UIA only when a master key exists and the request brings a key
    // that differs from the stored one; the first upload and identical retries skip it.
    const replaces = existing.master !== undefined &&
      (Object.entries(incoming) as [CrossSigningKeyType, { json: JsonObject }][]).some(([type, k]) => !sameKey(existing[type], k.json));
    if (replaces) await this.requireUia(body.auth, requester, body as JsonObject);

    if (Object.keys(incoming).length === 0) return;
    const master = incoming.master?.json ?? existing.master;
    if (!master) throw missingParam('No master signing key is available');
    const masterPublic = crossSigningPublicKey(master);

    // A cross-signing public key must not collide with a device id (403 "Key ID in use").
    const deviceIds = new Set(devices.listDevices(userId).map((d) => d.deviceId));
    for (const k of Object.values(incoming)) if (deviceIds.has(k.publicKey)) throw forbidden('Key ID in use');

    for (const type of ['self_signing', 'user_signing'] as const) {
      const k = incoming[type];
      if (!k) continue;
      const sig = signatureBy(k.json, userId, `ed25519:${masterPublic}`);
      if (sig === undefined || !verifySignature(k.json, sig, masterPublic)) {
        throw invalidSignature(`${FIELDS[type]} is not signed by the master key`);
      }
    }
    const position = await store.setCrossSigningKeys(userId, incoming);
    this.announcer.announce(userId, position);
  }

  // ---- POST /keys/signatures/upload ----

  async uploadSignatures(requester: { userId: string; deviceId: string }, body: Record<string, Record<string, JsonObject>>): Promise<{ failures: Record<string, Record<string, JsonObject>> }> {
    const signer = requester.userId;
    const { store } = this.deps;
    const own = store.crossSigningKeys(signer);
    const failures: Record<string, Record<string, JsonObject>> = {};
    const accepted: NewSignature[] = [];
    const fail = (user: string, keyId: string, errcode: string, error: string): void => {
      (failures[user] ??= {})[keyId] = { errcode, error };
    };

    for (const [targetUser, objects] of Object.entries(body)) {
      for (const [keyId, obj] of Object.entries(objects)) {
        const verdict = this.checkSignedObject(signer, own, targetUser, keyId, obj);
        if ('errcode' in verdict) fail(targetUser, keyId, verdict.errcode, verdict.error);
        else accepted.push(...verdict.signatures);
      }
    }
    const position = await store.addSignatures(accepted);
    if (position !== null) for (const u of new Set(accepted.map((s) => s.targetUserId))) this.announcer.announce(u, position);
    return { failures };
  }

  /**
   * One signed object of /keys/signatures/upload. Which signatures count depends on the target:
   * - the signer's own device: signed by the signer's self-signing key;
   * - the signer's own master key: signed by one of the signer's devices;
   * - another user's master key: signed by the signer's user-signing key.
   * The object must match the stored key apart from `signatures` (cross_signing.yaml).
   */
  private checkSignedObject(
    signer: string,
    own: Partial<Record<CrossSigningKeyType, JsonObject>>,
    targetUser: string,
    keyId: string,
    obj: JsonObject,
  ): { signatures: NewSignature[] } | { errcode: string; error: string } {
    const { store } = this.deps;
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return { errcode: 'M_INVALID_PARAM', error: 'Not a JSON object' };
    const accept = (signerKeyId: string, signature: string): { signatures: NewSignature[] } => ({
      signatures: [{ targetUserId: targetUser, targetKeyId: keyId, signerUserId: signer, signerKeyId, signature }],
    });

    if (targetUser === signer) {
      const device = store.deviceKeys(signer, [keyId]).get(keyId);
      if (device) {
        if (!sameKey(device, obj)) return { errcode: 'M_INVALID_PARAM', error: 'Object does not match the stored device keys' };
        const ssk = own.self_signing;
        if (!ssk) return { errcode: 'M_MISSING_PARAM', error: 'No self-signing key is available' };
        const sskPublic = crossSigningPublicKey(ssk);
        const sig = signatureBy(obj, signer, `ed25519:${sskPublic}`);
        if (sig === undefined || !verifySignature(obj, sig, sskPublic)) return { errcode: 'M_INVALID_SIGNATURE', error: 'Invalid signature' };
        return accept(`ed25519:${sskPublic}`, sig);
      }
      const master = own.master;
      if (master && crossSigningPublicKey(master) === keyId) {
        if (!sameKey(master, obj)) return { errcode: 'M_INVALID_PARAM', error: 'Object does not match the stored master key' };
        // Every signature by one of the signer's devices that verifies.
        const mine = (obj.signatures as Record<string, Record<string, unknown>> | undefined)?.[signer] ?? {};
        const signatures: NewSignature[] = [];
        for (const [sigKeyId, sig] of Object.entries(mine)) {
          if (!sigKeyId.startsWith('ed25519:') || sigKeyId === `ed25519:${keyId}` || typeof sig !== 'string') continue;
          const deviceId = sigKeyId.slice('ed25519:'.length);
          const dk = store.deviceKeys(signer, [deviceId]).get(deviceId);
          const devicePublic = (dk?.keys as Record<string, string> | undefined)?.[sigKeyId];
          if (devicePublic === undefined || !verifySignature(obj, sig, devicePublic)) return { errcode: 'M_INVALID_SIGNATURE', error: 'Invalid signature' };
          signatures.push({ targetUserId: targetUser, targetKeyId: keyId, signerUserId: signer, signerKeyId: sigKeyId, signature: sig });
        }
        if (signatures.length === 0) return { errcode: 'M_INVALID_SIGNATURE', error: 'No signature by one of your devices' };
        return { signatures };
      }
      return { errcode: 'M_NOT_FOUND', error: 'Unknown key' };
    }

    const theirMaster = store.crossSigningKeys(targetUser).master;
    if (!theirMaster || crossSigningPublicKey(theirMaster) !== keyId) return { errcode: 'M_NOT_FOUND', error: 'Unknown key' };
    if (!sameKey(theirMaster, obj)) return { errcode: 'M_INVALID_PARAM', error: 'Object does not match the stored master key' };
    const usk = own.user_signing;
    if (!usk) return { errcode: 'M_MISSING_PARAM', error: 'No user-signing key is available' };
    const uskPublic = crossSigningPublicKey(usk);
    const sig = signatureBy(obj, signer, `ed25519:${uskPublic}`);
    if (sig === undefined || !verifySignature(obj, sig, uskPublic)) return { errcode: 'M_INVALID_SIGNATURE', error: 'Invalid signature' };
    return accept(`ed25519:${uskPublic}`, sig);
  }
}

/** Checks a CrossSigningKey object (definitions/cross_signing_key.yaml) and returns its public key. */
function checkKeyShape(key: JsonObject, userId: string, type: CrossSigningKeyType, field: string): string {
  if (key.user_id !== userId) throw invalidParam(`${field}.user_id does not match the authenticated user`);
  const usage = key.usage;
  if (!Array.isArray(usage) || !usage.includes(type)) throw invalidParam(`${field}.usage must include ${type}`);
  const entries = Object.entries((key.keys as Record<string, unknown> | undefined) ?? {});
  if (entries.length !== 1) throw invalidParam(`${field}.keys must hold exactly one key`);
  const [name, value] = entries[0]!;
  if (typeof value !== 'string' || name !== `ed25519:${value}`) throw invalidParam(`${field}.keys must be {"ed25519:<public key>": "<public key>"}`);
  return value;
}

/** The signature of `obj` by `userId`'s key `keyId`, if present. */
function signatureBy(obj: JsonObject, userId: string, keyId: string): string | undefined {
  const s = (obj.signatures as Record<string, Record<string, unknown>> | undefined)?.[userId]?.[keyId];
  return typeof s === 'string' ? s : undefined;
}

/** Equal apart from `signatures` and `unsigned`. */
function sameKey(a: JsonObject | undefined, b: JsonObject): boolean {
  if (a === undefined) return false;
  const strip = ({ signatures: _s, unsigned: _u, ...rest }: JsonObject): JsonObject => rest;
  try {
    return canonicalJson(strip(a)) === canonicalJson(strip(b));
  } catch {
    return false;
  }
}
