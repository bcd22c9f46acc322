/**
 * Unpadded Base64 (spec: appendices "Unpadded Base64" and "URL-safe unpadded Base64").
 * Encoders never pad. Decoders accept input with or without `=` padding (the spec's SHOULD), but
 * reject characters outside the alphabet: Node's own decoder silently skips them, which would let
 * two different strings stand for the same signature or key.
 */

export class Base64Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Base64Error';
  }
}

export function encodeBase64(bytes: Uint8Array): string {
  return toBuffer(bytes).toString('base64').replace(/=+$/, '');
}

export function encodeBase64Url(bytes: Uint8Array): string {
  // Node's 'base64url' is RFC 4648 §5 and already unpadded.
  return toBuffer(bytes).toString('base64url');
}

const STANDARD = /^[A-Za-z0-9+/]*$/;
const URL_SAFE = /^[A-Za-z0-9_-]*$/;

/** Decodes standard unpadded (or padded) Base64. Throws Base64Error on any invalid input. */
export function decodeBase64(s: string): Buffer {
  return Buffer.from(checked(s, STANDARD, 'standard'), 'base64');
}

/** Decodes URL-safe unpadded (or padded) Base64. Throws Base64Error on any invalid input. */
export function decodeBase64Url(s: string): Buffer {
  return Buffer.from(checked(s, URL_SAFE, 'URL-safe'), 'base64url');
}

/** Verdict form for validation paths: the bytes, or undefined if `s` is not valid Base64. */
export function tryDecodeBase64(s: string): Buffer | undefined {
  try {
    return decodeBase64(s);
  } catch {
    return undefined;
  }
}

/** Strips valid padding and checks alphabet and length; returns the unpadded body. */
function checked(s: string, alphabet: RegExp, name: string): string {
  if (typeof s !== 'string') throw new Base64Error('base64 input must be a string');
  let body = s;
  const pad = /=*$/.exec(s)![0].length;
  if (pad > 0) {
    // Padding, when present, must be exactly what makes the length a multiple of 4.
    if (pad > 2 || s.length % 4 !== 0) throw new Base64Error('invalid base64 padding');
    body = s.slice(0, -pad);
    if ((body.length % 4) + pad !== 4) throw new Base64Error('invalid base64 padding');
  }
  if (!alphabet.test(body)) throw new Base64Error(`invalid character in ${name} base64`);
  // A single leftover character carries only 6 bits: no whole byte, so no encoder produces it.
  if (body.length % 4 === 1) throw new Base64Error('invalid base64 length');
  return body;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
