import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signingKeyFromSeed } from './ed25519.ts';
import { computeSignature, signJson, verifyJsonSignatures, verifySignature } from './signing.ts';
import { decodeBase64 } from '../json/base64.ts';
import { canonicalJson } from '../json/canonical.ts';
import vectors from '../vectors/appendix-signing.json' with { type: 'json' };

const key = signingKeyFromSeed(decodeBase64(vectors.seed), '1');
const keys = { domain: { 'ed25519:1': vectors.publicKey } };

test('appendix JSON Signing vectors, byte for byte', () => {
  for (const v of vectors.json) {
    const signed = signJson(v.input, vectors.serverName, key);
    assert.deepEqual(signed, v.signed);
    assert.equal(canonicalJson(signed), canonicalJson(v.signed));
    assert.deepEqual(verifyJsonSignatures(v.signed, 'domain', keys), { ok: true });
  }
});

test('signJson does not mutate, keeps unsigned and other signatures; unsigned is not covered', () => {
  const input = { a: 1, unsigned: { age: 5 }, signatures: { other: { 'ed25519:x': 'abc' } } };
  const frozen = structuredClone(input);
  const signed = signJson(input, 'domain', key);
  assert.deepEqual(input, frozen);
  assert.deepEqual(signed.unsigned, { age: 5 });
  assert.equal(signed.signatures.other!['ed25519:x'], 'abc');
  assert.equal(signed.signatures.domain!['ed25519:1'], computeSignature({ a: 1 }, key));
  // changing unsigned or adding signatures keeps it valid
  const moved = { ...signed, unsigned: { age: 99 }, signatures: { ...signed.signatures, more: { 'ed25519:z': 'x' } } };
  assert.deepEqual(verifyJsonSignatures(moved, 'domain', keys), { ok: true });
  // a second key from the same entity accumulates
  const key2 = signingKeyFromSeed(Buffer.alloc(32, 3), '2');
  const twice = signJson(signed, 'domain', key2);
  assert.deepEqual(Object.keys(twice.signatures.domain!).sort(), ['ed25519:1', 'ed25519:2']);
});

test('checking for a signature: the appendix steps', () => {
  const signed = signJson({ one: 1, two: 'Two' }, 'domain', key);
  // 1. missing entity
  assert.equal(verifyJsonSignatures(signed, 'elsewhere', keys).ok, false);
  assert.equal(verifyJsonSignatures({ one: 1 }, 'domain', keys).ok, false);
  // 2. only unknown algorithms
  const weird = { one: 1, signatures: { domain: { 'curve25519:1': 'AAAA' } } };
  assert.equal(verifyJsonSignatures(weird, 'domain', keys).ok, false);
  // 3. no verification key found
  assert.equal(verifyJsonSignatures(signed, 'domain', { domain: { 'ed25519:2': vectors.publicKey } }).ok, false);
  assert.equal(verifyJsonSignatures(signed, 'domain', {}).ok, false);
  // 4. undecodable signature
  const garbled = { ...signed, signatures: { domain: { 'ed25519:1': '!!!' } } };
  assert.equal(verifyJsonSignatures(garbled, 'domain', keys).ok, false);
  // 7. tampered content
  assert.equal(verifyJsonSignatures({ ...signed, one: 2 }, 'domain', keys).ok, false);
  // wrong key
  const wrong = signingKeyFromSeed(Buffer.alloc(32, 9), '1');
  assert.equal(verifyJsonSignatures(signed, 'domain', { domain: { 'ed25519:1': wrong.publicKeyBase64 } }).ok, false);
  // unknown extra key ids are skipped, but every known one must verify
  const extra = { ...signed, signatures: { domain: { ...signed.signatures.domain, 'ed25519:zz': 'AAAA' } } };
  assert.deepEqual(verifyJsonSignatures(extra, 'domain', keys), { ok: true });
  assert.equal(
    verifyJsonSignatures(extra, 'domain', { domain: { ...keys.domain, 'ed25519:zz': vectors.publicKey } }).ok,
    false,
  );
});

test('key validity: expired keys are ignored when a time is given', () => {
  const signed = signJson({ x: 1 }, 'domain', key);
  const expiring = { domain: { 'ed25519:1': { key: vectors.publicKey, validUntilTs: 1000 } } };
  assert.deepEqual(verifyJsonSignatures(signed, 'domain', expiring, { atTs: 1000 }), { ok: true });
  assert.equal(verifyJsonSignatures(signed, 'domain', expiring, { atTs: 1001 }).ok, false);
  assert.deepEqual(verifyJsonSignatures(signed, 'domain', expiring), { ok: true });
});

test('verifySignature with raw or base64 key', () => {
  const obj = { hello: 'world' };
  const sig = computeSignature(obj, key);
  assert.ok(verifySignature(obj, sig, vectors.publicKey));
  assert.ok(verifySignature(obj, sig, key.publicKey));
  assert.ok(!verifySignature({ hello: 'World' }, sig, key.publicKey));
  assert.ok(!verifySignature(obj, 'not base64!', key.publicKey));
});

test('lenient canonical JSON option reaches the signer (floats in v1–5 events)', () => {
  assert.throws(() => signJson({ f: 1.5 }, 'domain', key));
  const signed = signJson({ f: 1.5 }, 'domain', key, { strict: false });
  assert.deepEqual(verifyJsonSignatures(signed, 'domain', keys, { strict: false }), { ok: true });
});
