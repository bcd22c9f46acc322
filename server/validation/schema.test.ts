/** The schema module: each combinator Hearth uses, with zod 4's semantics, issue paths and messages. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from './schema.ts';

/** The issues of a failed parse, as [path, code, message]. */
function issuesOf(schema: z.Schema, input: unknown): [string, string, string][] {
  const r = schema.safeParse(input);
  assert.equal(r.success, false, `expected ${JSON.stringify(input)} to be rejected`);
  return r.error!.issues.map((i) => [i.path.join('.'), i.code, i.message]);
}

function dataOf<S extends z.Schema>(schema: S, input: unknown): z.infer<S> {
  const r = schema.safeParse(input);
  assert.ok(r.success, `expected ${JSON.stringify(input)} to be accepted: ${JSON.stringify(r.error?.issues)}`);
  return r.data;
}

describe('leaves', () => {
  it('string: any string, with a type error otherwise', () => {
    assert.equal(dataOf(z.string(), ''), '');
    assert.deepEqual(issuesOf(z.string(), 5), [['', 'invalid_type', 'Invalid input: expected string, received number']]);
    assert.deepEqual(issuesOf(z.string(), null), [['', 'invalid_type', 'Invalid input: expected string, received null']]);
    assert.deepEqual(issuesOf(z.string(), ['a']), [['', 'invalid_type', 'Invalid input: expected string, received array']]);
  });

  it('string min/max count code points, a surrogate pair once', () => {
    const s = z.string().min(2).max(3);
    assert.equal(dataOf(s, 'ab'), 'ab');
    assert.equal(dataOf(s, '😀😀😀'), '😀😀😀');
    assert.deepEqual(issuesOf(s, '😀'), [['', 'too_small', 'Too small: expected string to have >=2 characters']]);
    assert.deepEqual(issuesOf(s, 'abcd'), [['', 'too_big', 'Too big: expected string to have <=3 characters']]);
    assert.deepEqual(issuesOf(z.string().min(1, 'access_token is required'), ''), [['', 'too_small', 'access_token is required']]);
  });

  it('string formats: regex, startsWith, email, url (trimmed)', () => {
    assert.deepEqual(issuesOf(z.string().regex(/^\d+$/), 'x'), [['', 'invalid_format', 'Invalid string: must match pattern /^\\d+$/']]);
    assert.deepEqual(issuesOf(z.string().regex(/^\d+$/, 'digits only'), 'x'), [['', 'invalid_format', 'digits only']]);
    assert.deepEqual(issuesOf(z.string().startsWith('!', 'must be a room id'), 'a'), [['', 'invalid_format', 'must be a room id']]);
    assert.deepEqual(issuesOf(z.string().startsWith('!'), 'a'), [['', 'invalid_format', 'Invalid string: must start with "!"']]);
    assert.equal(dataOf(z.string().email(), 'ann@example.org'), 'ann@example.org');
    assert.deepEqual(issuesOf(z.string().email(), 'ann@'), [['', 'invalid_format', 'Invalid email address']]);
    assert.equal(dataOf(z.string().url(), ' https://example.org/a\tb '), 'https://example.org/ab');
    assert.deepEqual(issuesOf(z.string().url(), 'not a url'), [['', 'invalid_format', 'Invalid URL']]);
  });

  it('number: finite only; int within ±(2^53 − 1); positive, nonnegative, min, max', () => {
    assert.equal(dataOf(z.number(), -1.5), -1.5);
    assert.deepEqual(issuesOf(z.number(), NaN), [['', 'invalid_type', 'Invalid input: expected number, received NaN']]);
    assert.deepEqual(issuesOf(z.number(), Infinity), [['', 'invalid_type', 'Invalid input: expected number, received Infinity']]);
    assert.deepEqual(issuesOf(z.number(), '1'), [['', 'invalid_type', 'Invalid input: expected number, received string']]);
    const int = z.number().int();
    assert.equal(dataOf(int, Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
    assert.deepEqual(issuesOf(int, 1.5), [['', 'invalid_type', 'Invalid input: expected int, received number']]);
    assert.deepEqual(issuesOf(int, 2 ** 53), [['', 'too_big', 'Too big: expected int to be <=9007199254740991']]);
    assert.deepEqual(issuesOf(int, -(2 ** 53)), [['', 'too_small', 'Too small: expected int to be >=-9007199254740991']]);
    assert.deepEqual(issuesOf(z.number().positive(), 0), [['', 'too_small', 'Too small: expected number to be >0']]);
    assert.deepEqual(issuesOf(z.number().nonnegative(), -1), [['', 'too_small', 'Too small: expected number to be >=0']]);
    assert.deepEqual(issuesOf(z.number().min(1).max(3), 4), [['', 'too_big', 'Too big: expected number to be <=3']]);
    // A non-integer stops the checks after it; a range failure does not.
    assert.equal(issuesOf(z.number().int().min(5), 1.5).length, 1);
    assert.equal(issuesOf(z.number().min(5).max(1), 3).length, 2);
  });

  it('coerce.number reads query strings', () => {
    const q = z.coerce.number().int().min(0);
    assert.equal(dataOf(q, '42'), 42);
    assert.deepEqual(issuesOf(q, 'x'), [['', 'invalid_type', 'Invalid input: expected number, received NaN']]);
    assert.deepEqual(issuesOf(q, '-1'), [['', 'too_small', 'Too small: expected number to be >=0']]);
  });

  it('boolean, unknown, enum, literal', () => {
    assert.equal(dataOf(z.boolean(), false), false);
    assert.deepEqual(issuesOf(z.boolean(), 'true'), [['', 'invalid_type', 'Invalid input: expected boolean, received string']]);
    assert.equal(dataOf(z.unknown(), undefined), undefined);
    const dir = z.enum(['f', 'b']);
    assert.equal(dataOf(dir, 'b'), 'b');
    assert.deepEqual(dir.options, ['f', 'b']);
    assert.deepEqual(issuesOf(dir, 'x'), [['', 'invalid_value', 'Invalid option: expected one of "f"|"b"']]);
    assert.deepEqual(issuesOf(z.enum(['only']), 'x'), [['', 'invalid_value', 'Invalid input: expected "only"']]);
    assert.deepEqual(issuesOf(z.literal('m.space.child'), 'm.room'), [['', 'invalid_value', 'Invalid input: expected "m.space.child"']]);
  });
});

describe('objects', () => {
  const body = z.object({ name: z.string(), age: z.number().optional(), pet: z.string().nullable() });

  it('z.object strips unknown keys', () => {
    assert.deepEqual(dataOf(body, { name: 'a', pet: null, extra: 1 }), { name: 'a', pet: null });
  });

  it('z.looseObject keeps them, after the declared keys', () => {
    const loose = z.looseObject({ kind: z.string() });
    assert.deepEqual(Object.entries(dataOf(loose, { x: 1, kind: 'k' })), [
      ['kind', 'k'],
      ['x', 1],
    ]);
  });

  it('only non-null, non-array objects', () => {
    for (const [input, received] of [[null, 'null'], [[], 'array'], ['s', 'string']] as const) {
      assert.deepEqual(issuesOf(body, input), [['', 'invalid_type', `Invalid input: expected object, received ${received}`]]);
    }
  });

  it('a missing required key is invalid_type with input undefined, also for z.unknown()', () => {
    const r = z.object({ a: z.string(), b: z.unknown(), c: z.enum(['x']) }).safeParse({}, { reportInput: true });
    assert.equal(r.success, false);
    assert.deepEqual(r.error!.issues, [
      { code: 'invalid_type', path: ['a'], message: 'Invalid input: expected string, received undefined', input: undefined },
      { code: 'invalid_type', path: ['b'], message: 'Invalid input: expected nonoptional, received undefined', input: undefined },
      // An enum's issue stays invalid_value, as in zod (so a missing enum field is M_BAD_JSON, not M_MISSING_PARAM).
      { code: 'invalid_value', path: ['c'], message: 'Invalid input: expected "x"', input: undefined },
    ]);
    assert.ok(!('input' in z.string().safeParse(1).error!.issues[0]!), 'input only with reportInput');
  });

  it('optional keys: absent stays absent, explicit undefined stays undefined', () => {
    assert.deepEqual(dataOf(body, { name: 'a', pet: 'cat' }), { name: 'a', pet: 'cat' });
    assert.ok(!('age' in dataOf(body, { name: 'a', pet: 'cat' })));
    assert.ok('age' in dataOf(body, { name: 'a', pet: 'cat', age: undefined }));
  });

  it('issue paths name the nested key and index', () => {
    const rooms = z.object({ rooms: z.array(z.object({ id: z.string().min(1) })) });
    assert.deepEqual(issuesOf(rooms, { rooms: [{ id: 'a' }, { id: '' }] }), [['rooms.1.id', 'too_small', 'Too small: expected string to have >=1 characters']]);
  });

  it('extend replaces and adds keys, and keeps looseness', () => {
    const base = z.looseObject({ limit: z.number().optional() });
    const more = base.extend({ limit: z.string(), rooms: z.array(z.string()).optional() });
    assert.deepEqual(dataOf(more, { limit: 'x', other: true }), { limit: 'x', other: true });
    assert.deepEqual(issuesOf(more, { limit: 1 }), [['limit', 'invalid_type', 'Invalid input: expected string, received number']]);
    assert.deepEqual(Object.keys(more.shape), ['limit', 'rooms']);
  });

  it('refine on an object runs only when its fields are well typed', () => {
    const purge = z
      .object({ beforeTs: z.number().optional(), keepLatest: z.number().optional() })
      .refine((b) => (b.beforeTs === undefined) !== (b.keepLatest === undefined), 'give exactly one');
    assert.deepEqual(dataOf(purge, { beforeTs: 1 }), { beforeTs: 1 });
    assert.deepEqual(issuesOf(purge, {}), [['', 'custom', 'give exactly one']]);
    assert.deepEqual(issuesOf(purge, { beforeTs: 'x' }), [['beforeTs', 'invalid_type', 'Invalid input: expected number, received string']]);
  });
});

describe('wrappers', () => {
  it('optional accepts undefined; nullable accepts null', () => {
    assert.equal(dataOf(z.string().optional(), undefined), undefined);
    assert.equal(dataOf(z.string().nullable(), null), null);
    assert.deepEqual(issuesOf(z.string().optional(), null), [['', 'invalid_type', 'Invalid input: expected string, received null']]);
    assert.equal(z.enum(['a']).optional().unwrap().options[0], 'a');
  });

  it('default replaces undefined (absent key too), with a fresh copy each time', () => {
    const q = z.object({ dir: z.enum(['f', 'b']).default('f'), list: z.array(z.string()).default([]) });
    const a = dataOf(q, {});
    assert.deepEqual(a, { dir: 'f', list: [] });
    a.list.push('x');
    assert.deepEqual(dataOf(q, {}).list, []);
    assert.deepEqual(issuesOf(q, { dir: 'x' })[0]![0], 'dir');
  });

  it('catch replaces any invalid input; optional().catch() leaves an absent key out', () => {
    const summary = z.object({ name: z.string().min(1).optional().catch(undefined), children: z.array(z.unknown()).catch([]).default([]) });
    assert.deepEqual(dataOf(summary, {}), { children: [] });
    assert.deepEqual(dataOf(summary, { name: '', children: 'x' }), { name: undefined, children: [] });
    assert.deepEqual(dataOf(summary, { name: 'n', children: [1] }), { name: 'n', children: [1] });
  });

  it('transform maps valid output only; refine after it sees the mapped value', () => {
    const limit = z
      .string()
      .regex(/^\d{1,9}$/, 'must be a non-negative integer')
      .transform(Number)
      .refine((n) => n > 0, 'must be greater than zero');
    assert.equal(dataOf(limit, '12'), 12);
    assert.deepEqual(issuesOf(limit, 'x'), [['', 'invalid_format', 'must be a non-negative integer']]);
    assert.deepEqual(issuesOf(limit, '0'), [['', 'custom', 'must be greater than zero']]);
    const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
    assert.equal(dataOf(bool.default(true), undefined), true);
    assert.equal(dataOf(bool, 'false'), false);
  });
});

describe('arrays, records, unions, tuples', () => {
  it('array min/max count items; an over-long array is refused before its items are read', () => {
    const list = z.array(z.string()).min(1).max(2);
    assert.deepEqual(dataOf(list, ['a']), ['a']);
    assert.deepEqual(issuesOf(list, []), [['', 'too_small', 'Too small: expected array to have >=1 items']]);
    assert.deepEqual(issuesOf(list, [1, 2, 3]), [['', 'too_big', 'Too big: expected array to have <=2 items']]);
    assert.deepEqual(issuesOf(list, [1]), [['0', 'invalid_type', 'Invalid input: expected string, received number']]);
  });

  it('record checks every key and value, paths by key', () => {
    const rec = z.record(z.string().max(2), z.number());
    assert.deepEqual(dataOf(rec, { a: 1, bb: 2 }), { a: 1, bb: 2 });
    assert.deepEqual(issuesOf(rec, { abc: 1, x: 'y' }), [
      ['abc', 'invalid_key', 'Invalid key in record'],
      ['x', 'invalid_type', 'Invalid input: expected number, received string'],
    ]);
    assert.deepEqual(issuesOf(rec, []), [['', 'invalid_type', 'Invalid input: expected record, received array']]);
  });

  it('union: the first option that accepts; one soft failure reports its own issues; else invalid_union', () => {
    const keys = z.union([z.string(), z.looseObject({ key: z.string() })]);
    assert.equal(dataOf(keys, 'k'), 'k');
    assert.deepEqual(dataOf(keys, { key: 'k', x: 1 }), { key: 'k', x: 1 });
    assert.deepEqual(issuesOf(keys, 5), [['', 'invalid_union', 'Invalid input']]);
    const v = z.union([z.string().min(1), z.array(z.string()).min(1)]);
    assert.deepEqual(issuesOf(v, ''), [['', 'too_small', 'Too small: expected string to have >=1 characters']]);
    const repeated = z.union([z.string(), z.array(z.string())]).transform((x) => (Array.isArray(x) ? x : [x]));
    assert.deepEqual(dataOf(repeated, 'a'), ['a']);
  });

  it('tuple: fixed length, item paths by index', () => {
    const pair = z.tuple([z.string(), z.number()]);
    assert.deepEqual(dataOf(pair, ['a', 1]), ['a', 1]);
    assert.deepEqual(issuesOf(pair, ['a']), [['', 'too_small', 'Too small: expected array to have >=2 items']]);
    assert.deepEqual(issuesOf(pair, ['a', 1, 2]), [['', 'too_big', 'Too big: expected array to have <=2 items']]);
    assert.deepEqual(issuesOf(pair, ['a', 'b']), [['1', 'invalid_type', 'Invalid input: expected number, received string']]);
    assert.deepEqual(issuesOf(pair, 'ab'), [['', 'invalid_type', 'Invalid input: expected tuple, received string']]);
  });
});

describe('inferred types', () => {
  it('match what the parse gives', () => {
    const s = z.looseObject({ a: z.string(), b: z.number().optional(), c: z.boolean().default(false), d: z.string().transform(Number) });
    type T = z.infer<typeof s>;
    const t: T = { a: 'x', c: true, d: 1, extra: [] };
    // @ts-expect-error a is required
    const missing: T = { c: true, d: 1 };
    assert.ok(t && missing);
  });
});
