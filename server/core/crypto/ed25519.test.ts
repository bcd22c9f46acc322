import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ed25519Sign,
  ed25519Verify,
  isValidKeyVersion,
  parseKeyId,
  publicKeyFromSeed,
  signingKeyFromSeed,
} from './ed25519.ts';
import { decodeBase64, encodeBase64 } from '../json/base64.ts';
import vectors from '../vectors/appendix-signing.json' with { type: 'json' };

const seed = decodeBase64(vectors.seed);

test('appendix signing key: seed → public key', () => {
  assert.equal(seed.length, 32);
  const key = signingKeyFromSeed(seed, '1');
  assert.equal(key.keyId, vectors.keyId);
  assert.equal(key.publicKeyBase64, vectors.publicKey);
  assert.equal(encodeBase64(publicKeyFromSeed(seed)), vectors.publicKey);
  assert.equal(key.publicKey.length, 32);
});

test('RFC 8032 test 1 (empty message)', () => {
  const sk = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
  const key = signingKeyFromSeed(sk, 'rfc');
  assert.equal(key.publicKey.toString('hex'), 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
  const sig = ed25519Sign(key, Buffer.alloc(0));
  assert.equal(
    sig.toString('hex'),
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  );
  assert.ok(ed25519Verify(key.publicKey, Buffer.alloc(0), sig));
});

test('verify rejects wrong data, wrong key, tampered or malformed signatures', () => {
  const key = signingKeyFromSeed(seed, '1');
  const other = signingKeyFromSeed(Buffer.alloc(32, 7), '1');
  const data = Buffer.from('hello');
  const sig = ed25519Sign(key, data);
  assert.ok(ed25519Verify(key.publicKey, data, sig));
  assert.ok(!ed25519Verify(key.publicKey, Buffer.from('hellO'), sig));
  assert.ok(!ed25519Verify(other.publicKey, data, sig));
  const bad = Buffer.from(sig);
  bad[0] = bad[0]! ^ 1;
  assert.ok(!ed25519Verify(key.publicKey, data, bad));
  assert.ok(!ed25519Verify(key.publicKey, data, sig.subarray(0, 63)));
  assert.ok(!ed25519Verify(key.publicKey.subarray(0, 31), data, sig));
  assert.ok(!ed25519Verify(Buffer.alloc(32, 0xff), data, sig), 'invalid point does not throw');
});

test('seed and key id validation', () => {
  assert.throws(() => signingKeyFromSeed(Buffer.alloc(31), '1'));
  assert.throws(() => signingKeyFromSeed(seed, 'a:b'));
  assert.throws(() => signingKeyFromSeed(seed, ''));
  assert.ok(isValidKeyVersion('a_B9'));
  assert.ok(!isValidKeyVersion('a-b'));
  assert.deepEqual(parseKeyId('ed25519:abc'), { algorithm: 'ed25519', version: 'abc' });
  assert.deepEqual(parseKeyId('ed25519:a:b'), { algorithm: 'ed25519', version: 'a:b' });
  assert.equal(parseKeyId('ed25519'), undefined);
  assert.equal(parseKeyId(':x'), undefined);
  assert.equal(parseKeyId('ed25519:'), undefined);
});
