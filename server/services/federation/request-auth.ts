/**
 * `X-Matrix` request authentication (spec: server-server "Request Authentication"). Every
 * federation request carries `Authorization: X-Matrix origin=…,destination=…,key=…,sig=…`, where
 * `sig` signs the canonical JSON of `{method, uri, origin, destination, content?}` with the
 * origin's server key. This file signs outbound requests and verifies inbound ones; the HTTP
 * middleware (api/federation/auth.ts) only adapts Express to `verifyRequest`.
 */
import type { Ed25519SigningKey } from '../../core/crypto/ed25519.ts';
import { computeSignature, verifyJsonSignatures, type KeyLookup } from '../../core/crypto/signing.ts';
import { parseServerName } from '../../core/ids.ts';
import { MatrixError } from '../../errors.ts';

/** The object whose canonical JSON the `sig` covers. `content` is absent for requests without a body. */
export interface SignedRequest {
  method: string;
  /** Path and query exactly as sent on the request line, e.g. `/_matrix/federation/v1/version`. */
  uri: string;
  origin: string;
  destination: string;
  content?: unknown;
}

export interface XMatrixParams {
  origin: string;
  /** Optional on the wire for backwards compatibility; when present it must be us. */
  destination?: string;
  key: string;
  sig: string;
}

/** The verified origin of an inbound request. */
export interface FederationRequester {
  origin: string;
  keyId: string;
}

/** Computes the `Authorization` header value for an outbound request. */
export function signRequest(req: SignedRequest, key: Ed25519SigningKey): string {
  const obj: Record<string, unknown> = { method: req.method, uri: req.uri, origin: req.origin, destination: req.destination };
  if (req.content !== undefined) obj.content = req.content;
  const sig = computeSignature(obj, key);
  return `X-Matrix origin="${quote(req.origin)}",destination="${quote(req.destination)}",key="${quote(key.keyId)}",sig="${sig}"`;
}

function quote(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

/**
 * Parses an `X-Matrix` Authorization header (RFC 9110 auth-param list: names case-insensitive,
 * values token or quoted-string). Undefined unless origin, key and sig are all present.
 */
export function parseXMatrixHeader(header: string): XMatrixParams | undefined {
  const m = /^\s*X-Matrix\s+(.*)$/is.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,|$)/y;
  const rest = m[1]!;
  let pos = 0;
  while (pos < rest.length) {
    re.lastIndex = pos;
    const p = re.exec(rest);
    if (!p || re.lastIndex === pos) return undefined;
    const name = p[1]!.toLowerCase();
    const value = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
    if (!(name in params)) params[name] = value;
    pos = re.lastIndex;
  }
  const { origin, destination, key, sig } = params;
  if (!origin || !key || !sig) return undefined;
  return destination === undefined ? { origin, key, sig } : { origin, destination, key, sig };
}

/** What request verification needs from the key store. */
export interface RequestKeySource {
  /** Keys of `serverName` valid at `minimumValidUntilTs`, fetched if `keyId` is not yet known. */
  keysFor(serverNames: readonly string[], minimumValidUntilTs: number, opts?: { keyIds?: Readonly<Record<string, readonly string[]>> }): Promise<KeyLookup>;
}

export interface VerifyRequestInput {
  method: string;
  uri: string;
  /** The Authorization header(s) as received. */
  authorization: string | readonly string[] | undefined;
  /** The parsed JSON body; undefined when the request had none. */
  content: unknown;
}

export const unauthorized = (msg: string): MatrixError => new MatrixError(401, 'M_UNAUTHORIZED', msg);

/**
 * Verifies an inbound request (spec: "Request Authentication"): a parseable X-Matrix header whose
 * destination (if given) is us, a valid origin server name, a key of the origin's that is valid
 * now, and a signature that verifies. Several X-Matrix headers are allowed; the first one that
 * verifies wins. Throws 401 M_UNAUTHORIZED otherwise, or 403 M_FORBIDDEN for a denied origin.
 */
export async function verifyRequest(
  input: VerifyRequestInput,
  ctx: {
    serverName: string;
    keys: RequestKeySource;
    now: () => number;
    /** The deny/allow lists, checked before any key is fetched for the claimed origin. */
    isOriginAllowed?: (origin: string) => boolean;
  },
): Promise<FederationRequester> {
  const headers = input.authorization === undefined ? [] : typeof input.authorization === 'string' ? [input.authorization] : input.authorization;
  const candidates = headers.map(parseXMatrixHeader).filter((p): p is XMatrixParams => p !== undefined);
  if (candidates.length === 0) throw unauthorized('Missing or malformed X-Matrix Authorization header');
  let lastReason = 'no valid signature';
  for (const p of candidates) {
    if (p.destination !== undefined && p.destination !== ctx.serverName) {
      lastReason = `request is addressed to ${p.destination}, not to this server`;
      continue;
    }
    if (parseServerName(p.origin) === undefined) {
      lastReason = 'origin is not a valid server name';
      continue;
    }
    if (ctx.isOriginAllowed && !ctx.isOriginAllowed(p.origin)) throw new MatrixError(403, 'M_FORBIDDEN', `Federation denied with ${p.origin}`);
    if (!/^ed25519:[A-Za-z0-9_]+$/.test(p.key)) {
      lastReason = `unsupported key id ${p.key}`;
      continue;
    }
    const signed: Record<string, unknown> = {
      method: input.method,
      uri: input.uri,
      origin: p.origin,
      destination: ctx.serverName,
      signatures: { [p.origin]: { [p.key]: p.sig } },
    };
    if (input.content !== undefined) signed.content = input.content;
    const now = ctx.now();
    let keys: KeyLookup;
    try {
      keys = await ctx.keys.keysFor([p.origin], now, { keyIds: { [p.origin]: [p.key] } });
    } catch {
      lastReason = `could not fetch the keys of ${p.origin}`;
      continue;
    }
    // Only the key named in the header counts, and it must be valid now (an old key has expired).
    const known = keys[p.origin]?.[p.key];
    if (known === undefined) {
      lastReason = `unknown key ${p.key} of ${p.origin}`;
      continue;
    }
    const verdict = verifyJsonSignatures(signed, p.origin, { [p.origin]: { [p.key]: known } }, { atTs: now });
    if (verdict.ok) return { origin: p.origin, keyId: p.key };
    lastReason = verdict.reason;
  }
  throw unauthorized(`Failed to authenticate request: ${lastReason}`);
}

/** Deny and allow lists of servers (settings `federationDenyServers`/`federationAllowServers`). */
export interface ServerLists {
  deny?: readonly string[];
  allow?: readonly string[];
}

/** Whether we federate with `serverName`: not denied, and allowed when an allow list exists. An
 * entry matches the whole server name or its host without port; `*` and `?` are globs. */
export function isServerAllowed(serverName: string, lists: ServerLists): boolean {
  const host = parseServerName(serverName)?.host ?? serverName;
  const matches = (pattern: string): boolean => {
    const re = globRegExp(pattern);
    return re.test(serverName) || re.test(host);
  };
  if (lists.deny?.some(matches)) return false;
  if (lists.allow !== undefined) return lists.allow.some(matches);
  return true;
}

const globCache = new Map<string, RegExp>();

function globRegExp(pattern: string): RegExp {
  let re = globCache.get(pattern);
  if (!re) {
    const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    re = new RegExp(`^${body}$`, 'i');
    if (globCache.size > 1000) globCache.clear();
    globCache.set(pattern, re);
  }
  return re;
}
