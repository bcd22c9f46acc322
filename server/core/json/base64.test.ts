import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Base64Error, decodeBase64, decodeBase64Url, encodeBase64, encodeBase64Url, tryDecodeBase64 } from './base64.ts';

const SPEC = [
  ['', ''],
  ['f', 'Zg'],
  ['fo', 'Zm8'],
  ['foo', 'Zm9v'],
  ['foob', 'Zm9vYg'],
  ['fooba', 'Zm9vYmE'],
  ['foobar', 'Zm9vYmFy'],
] as const;

test('appendix Unpadded Base64 examples', () => {
  for (const [plain, enc] of SPEC) {
    assert.equal(encodeBase64(Buffer.from(plain)), enc);
    assert.equal(decodeBase64(enc).toString(), plain);
    assert.equal(encodeBase64Url(Buffer.from(plain)), enc);
    assert.equal(decodeBase64Url(enc).toString(), plain);
  }
});

test('decoding accepts padded input', () => {
  assert.equal(decodeBase64('Zg==').toString(), 'f');
  assert.equal(decodeBase64('Zm8=').toString(), 'fo');
  assert.equal(decodeBase64Url('Zm8=').toString(), 'fo');
});

test('standard vs URL-safe alphabets', () => {
  const bytes = Buffer.from([0xfb, 0xff, 0xbf]);
  assert.equal(encodeBase64(bytes), '+/+/');
  assert.equal(encodeBase64Url(bytes), '-_-_');
  assert.deepEqual(decodeBase64('+/+/'), bytes);
  assert.deepEqual(decodeBase64Url('-_-_'), bytes);
  assert.throws(() => decodeBase64('-_-_'), Base64Error);
  assert.throws(() => decodeBase64Url('+/+/'), Base64Error);
});

test('invalid input is rejected, not skipped', () => {
  for (const bad of ['Zm9v!', 'Zm 9v', 'Zm9v\n', 'Z', 'Zm9vY', 'Zg=', 'Zg===', 'Z===', '=Zg', 'Zm=9', 'Zm9v====', 'Zm8==']) {
    assert.throws(() => decodeBase64(bad), Base64Error, JSON.stringify(bad));
    assert.equal(tryDecodeBase64(bad), undefined);
  }
  assert.throws(() => decodeBase64Url('Zm9v.'), Base64Error);
});

test('round trips over all lengths 0..64 and every byte value', () => {
  const all = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) all[i] = i;
  for (let n = 0; n <= 64; n++) {
    const b = all.subarray(256 - n);
    const s = encodeBase64(b);
    assert.ok(!s.includes('='));
    assert.deepEqual(decodeBase64(s), b);
    const u = encodeBase64Url(b);
    assert.ok(!/[=+/]/.test(u));
    assert.deepEqual(decodeBase64Url(u), b);
  }
  assert.deepEqual(decodeBase64(encodeBase64(all)), all);
  // Uint8Array (not Buffer) views encode only their window
  const view = new Uint8Array(all.buffer, 10, 3);
  assert.equal(encodeBase64(view), encodeBase64(Buffer.from([10, 11, 12])));
});
