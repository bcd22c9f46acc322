/**
 * Canonical JSON (spec: appendices "Canonical JSON"): the shortest UTF-8 encoding with object keys
 * sorted by Unicode code point, no insignificant whitespace, only the escapes the grammar requires,
 * and integers in [-(2^53)+1, 2^53-1]. Everything that is signed or hashed goes through here.
 *
 * Room versions 1–5 did not enforce the number rules (fragment v1-canonical-json), so `{strict:false}`
 * lets floats and out-of-range numbers through, written as JavaScript writes them.
 * Note: values arrive already parsed by JSON.parse, so `1.0` on the wire is indistinguishable from `1`.
 */

export class CanonicalJsonError extends Error {
  /** Where in the value the problem is, as a dotted/indexed path (`content.body`, `prev_events[2]`). */
  readonly path: string;
  constructor(message: string, path: string) {
    super(path ? `${message} at ${path}` : message);
    this.name = 'CanonicalJsonError';
    this.path = path;
  }
}

export interface CanonicalJsonOptions {
  /** Default true: reject floats and integers outside ±(2^53-1) (room versions 6+). */
  strict?: boolean;
}

/** Largest integer canonical JSON allows in strict mode: 2^53 - 1. */
export const MAX_SAFE_JSON_INT = Number.MAX_SAFE_INTEGER;

export function canonicalJson(value: unknown, options: CanonicalJsonOptions = {}): string {
  const strict = options.strict ?? true;
  try {
    return encodeFast(value, strict, 0);
  } catch (e) {
    if (!(e instanceof CanonicalJsonError) && e !== TOO_DEEP) throw e;
    // Rare: the careful encoder says where the problem is, and tells a cycle from deep nesting.
    const out: string[] = [];
    encode(value, strict, out, new Set(), '');
    return out.join('');
  }
}

/** Nesting past this leaves the fast encoder (which keeps no cycle check) for the careful one. */
const MAX_FAST_DEPTH = 64;
const TOO_DEEP = Symbol('too deep');

/**
 * The encoder every signature and hash goes through, so it is lean: no paths and no cycle set
 * (they cost a string per key and a Set operation per object, about a tenth of all allocation
 * when sending a message). Errors carry no path; canonicalJson then re-runs `encode` for one.
 */
function encodeFast(value: unknown, strict: boolean, depth: number): string {
  switch (typeof value) {
    case 'string':
      return encodeString(value, '');
    case 'number':
      return encodeNumber(value, strict, '');
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      throw new CanonicalJsonError(`cannot encode a value of type ${typeof value}`, '');
  }
  if (value === null) return 'null';
  if (depth > MAX_FAST_DEPTH) throw TOO_DEEP;
  if (Array.isArray(value)) {
    let s = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item === undefined) throw new CanonicalJsonError('undefined in array', '');
      s += (i > 0 ? ',' : '') + encodeFast(item, strict, depth + 1);
    }
    return s + ']';
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw new CanonicalJsonError('only plain objects and arrays can be encoded', '');
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort(compareCodePoints);
  let s = '{';
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    s += (s.length > 1 ? ',' : '') + encodeString(k, '') + ':' + encodeFast(v, strict, depth + 1);
  }
  return s + '}';
}

export function canonicalJsonBytes(value: unknown, options: CanonicalJsonOptions = {}): Buffer {
  return Buffer.from(canonicalJson(value, options), 'utf8');
}

/** A verdict instead of an exception: whether `value` can be encoded (e.g. v6+ strict checks on PDUs). */
export function checkCanonicalJson(
  value: unknown,
  options: CanonicalJsonOptions = {},
): { ok: true } | { ok: false; reason: string } {
  try {
    canonicalJson(value, options);
    return { ok: true };
  } catch (e) {
    if (e instanceof CanonicalJsonError) return { ok: false, reason: e.message };
    throw e;
  }
}

/** Orders two strings by Unicode code point. Plain `<` compares UTF-16 code units, which puts
 * astral characters (surrogate pairs, 0xD800–0xDFFF) before U+E000–U+FFFF: wrong for the spec. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Only when both differ inside the surrogate/high-BMP zone can code unit order be wrong.
    if (x >= 0xd800 && y >= 0xd800) {
      const cx = a.codePointAt(i) ?? x;
      const cy = b.codePointAt(i) ?? y;
      return cx - cy;
    }
    return x - y;
  }
  return a.length - b.length;
}

function encode(value: unknown, strict: boolean, out: string[], seen: Set<object>, path: string): void {
  switch (typeof value) {
    case 'string':
      out.push(encodeString(value, path));
      return;
    case 'number':
      out.push(encodeNumber(value, strict, path));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'object':
      break;
    default:
      throw new CanonicalJsonError(`cannot encode a value of type ${typeof value}`, path);
  }
  if (value === null) {
    out.push('null');
    return;
  }
  if (seen.has(value)) throw new CanonicalJsonError('cyclic structure', path);
  seen.add(value);
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',');
      const item: unknown = value[i];
      if (item === undefined) throw new CanonicalJsonError('undefined in array', `${path}[${i}]`);
      encode(item, strict, out, seen, `${path}[${i}]`);
    }
    out.push(']');
  } else {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      throw new CanonicalJsonError('only plain objects and arrays can be encoded', path);
    }
    const obj = value as Record<string, unknown>;
    // Keys whose value is undefined are absent, as with JSON.stringify (TS optional fields).
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort(compareCodePoints);
    out.push('{');
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (i > 0) out.push(',');
      const childPath = path ? `${path}.${k}` : k;
      out.push(encodeString(k, childPath), ':');
      encode(obj[k], strict, out, seen, childPath);
    }
    out.push('}');
  }
  seen.delete(value);
}

function encodeNumber(n: number, strict: boolean, path: string): string {
  if (!Number.isFinite(n)) throw new CanonicalJsonError(`${n} is not representable in JSON`, path);
  if (strict) {
    if (!Number.isInteger(n)) throw new CanonicalJsonError(`float ${n} not allowed`, path);
    if (n > MAX_SAFE_JSON_INT || n < -MAX_SAFE_JSON_INT) {
      throw new CanonicalJsonError(`integer ${n} out of range ±(2^53-1)`, path);
    }
  }
  // -0 is written `0` (appendix example `{"a":-0}` → `{"a":0}`); String(-0) is already "0".
  return Number.isInteger(n) && Math.abs(n) < 1e21 ? String(n) : JSON.stringify(n);
}

// Characters needing work: `"`, `\`, C0 controls, and surrogates (lone ones cannot be UTF-8).
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const SHORT_ESCAPES: Record<number, string> = {
  0x08: '\\b',
  0x09: '\\t',
  0x0a: '\\n',
  0x0c: '\\f',
  0x0d: '\\r',
  0x22: '\\"',
  0x5c: '\\\\',
};

/** Grammar: only `"`, `\` and U+0000–U+001F are escaped; controls without a short form become
 * `\u00XX` with lowercase hex. Everything else (incl. U+007F, U+2028) is written raw. */
function encodeString(s: string, path: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let r = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) throw new CanonicalJsonError('lone surrogate in string', path);
      r += s[i]! + s[i + 1]!;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      throw new CanonicalJsonError('lone surrogate in string', path);
    } else if (c < 0x20 || c === 0x22 || c === 0x5c) {
      r += SHORT_ESCAPES[c] ?? `\\u00${c.toString(16).padStart(2, '0')}`;
    } else {
      r += s[i];
    }
  }
  return r + '"';
}
