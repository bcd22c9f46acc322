import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256 } from './sha256.ts';

test('SHA-256 known answers (FIPS 180-2)', () => {
  assert.equal(sha256('').toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(sha256('abc').toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.deepEqual(sha256(Buffer.from('abc')), sha256('abc'));
  assert.equal(sha256('日').length, 32);
  assert.deepEqual(sha256('日'), sha256(Buffer.from('日', 'utf8')), 'strings hash as UTF-8');
});
