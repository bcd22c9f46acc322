import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalJson,
  canonicalJsonBytes,
  CanonicalJsonError,
  checkCanonicalJson,
  compareCodePoints,
} from './canonical.ts';
import vectors from '../vectors/appendix-canonical-json.json' with { type: 'json' };

test('appendix Canonical JSON examples, byte for byte', () => {
  assert.equal(vectors.cases.length, 10);
  for (const c of vectors.cases) {
    assert.equal(canonicalJson(JSON.parse(c.input)), c.expected);
    assert.deepEqual(canonicalJsonBytes(JSON.parse(c.input)), Buffer.from(c.expected, 'utf8'));
  }
});

test('bytes are UTF-8 without \\u escapes for non-ASCII', () => {
  const b = canonicalJsonBytes({ a: '日é😀' });
  assert.equal(b.toString('hex'), Buffer.from('{"a":"日é😀"}', 'utf8').toString('hex'));
  assert.equal(b.length, 8 + 3 + 2 + 4);
});

test('nested ordering: every object level is sorted, arrays keep their order', () => {
  const v = { z: [{ b: 1, a: 2 }, 3, { d: { y: 1, x: 2 } }], a: { c: 1, b: { f: 1, e: 2 } } };
  assert.equal(canonicalJson(v), '{"a":{"b":{"e":2,"f":1},"c":1},"z":[{"a":2,"b":1},3,{"d":{"x":2,"y":1}}]}');
});

test('keys sort by code point, not UTF-16 code unit', () => {
  // U+FF61 (BMP, above the surrogate range) < U+1F600 (astral): code-unit order says the opposite.
  const astral = '\u{1F600}';
  const highBmp = '\uFF61';
  assert.ok(astral < highBmp, 'JS default order puts the astral key first');
  assert.equal(canonicalJson({ [astral]: 1, [highBmp]: 2 }), `{"${highBmp}":2,"${astral}":1}`);
  assert.ok(compareCodePoints(highBmp, astral) < 0);
  assert.ok(compareCodePoints('a', 'ab') < 0);
  assert.ok(compareCodePoints('B', 'a') < 0, 'uppercase before lowercase');
  assert.equal(compareCodePoints('x', 'x'), 0);
  assert.equal(canonicalJson({ b: 1, B: 2, a: 3, _: 4, '': 5 }), '{"":5,"B":2,"_":4,"a":3,"b":1}');
});

test('string escapes: only " \\ and C0 controls; short forms where they exist; lowercase hex', () => {
  assert.equal(canonicalJson('"\\'), '"\\"\\\\"');
  assert.equal(canonicalJson('\b\t\n\f\r'), '"\\b\\t\\n\\f\\r"');
  assert.equal(canonicalJson('\u0000\u0001\u000b\u000e\u001f'), '"\\u0000\\u0001\\u000b\\u000e\\u001f"');
  assert.equal(canonicalJson('/'), '"/"', 'solidus is not escaped');
  assert.equal(canonicalJson('\u007f'), '"\u007f"', 'DEL is not escaped');
  assert.equal(canonicalJson('\u2028\u2029'), '"\u2028\u2029"', 'line separators are raw');
  assert.equal(canonicalJson('<script>&'), '"<script>&"');
  assert.equal(canonicalJson({ 'a\nb': 'c' }), '{"a\\nb":"c"}', 'keys are escaped too');
  // every C0 control round-trips through JSON.parse
  for (let c = 0; c < 0x20; c++) {
    const s = String.fromCharCode(c);
    const enc = canonicalJson(s);
    assert.equal(JSON.parse(enc), s);
    assert.match(enc, /^"\\([btnfr]|u00[01][0-9a-f])"$/);
  }
});

test('surrogate pairs pass; lone surrogates are rejected', () => {
  assert.equal(canonicalJson('\ud83d\ude00'), '"😀"');
  assert.throws(() => canonicalJson('\ud83d'), CanonicalJsonError);
  assert.throws(() => canonicalJson('x\ude00y'), CanonicalJsonError);
  assert.throws(() => canonicalJson({ '\ud800': 1 }), CanonicalJsonError);
});

test('integers at the bounds; beyond them rejected in strict mode', () => {
  const max = 2 ** 53 - 1;
  assert.equal(canonicalJson(max), '9007199254740991');
  assert.equal(canonicalJson(-max), '-9007199254740991');
  assert.throws(() => canonicalJson(2 ** 53), CanonicalJsonError);
  assert.throws(() => canonicalJson(-(2 ** 53)), CanonicalJsonError);
  assert.throws(() => canonicalJson({ depth: 1e300 }), CanonicalJsonError);
  assert.equal(canonicalJson(0), '0');
  assert.equal(canonicalJson(-0), '0', '-0 must not appear');
  assert.equal(canonicalJson(1e10), '10000000000', 'no exponent');
  assert.equal(canonicalJson(-42), '-42');
});

test('floats rejected in strict mode (default), with the path in the error', () => {
  assert.throws(() => canonicalJson(1.5), CanonicalJsonError);
  try {
    canonicalJson({ content: { list: [1, 0.1] } });
    assert.fail('expected throw');
  } catch (e) {
    assert.ok(e instanceof CanonicalJsonError);
    assert.equal(e.path, 'content.list[1]');
  }
  assert.deepEqual(checkCanonicalJson({ a: 1.5 }).ok, false);
  assert.deepEqual(checkCanonicalJson({ a: 1 }), { ok: true });
});

test('lenient mode (room versions 1–5) writes floats and big numbers as JS does', () => {
  assert.equal(canonicalJson({ b: 1.5, a: 2 ** 53 }, { strict: false }), '{"a":9007199254740992,"b":1.5}');
  assert.equal(canonicalJson(0.1, { strict: false }), '0.1');
  assert.equal(canonicalJson(1e21, { strict: false }), '1e+21');
  assert.equal(canonicalJson(-0, { strict: false }), '0');
  assert.throws(() => canonicalJson(NaN, { strict: false }), CanonicalJsonError);
  assert.throws(() => canonicalJson(Infinity, { strict: false }), CanonicalJsonError);
});

test('literals, empty containers, arrays', () => {
  assert.equal(canonicalJson(null), 'null');
  assert.equal(canonicalJson(true), 'true');
  assert.equal(canonicalJson(false), 'false');
  assert.equal(canonicalJson([]), '[]');
  assert.equal(canonicalJson([[], {}, [null]]), '[[],{},[null]]');
  assert.equal(canonicalJson(''), '""');
});

test('non-JSON values are rejected; undefined object members are omitted', () => {
  assert.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}');
  assert.throws(() => canonicalJson(undefined), CanonicalJsonError);
  assert.throws(() => canonicalJson([undefined]), CanonicalJsonError);
  assert.throws(() => canonicalJson(() => 1), CanonicalJsonError);
  assert.throws(() => canonicalJson(Symbol('x')), CanonicalJsonError);
  assert.throws(() => canonicalJson(10n), CanonicalJsonError);
  assert.throws(() => canonicalJson(new Date(0)), CanonicalJsonError);
  assert.throws(() => canonicalJson(new Map()), CanonicalJsonError);
  assert.throws(() => canonicalJson(Buffer.from('x')), CanonicalJsonError);
  assert.equal(canonicalJson(Object.assign(Object.create(null), { b: 1, a: 2 })), '{"a":2,"b":1}');
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => canonicalJson(cyclic), CanonicalJsonError);
  // the same object twice (not a cycle) is fine
  const shared = { x: 1 };
  assert.equal(canonicalJson([shared, shared]), '[{"x":1},{"x":1}]');
});

test('output parses back to an equal value (round trip over a mixed structure)', () => {
  const v = { type: 'm.room.message', content: { body: 'hi\n"there"', n: [1, -2, 3], nested: { ü: true } } };
  assert.deepEqual(JSON.parse(canonicalJson(v)), v);
  assert.equal(canonicalJson(JSON.parse(canonicalJson(v))), canonicalJson(v), 'idempotent');
});
