/**
 * SHA-256 over bytes (spec: server-server "Calculating the content hash" and "reference hash").
 * One of the two files in core allowed to import node:crypto (ARCHITECTURE.md "core/").
 */
import { createHash } from 'node:crypto';

/** SHA-256 digest of `data` (a string is hashed as its UTF-8 bytes). */
export function sha256(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest();
}
