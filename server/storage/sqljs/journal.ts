// The journal's on-disk format: one frame per write transaction,
//   [u32 LE payload length][u32 LE crc32 over the length bytes and payload][payload: UTF-8 JSON]
// with payload {"seq": n, "statements": [[sql, params], ...]}. A crash can leave a torn frame
// at the end of a file; the checksum finds it and recovery stops there (point-in-time recovery:
// nothing after the first bad frame was ever acknowledged, because a later write can only be
// acknowledged after everything before it was fsync'd).
import * as zlib from 'node:zlib';

/** A parameter as journaled: booleans and safe bigints are already numbers. */
export type JournalParam = number | string | Uint8Array | bigint | null;
export type JournalStatement = [sql: string, params: JournalParam[]];

export interface JournalRecord {
  seq: number;
  statements: JournalStatement[];
}

export const FRAME_HEADER_BYTES = 8;
/** A frame claiming to be bigger than this is treated as garbage, not as a huge record. */
export const MAX_FRAME_PAYLOAD_BYTES = 1 << 30;

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

function crc32Js(data: Uint8Array, crc = 0): number {
  let c = ~crc;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

// zlib.crc32 (Node >= 20.15) is native and several times faster; same polynomial and chaining.
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 (IEEE, as zlib), continuing from `crc` so header and payload can be summed apart. */
export const crc32: (data: Uint8Array, crc?: number) => number = nativeCrc32
  ? (data, crc = 0) => nativeCrc32(data, crc)
  : crc32Js;

export { crc32Js as crc32PortableForTests };

// JSON has no bytes or 64-bit integers, so they travel as tagged objects.
function encodeParam(p: JournalParam): unknown {
  if (p instanceof Uint8Array) return { $b: Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('base64') };
  if (typeof p === 'bigint') return { $n: p.toString() };
  return p;
}

function decodeParam(p: unknown): JournalParam {
  if (p === null || typeof p === 'number' || typeof p === 'string') return p;
  if (typeof p === 'object') {
    const o = p as { $b?: unknown; $n?: unknown };
    if (typeof o.$b === 'string') return new Uint8Array(Buffer.from(o.$b, 'base64'));
    if (typeof o.$n === 'string') return BigInt(o.$n);
  }
  throw new Error(`bad journal parameter ${JSON.stringify(p)}`);
}

export function encodeRecord(record: JournalRecord): Buffer {
  const statements = record.statements.map(([sql, params]) => [
    sql,
    params.some((p) => p !== null && (typeof p === 'object' || typeof p === 'bigint')) ? params.map(encodeParam) : params,
  ]);
  const payload = Buffer.from(JSON.stringify({ seq: record.seq, statements }), 'utf8');
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(crc32(payload, crc32(frame.subarray(0, 4))), 4);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

export interface ScannedRecord extends JournalRecord {
  /** Byte offset of the frame and of the byte after it. */
  offset: number;
  end: number;
}

export interface JournalScan {
  records: ScannedRecord[];
  /** Length of the valid prefix; everything after it is a torn or corrupt tail. */
  validBytes: number;
  corrupt: { offset: number; reason: string } | null;
}

function decodePayload(payload: Uint8Array): JournalRecord {
  const parsed = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8')) as {
    seq?: unknown;
    statements?: unknown;
  };
  if (!Number.isSafeInteger(parsed.seq) || (parsed.seq as number) < 1) throw new Error('bad seq');
  if (!Array.isArray(parsed.statements)) throw new Error('bad statements');
  const statements = parsed.statements.map((s: unknown): JournalStatement => {
    if (!Array.isArray(s) || typeof s[0] !== 'string' || !Array.isArray(s[1])) throw new Error('bad statement');
    return [s[0], (s[1] as unknown[]).map(decodeParam)];
  });
  return { seq: parsed.seq as number, statements };
}

/** Parses frames from the start of `buf` until the end or the first torn/corrupt frame. */
export function scanJournal(buf: Uint8Array): JournalScan {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const records: ScannedRecord[] = [];
  let offset = 0;
  const stop = (reason: string): JournalScan => ({ records, validBytes: offset, corrupt: { offset, reason } });
  while (offset < buf.length) {
    if (buf.length - offset < FRAME_HEADER_BYTES) return stop('truncated frame header');
    const length = view.getUint32(offset, true);
    const expectedCrc = view.getUint32(offset + 4, true);
    if (length > MAX_FRAME_PAYLOAD_BYTES) return stop(`implausible frame length ${length}`);
    const end = offset + FRAME_HEADER_BYTES + length;
    if (end > buf.length) return stop('truncated frame payload');
    const payload = buf.subarray(offset + FRAME_HEADER_BYTES, end);
    if (crc32(payload, crc32(buf.subarray(offset, offset + 4))) !== expectedCrc) return stop('checksum mismatch');
    let record: JournalRecord;
    try {
      record = decodePayload(payload);
    } catch (err) {
      return stop(`undecodable payload: ${(err as Error).message}`);
    }
    records.push({ ...record, offset, end });
    offset = end;
  }
  return { records, validBytes: offset, corrupt: null };
}

const JOURNAL_NAME = /^journal-(\d{16})\.log$/;

/** Journal files are named after the first sequence number they may hold. */
export function journalFileName(startSeq: number): string {
  return `journal-${String(startSeq).padStart(16, '0')}.log`;
}

export function parseJournalFileName(name: string): number | null {
  const m = JOURNAL_NAME.exec(name);
  return m ? Number(m[1]) : null;
}
