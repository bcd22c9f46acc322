/**
 * SHA-256 over bytes (spec: server-server "Calculating the content hash" and "reference hash").
 * One of the two files in core allowed to import node:crypto (ARCHITECTURE.md "core/").
 */
import * as crypto from 'node:crypto';

// crypto.hash (Node >= 20.12) hashes in one call, about half the cost of a Hash object for the
// few hundred bytes of an event or a token; it runs three times per message sent.
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array | string, encoding: 'buffer') => Buffer }).hash;

/** SHA-256 digest of `data` (a string is hashed as its UTF-8 bytes). */
export const sha256: (data: Uint8Array | string) => Buffer = oneShot
  ? (data) => oneShot('sha256', data, 'buffer')
  : (data) => crypto.createHash('sha256').update(data).digest();
