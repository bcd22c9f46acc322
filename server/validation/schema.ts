/**
 * Schemas for what Hearth reads from outside: request bodies and queries, the settings file and
 * remote servers' answers. It offers the part of zod 4's API that Hearth uses (`z.object`,
 * `z.string().min(1)`, `.optional()`, `z.infer<typeof s>`, ...) with zod 4's semantics and English
 * messages, because clients see those through M_BAD_JSON / M_MISSING_PARAM / M_INVALID_PARAM. It
 * replaces zod itself, whose core, schema classes and locales cost several MB of resident memory;
 * here a schema is an object holding a few closures.
 */

/** A problem with the input. `input` is there only when the parse asked for `reportInput`. */
export interface SchemaIssue {
  code: 'invalid_type' | 'invalid_value' | 'invalid_format' | 'invalid_key' | 'invalid_union' | 'too_small' | 'too_big' | 'custom';
  path: (string | number)[];
  message: string;
  input?: unknown;
}

/** An issue while parsing. `continue: true` lets later checks run; anything else aborts them (zod's rule). */
interface PendingIssue extends SchemaIssue {
  input: unknown;
  continue?: boolean;
}

/** One value on its way through a schema, with what went wrong so far. */
interface Payload {
  value: unknown;
  issues: PendingIssue[];
  /** Set by a pipe whose input failed: no further check may run. */
  aborted?: boolean;
}

interface Check {
  (payload: Payload): void;
  /** Length checks run even after a type error, as long as the value has a length (as zod's do). */
  whenHasLength?: boolean;
  /** The most a length check allows. */
  maxLength?: number;
}

export type SafeParseResult<T> =
  | { success: true; data: T; error?: never }
  | { success: false; data?: never; error: { issues: SchemaIssue[] } };

/** zod's `optin`: whether an object key may be absent, and whether absence is filled in. */
type AbsentKey = 'optional' | 'defaulted' | undefined;

// ---- messages, worded as zod 4's English locale words them

function typeName(value: unknown): string {
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : Number.isFinite(value) ? 'number' : String(value);
  if (typeof value !== 'object') return typeof value;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const proto: unknown = Object.getPrototypeOf(value);
  const ctor = (value as { constructor?: { name?: string } }).constructor;
  return proto !== Object.prototype && ctor ? String(ctor.name) : 'object';
}

const quote = (v: unknown): string => (typeof v === 'string' ? `"${v}"` : String(v));

function issue(code: SchemaIssue['code'], input: unknown, message: string, carryOn?: boolean): PendingIssue {
  return carryOn === undefined ? { code, path: [], message, input } : { code, path: [], message, input, continue: carryOn };
}

function invalidType(expected: string, input: unknown): PendingIssue {
  return issue('invalid_type', input, `Invalid input: expected ${expected}, received ${typeName(input)}`);
}

function invalidValue(values: readonly unknown[], input: unknown): PendingIssue {
  const message = values.length === 1 ? `Invalid input: expected ${quote(values[0])}` : `Invalid option: expected one of ${values.map(quote).join('|')}`;
  return issue('invalid_value', input, message);
}

/** too_small / too_big: sizes of strings and arrays "have" units; numbers "are". */
function outOfRange(code: 'too_small' | 'too_big', origin: string, bound: number, inclusive: boolean, input: unknown, carryOn?: boolean): PendingIssue {
  const head = code === 'too_small' ? `Too small: expected ${origin}` : `Too big: expected ${origin}`;
  const adj = inclusive ? (code === 'too_small' ? '>=' : '<=') : code === 'too_small' ? '>' : '<';
  const unit = origin === 'string' ? 'characters' : origin === 'array' ? 'items' : undefined;
  return issue(code, input, unit ? `${head} to have ${adj}${bound} ${unit}` : `${head} to be ${adj}${bound}`, carryOn);
}

// ---- the parse loop

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** zod's test for a record: an object whose constructor, if any, looks like Object. */
const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (!isObject(v)) return false;
  const ctor: unknown = v.constructor;
  if (typeof ctor !== 'function') return true;
  const proto: unknown = ctor.prototype;
  return isObject(proto) && Object.hasOwn(proto, 'isPrototypeOf');
};

/** Any issue that does not explicitly let checks carry on aborts them. */
function aborted(p: Payload, from = 0): boolean {
  if (p.aborted) return true;
  for (let i = from; i < p.issues.length; i++) if (p.issues[i]!.continue !== true) return true;
  return false;
}

function runChecks(p: Payload, checks: readonly Check[]): Payload {
  let stop = aborted(p);
  for (const check of checks) {
    if (check.whenHasLength) {
      const v = p.value as { length?: unknown } | null | undefined;
      if (p.aborted || p.issues.some((i) => i.continue === false) || v === null || v === undefined || v.length === undefined) continue;
    } else if (stop) continue;
    const before = p.issues.length;
    check(p);
    if (!stop && p.issues.length !== before) stop = aborted(p, before);
  }
  return p;
}

function prefix(key: string | number, issues: PendingIssue[]): PendingIssue[] {
  for (const i of issues) i.path.unshift(key);
  return issues;
}

function finalize(i: PendingIssue, reportInput: boolean): SchemaIssue {
  return reportInput ? { code: i.code, path: i.path, message: i.message, input: i.input } : { code: i.code, path: i.path, message: i.message };
}

/** Copies an array or plain object default, so no caller can change the default for the next one. */
function shallowClone<T>(v: T): T {
  return Array.isArray(v) ? ([...v] as T) : isPlainObject(v) ? { ...v } : v;
}

// ---- schemas

type AnySchema = Schema<unknown, boolean>;

/**
 * A schema producing `Out`. `OptionalKey` says whether an object may leave the key out (zod's
 * "optout"); both type parameters exist only for inference.
 */
export class Schema<Out, OptionalKey extends boolean = false> {
  declare readonly _output: Out;
  declare readonly _optionalKey: OptionalKey;
  protected checks: readonly Check[] = [];

  constructor(
    private readonly parseValue: (p: Payload) => Payload,
    readonly absentKey: AbsentKey = undefined,
    readonly optionalKey = false,
  ) {}

  run(p: Payload): Payload {
    const out = this.parseValue(p);
    return this.checks.length === 0 ? out : runChecks(out, this.checks);
  }

  safeParse(data: unknown, params?: { reportInput?: boolean }): SafeParseResult<this['_output']> {
    const p = this.run({ value: data, issues: [] });
    if (p.issues.length === 0) return { success: true, data: p.value as this['_output'] };
    return { success: false, error: { issues: p.issues.map((i) => finalize(i, params?.reportInput === true)) } };
  }

  /** A copy of this schema with one more check. */
  protected withCheck(check: Check): this {
    const next = Object.create(Object.getPrototypeOf(this) as object) as this;
    return Object.assign(next, this, { checks: [...this.checks, check] });
  }

  refine(accept: (value: this['_output']) => unknown, message = 'Invalid input'): this {
    return this.withCheck((p) => {
      if (!accept(p.value as this['_output'])) p.issues.push(issue('custom', p.value, message, true));
    });
  }

  optional(): OptionalSchema<this> {
    return new OptionalSchema(this);
  }

  nullable(): Schema<this['_output'] | null, this['_optionalKey']> {
    const inner: AnySchema = this;
    return new Schema((p) => (p.value === null ? p : inner.run(p)), inner.absentKey, inner.optionalKey);
  }

  /** `value` for undefined (not validated, as in zod), and for an inner result of undefined. */
  default(value: Exclude<this['_output'], undefined>): Schema<Exclude<this['_output'], undefined>> {
    const inner: AnySchema = this;
    return new Schema((p) => {
      if (p.value === undefined) {
        p.value = shallowClone(value);
        return p;
      }
      const r = inner.run(p);
      if (r.value === undefined) r.value = shallowClone(value);
      return r;
    }, 'defaulted');
  }

  /** `value` in place of any input the schema rejects. */
  catch(value: this['_output']): Schema<this['_output'], this['_optionalKey']> {
    const inner: AnySchema = this;
    return new Schema(
      (p) => {
        const r = inner.run({ value: p.value, issues: [] });
        p.value = r.issues.length === 0 ? r.value : value;
        return p;
      },
      inner.absentKey === 'defaulted' ? 'defaulted' : 'optional',
      inner.optionalKey,
    );
  }

  /** Maps a valid value; never runs on an invalid one (zod's pipe into a transform). */
  transform<T>(map: (value: this['_output']) => T): Schema<T> {
    const inner: AnySchema = this;
    return new Schema((p) => {
      const r = inner.run(p);
      if (r.issues.length > 0) {
        r.aborted = true;
        return r;
      }
      r.value = map(r.value as this['_output']);
      return r;
    }, inner.absentKey);
  }
}

/** Accepts undefined, and lets an object leave the key out. */
export class OptionalSchema<Inner extends AnySchema> extends Schema<Inner['_output'] | undefined, true> {
  constructor(private readonly inner: Inner) {
    super(
      (p) => {
        if (p.value !== undefined) return inner.run(p);
        if (inner.absentKey !== 'defaulted') return p;
        const r = inner.run({ value: undefined, issues: [] });
        p.value = r.issues.length ? undefined : r.value;
        return p;
      },
      inner.absentKey === 'defaulted' ? 'defaulted' : 'optional',
      true,
    );
  }

  unwrap(): Inner {
    return this.inner;
  }
}

/** Length in code points, as zod 4 measures strings: a surrogate pair counts once. */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    if ((s.charCodeAt(i) & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n--;
      i++;
    }
  }
  return n;
}

function lengthOrigin(v: unknown): string {
  return Array.isArray(v) ? 'array' : typeof v === 'string' ? 'string' : 'unknown';
}

function minLength(min: number, message?: string): Check {
  const check: Check = (p) => {
    const v = p.value as string | unknown[];
    // Fewer units than `min` cannot reach it and twice `min` always does; only between is counting needed.
    const n = typeof v === 'string' && v.length >= min && v.length < min * 2 ? codePoints(v) : v.length;
    if (n >= min) return;
    const i = outOfRange('too_small', lengthOrigin(v), min, true, v, true);
    p.issues.push(message === undefined ? i : { ...i, message });
  };
  check.whenHasLength = true;
  return check;
}

function maxLength(max: number): Check {
  const check: Check = (p) => {
    const v = p.value as string | unknown[];
    const n = typeof v === 'string' && v.length > max ? codePoints(v) : v.length;
    if (n > max) p.issues.push(outOfRange('too_big', lengthOrigin(v), max, true, v, true));
  };
  check.whenHasLength = true;
  check.maxLength = max;
  return check;
}

function stringFormat(ok: (s: string) => boolean, message: string): Check {
  return (p) => {
    if (!ok(p.value as string)) p.issues.push(issue('invalid_format', p.value, message, true));
  };
}

// zod 4's email pattern.
const EMAIL = /^(?:[A-Za-z0-9_'+\-]+\.)*[A-Za-z0-9_'+\-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$/;

export class StringSchema extends Schema<string> {
  constructor() {
    super((p) => {
      if (typeof p.value !== 'string') p.issues.push(invalidType('string', p.value));
      return p;
    });
  }

  /** At least `n` characters (code points). */
  min(n: number, message?: string): this {
    return this.withCheck(minLength(n, message));
  }

  max(n: number): this {
    return this.withCheck(maxLength(n));
  }

  regex(pattern: RegExp, message?: string): this {
    return this.withCheck(
      stringFormat((s) => {
        pattern.lastIndex = 0;
        return pattern.test(s);
      }, message ?? `Invalid string: must match pattern ${pattern}`),
    );
  }

  startsWith(start: string, message?: string): this {
    return this.withCheck(stringFormat((s) => s.startsWith(start), message ?? `Invalid string: must start with "${start}"`));
  }

  email(): this {
    return this.withCheck(stringFormat((s) => EMAIL.test(s), 'Invalid email address'));
  }

  /** Any URL the WHATWG parser takes, after trimming; the output is trimmed, without tabs and newlines, as zod gives it. */
  url(): this {
    return this.withCheck((p) => {
      const trimmed = (p.value as string).trim();
      if (URL.canParse(trimmed)) p.value = trimmed.replace(/[\t\n\r]/g, '');
      else p.issues.push(issue('invalid_format', p.value, 'Invalid URL', true));
    });
  }
}

function bound(code: 'too_small' | 'too_big', limit: number, inclusive: boolean): Check {
  return (p) => {
    const v = p.value as number;
    const inside = code === 'too_small' ? (inclusive ? v >= limit : v > limit) : inclusive ? v <= limit : v < limit;
    if (!inside) p.issues.push(outOfRange(code, 'number', limit, inclusive, v, true));
  };
}

/** zod's `.int()`: an integer within ±(2^53 − 1). A non-integer is a type error that stops later checks. */
const safeInteger: Check = (p) => {
  const v = p.value as number;
  if (!Number.isInteger(v)) p.issues.push({ ...invalidType('int', v), continue: false });
  else if (v > Number.MAX_SAFE_INTEGER) p.issues.push(outOfRange('too_big', 'int', Number.MAX_SAFE_INTEGER, true, v, true));
  else if (v < Number.MIN_SAFE_INTEGER) p.issues.push(outOfRange('too_small', 'int', Number.MIN_SAFE_INTEGER, true, v, true));
};

/** A finite number (not NaN, not ±Infinity); `coerce` first applies Number() (query strings). */
export class NumberSchema extends Schema<number> {
  constructor(coerce: boolean) {
    super((p) => {
      if (coerce) p.value = Number(p.value);
      if (typeof p.value !== 'number' || !Number.isFinite(p.value)) p.issues.push(invalidType('number', p.value));
      return p;
    });
  }

  int(): this {
    return this.withCheck(safeInteger);
  }

  positive(): this {
    return this.withCheck(bound('too_small', 0, false));
  }

  nonnegative(): this {
    return this.withCheck(bound('too_small', 0, true));
  }

  min(n: number): this {
    return this.withCheck(bound('too_small', n, true));
  }

  max(n: number): this {
    return this.withCheck(bound('too_big', n, true));
  }
}

export class ArraySchema<Element extends AnySchema> extends Schema<Element['_output'][]> {
  constructor(element: Element) {
    super((p) => {
      const input = p.value;
      if (!Array.isArray(input)) {
        p.issues.push(invalidType('array', input));
        return p;
      }
      const out: unknown[] = new Array(input.length);
      for (let i = 0; i < input.length; i++) {
        const r = element.run({ value: input[i], issues: [] });
        if (r.issues.length) p.issues.push(...prefix(i, r.issues));
        out[i] = r.value;
      }
      p.value = out;
      return p;
    });
  }

  /** As zod does, an array longer than a leading `max` is refused before its elements are parsed. */
  override run(p: Payload): Payload {
    if (!Array.isArray(p.value)) return super.run(p);
    for (const check of this.checks) {
      if (!check.whenHasLength) break;
      if (check.maxLength !== undefined && p.value.length > check.maxLength) {
        check(p);
        p.issues[p.issues.length - 1]!.continue = false;
        return p;
      }
    }
    return super.run(p);
  }

  min(n: number): this {
    return this.withCheck(minLength(n));
  }

  max(n: number): this {
    return this.withCheck(maxLength(n));
  }
}

type Shape = { readonly [key: string]: AnySchema };
type Flatten<T> = { [K in keyof T]: T[K] } & {};
type ObjectOutput<S extends Shape> = Flatten<
  { -readonly [K in keyof S as S[K]['_optionalKey'] extends true ? never : K]: S[K]['_output'] } & {
    -readonly [K in keyof S as S[K]['_optionalKey'] extends true ? K : never]?: S[K]['_output'];
  }
>;
type LooseOutput<S extends Shape, Loose extends boolean> = Loose extends true ? ObjectOutput<S> & { [key: string]: unknown } : ObjectOutput<S>;

/** zod's handlePropertyResult: what an object's output gets for one declared key. */
function putProperty(out: Record<string, unknown>, final: Payload, key: string, present: boolean, field: AnySchema, r: Payload): void {
  const { absentKey, optionalKey } = field;
  if (!present && optionalKey && absentKey === 'optional') return;
  if (r.issues.length) {
    if (!present && optionalKey && absentKey !== undefined) return;
    final.issues.push(...prefix(key, r.issues));
  }
  if (!present && absentKey === undefined) {
    if (!r.issues.length) final.issues.push({ ...invalidType('nonoptional', undefined), path: [key] });
    return;
  }
  if (r.value !== undefined) out[key] = r.value;
  else if (present || (absentKey === 'defaulted' && !optionalKey)) out[key] = undefined;
}

/** Parses a JSON object against `shape`; keys not in it are dropped, or with `loose` kept as they are. */
function objectParser(shape: Shape, loose: boolean): (p: Payload) => Payload {
  const keys = Object.keys(shape).filter((k) => k !== '__proto__');
  return (p) => {
    const input = p.value;
    if (!isObject(input)) {
      p.issues.push(invalidType('object', input));
      return p;
    }
    const out: Record<string, unknown> = {};
    p.value = out;
    for (const key of keys) {
      const field = shape[key]!;
      putProperty(out, p, key, key in input, field, field.run({ value: input[key], issues: [] }));
    }
    if (loose) {
      for (const key in input) if (!Object.hasOwn(shape, key) && key !== '__proto__') out[key] = input[key];
    }
    return p;
  };
}

export class ObjectSchema<S extends Shape, Loose extends boolean = false> extends Schema<LooseOutput<S, Loose>> {
  constructor(
    readonly shape: S,
    readonly loose: Loose,
  ) {
    super(objectParser(shape, loose));
  }

  extend<More extends Shape>(more: More): ObjectSchema<Flatten<Omit<S, keyof More> & More>, Loose> {
    if (this.checks.length > 0) throw new Error('An object schema with refinements cannot be extended');
    return new ObjectSchema({ ...this.shape, ...more } as Flatten<Omit<S, keyof More> & More>, this.loose);
  }
}

// ---- the namespace

function record<Value extends AnySchema>(key: StringSchema, value: Value): Schema<Record<string, Value['_output']>> {
  return new Schema((p) => {
    const input = p.value;
    if (!isPlainObject(input)) {
      p.issues.push(invalidType('record', input));
      return p;
    }
    const out: Record<string, unknown> = {};
    p.value = out;
    for (const k of Object.keys(input)) {
      if (k === '__proto__') continue;
      if (key.run({ value: k, issues: [] }).issues.length) {
        p.issues.push({ ...issue('invalid_key', k, 'Invalid key in record'), path: [k] });
        continue;
      }
      const r = value.run({ value: input[k], issues: [] });
      if (r.issues.length) p.issues.push(...prefix(k, r.issues));
      out[k] = r.value;
    }
    return p;
  });
}

/** The first option that accepts the value; if exactly one failed only softly (say, too short), its issues. */
function union<const Options extends readonly AnySchema[]>(options: Options): Schema<Options[number]['_output']> {
  const absentKey: AbsentKey = options.some((o) => o.absentKey === 'defaulted') ? 'defaulted' : options.some((o) => o.absentKey) ? 'optional' : undefined;
  return new Schema(
    (p) => {
      const results: Payload[] = [];
      for (const option of options) {
        const r = option.run({ value: p.value, issues: [] });
        if (r.issues.length === 0) return r;
        results.push(r);
      }
      const soft = results.filter((r) => !aborted(r));
      if (soft.length === 1) return soft[0]!;
      p.issues.push(issue('invalid_union', p.value, 'Invalid input'));
      return p;
    },
    absentKey,
    options.some((o) => o.optionalKey),
  );
}

/** A fixed-length array, item i checked by items[i]. */
function tuple<const Items extends readonly AnySchema[]>(items: Items): Schema<{ -readonly [K in keyof Items]: Items[K]['_output'] }> {
  return new Schema((p) => {
    const input = p.value;
    if (!Array.isArray(input)) {
      p.issues.push(invalidType('tuple', input));
      return p;
    }
    if (input.length < items.length) {
      p.issues.push(outOfRange('too_small', 'array', items.length, true, input));
      return p;
    }
    if (input.length > items.length) p.issues.push(outOfRange('too_big', 'array', items.length, true, input));
    const out: unknown[] = [];
    items.forEach((item, i) => {
      const r = item.run({ value: input[i], issues: [] });
      if (r.issues.length) p.issues.push(...prefix(i, r.issues));
      out[i] = r.value;
    });
    p.value = out;
    return p;
  });
}

/** Exactly one of these strings, or the one literal. */
export class EnumSchema<T> extends Schema<T> {
  constructor(readonly options: T[]) {
    const allowed = new Set<unknown>(options);
    super((p) => {
      if (!allowed.has(p.value)) p.issues.push(invalidValue(options, p.value));
      return p;
    });
  }
}

export const z = {
  string: (): StringSchema => new StringSchema(),
  number: (): NumberSchema => new NumberSchema(false),
  boolean: (): Schema<boolean> =>
    new Schema((p) => {
      if (typeof p.value !== 'boolean') p.issues.push(invalidType('boolean', p.value));
      return p;
    }),
  unknown: (): Schema<unknown> => new Schema((p) => p),
  enum: <const Values extends readonly string[]>(values: Values): EnumSchema<Values[number]> => new EnumSchema([...values]),
  literal: <const Value extends string | number | boolean | null>(value: Value): Schema<Value> => new EnumSchema([value]),
  array: <Element extends AnySchema>(element: Element): ArraySchema<Element> => new ArraySchema(element),
  object: <S extends Shape>(shape: S): ObjectSchema<S> => new ObjectSchema(shape, false),
  looseObject: <S extends Shape>(shape: S): ObjectSchema<S, true> => new ObjectSchema(shape, true),
  record,
  union,
  tuple,
  coerce: { number: (): NumberSchema => new NumberSchema(true) },
};

// Types under the same name as the value, so `z.infer<typeof s>` reads as it did with zod.
export declare namespace z {
  /** What a schema produces. */
  export type infer<S extends AnySchema> = S['_output'];
  /** Any schema (zod's `z.ZodType`). */
  export type Schema = AnySchema;
  /** A problem with the input: `path` to it, zod's `code` and English `message`. */
  export type Issue = SchemaIssue;
}
