/**
 * Option schemas: one zod schema per class gives both the TypeScript type of its options
 * (`z.input<typeof schema>`) and the runtime check of `create()` and of call options
 * (`set(value, { signal })`, `stream({ count })`). {@link parseOptions} turns the first problem into
 * an {@link OptionError} that names the owner, the option, what is allowed and the value given:
 * `Stage.create: unknown option 'sped', did you mean 'speed'? (allowed: mode, name, speed)`,
 * `Stage.create: option 'speed' must be a finite number in [0, Infinity], got "fast"`.
 *
 * Plain zod schemas (`z.number().int().min(1)`, `z.string()`, `z.enum([...])`, `z.array(…)`) are
 * described in words from their own checks; the helpers here cover what zod lacks: quantities
 * ({@link zq}), functions ({@link zfunction}), class instances ({@link zinstance}) and any other
 * test with its own words ({@link zwhere}). A custom check's message is the predicate after the
 * option's name (`must be …`, `needs …`).
 * @example
 * ```ts
 * const STAGE_OPTIONS = DEVICE_OPTIONS.extend({ speed: zq('mm/s').optional(), mode: z.enum(['fast', 'slow']).optional() });
 * type StageOptions = z.input<typeof STAGE_OPTIONS>;
 * ```
 * @module
 */
import { z } from 'zod';
import { OptionError } from './errors.js';
import { compatible, format, isQuantity, unitOf, type Unit } from './quantity.js';

export { z };

/** A schema of an options object (made with `z.strictObject` so unknown keys are errors). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any shape: subclasses extend it
export type OptionsSchema = z.ZodObject<any>;

/** Words for what a schema accepts ("a function", "a Walker"), used after "must be". */
export const expectations = z.registry<{ expects: string }>();

/** Registers `expects` as the words for what `schema` accepts; returns `schema`. */
export function expecting<S extends z.ZodType>(schema: S, expects: string): S {
  expectations.add(schema, { expects });
  return schema;
}

/** Bounds of a {@link zq} quantity (inclusive), as quantities or strings like `'0 s'`. */
export interface QuantityBounds {
  min?: Unit | string;
  max?: Unit | string;
}

/**
 * A quantity convertible to `unit`, finite, and within `bounds` if given.
 * @example
 * ```ts
 * z.strictObject({ motionVelocity: zq('mm/s').optional(), exposureTime: zq('s', { min: '0 s' }) });
 * ```
 */
export function zq(unit: string, bounds: QuantityBounds = {}): z.ZodCustom<Unit, Unit> {
  const min = bounds.min === undefined ? undefined : toBound(bounds.min, unit);
  const max = bounds.max === undefined ? undefined : toBound(bounds.max, unit);
  const range =
    min || max ? ` in [${min ? format(min) : `-Infinity ${unit}`}, ${max ? format(max) : `Infinity ${unit}`}]` : '';
  const problem = (v: unknown): string | undefined => {
    if (!isQuantity(v)) return `must be a quantity in ${unit}, e.g. q('1 ${unit}')`;
    if (!compatible(v, unit)) return `must be a quantity in ${unit}`;
    const n = v.toNumber(unit);
    if (!Number.isFinite(n)) return 'must be finite';
    if ((min && n < min.toNumber(unit)) || (max && n > max.toNumber(unit))) return `must be a quantity${range}`;
    return undefined;
  };
  return expecting(
    z.custom<Unit>((v) => problem(v) === undefined, { error: (issue) => problem(issue.input) }),
    `a quantity in ${unit}${range}`,
  );
}

function toBound(bound: Unit | string, unit: string): Unit {
  const u = typeof bound === 'string' ? unitOf(bound) : bound;
  if (!isQuantity(u) || !compatible(u, unit))
    throw new OptionError(`zq('${unit}'): bound ${String(bound)} is not a quantity in ${unit}`);
  return u;
}

/** A function (its parameters are not checked). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the default accepts any function
export function zfunction<F extends (...args: any[]) => unknown = (...args: any[]) => unknown>(): z.ZodCustom<F, F> {
  return expecting(
    z.custom<F>((v) => typeof v === 'function'),
    'a function',
  );
}

/** An instance of `ctor` ("must be a Camera"). */
export function zinstance<C extends abstract new (...args: never[]) => unknown>(
  ctor: C,
  what = article(ctor.name),
): z.ZodCustom<InstanceType<C>, InstanceType<C>> {
  return expecting(
    z.custom<InstanceType<C>>((v) => v instanceof ctor),
    what,
  );
}

/** A value that passes `test`, described as `what` ("a Walker", "a remote camera"). */
export function zwhere<T>(what: string, test: (value: unknown) => value is T): z.ZodCustom<T, T> {
  return expecting(z.custom<T>(test), what);
}

/** A quantity of any unit (checked against a device's unit later, e.g. a motor position). */
export const zquantity = zwhere("a quantity, e.g. q('1 mm')", isQuantity);

/** An `AbortSignal` (call options: `{ signal }`). */
export const zsignal = zinstance(AbortSignal, 'an AbortSignal');

/** The call options every cancellable operation takes: `{ signal? }`. */
export const SIGNAL_OPTIONS = z.strictObject({
  /** Aborts the operation (Ctrl-C in the REPL and `abort()` do too). */
  signal: zsignal.optional(),
});

/** `a Camera`, `an XRayTube`. */
function article(name: string): string {
  return `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}`;
}

/**
 * How often a schema is checked by zod's interpreter before zod compiles its fast path. zod
 * compiles an object schema into a function at its first check (`new Function`: about half a
 * millisecond each), which pays off only after some thousand checks (a compiled check takes
 * ≈ 0.25 µs, an interpreted one ≈ 0.9 µs). Most option schemas are checked a few times per
 * session (`create()` of each device); compiling all of them at the first check cost
 * `concert start demo` ≈ 20–40 ms. The schemas checked on hot paths are compiled after this many checks.
 */
const INTERPRETED_CHECKS = 64;

const checks = new WeakMap<z.ZodType, number>();
const INTERPRETED = { jitless: true } as const;

/** zod's parse context for the next check of `schema`: interpreted for its first {@link INTERPRETED_CHECKS}. */
function interpretFirst(schema: z.ZodType): typeof INTERPRETED | undefined {
  const n = checks.get(schema) ?? 0;
  if (n >= INTERPRETED_CHECKS) return undefined;
  checks.set(schema, n + 1);
  return INTERPRETED;
}

/**
 * Checks `options` against `schema` and returns them (typed). Undefined options mean "all
 * defaults"; an undefined value means that option's default.
 * @param owner Names the call in messages (`Stage.create`, `flatMotor.position.set`); a function is
 *   called only when there is a problem (for hot paths).
 * @throws OptionError naming the first problem: an unknown option (with the allowed ones and the
 *   closest one), a missing one, or a bad value (what is allowed and what was given).
 */
export function parseOptions<S extends z.ZodType>(
  owner: string | (() => string),
  schema: S,
  options: unknown,
): z.output<S> {
  const input = options === undefined ? {} : options;
  const result = schema.safeParse(input, interpretFirst(schema));
  if (result.success) return options === undefined ? (result.data as z.output<S>) : (options as z.output<S>);
  const name = typeof owner === 'string' ? owner : owner();
  throw new OptionError(`${name}: ${describeProblem(schema, input, result.error.issues)}`);
}

/**
 * Checks call options (`{ signal }`, `{ count }`) on a hot path: an absent or empty object costs
 * nothing. @throws OptionError as {@link parseOptions}.
 */
export function checkCallOptions(owner: () => string, schema: OptionsSchema, options: object | undefined): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) {
    parseOptions(owner, schema, options);
    return;
  }
  for (const _ in options) {
    parseOptions(owner, schema, options);
    return;
  }
}

/**
 * Checks the `{ signal }` call options of an operation that runs once per frame or move: free for
 * `undefined` and for `{ signal }` with an AbortSignal (or undefined); anything else goes through
 * {@link SIGNAL_OPTIONS}. @throws OptionError as {@link parseOptions}.
 */
export function checkSignalOptions(owner: () => string, options: unknown): void {
  if (options === undefined) return;
  if (typeof options === 'object' && options !== null) {
    let other = false;
    for (const key in options) if (key !== 'signal') other = true;
    const signal = (options as { signal?: unknown }).signal;
    if (!other && (signal === undefined || signal instanceof AbortSignal)) return;
  }
  parseOptions(owner, SIGNAL_OPTIONS, options);
}

function describeProblem(schema: z.ZodType, input: unknown, issues: readonly z.core.$ZodIssue[]): string {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return `options must be an object, got ${input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input}`;
  // Report the problem of the first key in the caller's order, as a reader scans the call.
  const order = Object.keys(input);
  const rank = (issue: z.core.$ZodIssue) => {
    const key = issue.code === 'unrecognized_keys' && issue.path.length === 0 ? issue.keys[0] : issue.path[0];
    const i = order.indexOf(String(key));
    return i < 0 ? order.length : i;
  };
  const issue = [...issues].sort((a, b) => rank(a) - rank(b))[0]!;
  if (issue.code === 'unrecognized_keys') {
    // In a nested object (`stop: { cuont }`) the names are given with their path (`stop.count`).
    const within = valueAt(input, issue.path);
    const keyOrder = typeof within === 'object' && within !== null ? Object.keys(within) : order;
    const key = [...issue.keys].sort((a, b) => keyOrder.indexOf(a) - keyOrder.indexOf(b))[0]!;
    const at = issue.path.length === 0 ? schema : schemaAt(schema, issue.path);
    const object = at && unwrap(at);
    const allowed = object instanceof z.ZodObject ? Object.keys(object.shape).sort() : [];
    const close = closest(key, allowed);
    const prefix = issue.path.map((k) => `${String(k)}.`).join('');
    const list = allowed.map((k) => prefix + k).join(', ') || 'none';
    return `unknown option '${prefix}${key}'${close ? `, did you mean '${prefix}${close}'?` : ''} (allowed: ${list})`;
  }
  const path = issue.path.map(String);
  const label = path.join('.');
  const value = valueAt(input, issue.path);
  if (value === undefined && path.length > 0)
    return `option '${label}' is required (${describe(schemaAt(schema, issue.path))})`;
  const own = issue.code === 'custom' && issue.message !== 'Invalid input' ? issue.message : undefined;
  const predicate = own ?? `must be ${describe(schemaAt(schema, issue.path))}`;
  return `option '${label}' ${predicate}, got ${show(value)}`;
}

/** The value at `path` inside `input` (undefined where the path leaves objects). */
export function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const key of path)
    v = typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

/** The schema that checks the value at `path` of what `schema` checks, if any. */
export function schemaAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  let s: z.ZodType | undefined = schema;
  for (const key of path) {
    s = s && unwrap(s);
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodType>)[String(key)];
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
    else if (s instanceof z.ZodRecord) s = s.valueType as z.ZodType;
    else if (s instanceof z.ZodTuple) s = s.def.items[Number(key)] as z.ZodType | undefined;
    else return undefined;
  }
  return s;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  while (
    !expectations.has(s) &&
    (s instanceof z.ZodOptional ||
      s instanceof z.ZodDefault ||
      s instanceof z.ZodNullable ||
      s instanceof z.ZodReadonly)
  )
    s = s.unwrap() as z.ZodType;
  return s;
}

/** What `schema` accepts, in words ("an integer in [1, 10]", "one of "a", "b""). */
export function describe(schema: z.ZodType | undefined): string {
  if (!schema) return 'a known value';
  const s = unwrap(schema);
  const own = expectations.get(s);
  if (own) return own.expects;
  if (s instanceof z.ZodNumber) {
    const bound = (v: number | null, inf: number) => (v === null || Math.abs(v) >= Number.MAX_SAFE_INTEGER ? inf : v);
    const lo = bound(s.minValue, -Infinity);
    const hi = bound(s.maxValue, Infinity);
    const exclusive = (kind: string) =>
      (s.def.checks ?? []).some((c) => {
        const def = c._zod.def as { check: string; inclusive?: boolean };
        return def.check === kind && def.inclusive === false;
      });
    const range = `${exclusive('greater_than') ? '(' : '['}${lo}, ${hi}${exclusive('less_than') ? ')' : ']'}`;
    return `${s.isInt ? 'an integer' : 'a finite number'}${lo > -Infinity || hi < Infinity ? ` in ${range}` : ''}`;
  }
  if (s instanceof z.ZodString) return 'a string';
  if (s instanceof z.ZodBoolean) return 'true or false';
  if (s instanceof z.ZodEnum) return `one of ${s.options.map((x) => JSON.stringify(x)).join(', ')}`;
  if (s instanceof z.ZodLiteral) return [...s.values].map((x) => JSON.stringify(x)).join(' or ');
  if (s instanceof z.ZodArray) return `an array of ${plural(describe(s.element as z.ZodType))}`;
  if (s instanceof z.ZodUnion) return (s.options as z.ZodType[]).map(describe).join(' or ');
  if (s instanceof z.ZodObject) return 'an object';
  return 'a valid value';
}

/** "a string" → "strings", "an integer in [1, 10]" → "integers in [1, 10]". */
function plural(words: string): string {
  const m = /^(?:an?) (\w+)(.*)$/.exec(words);
  return m ? `${m[1]}s${m[2]}` : words;
}

/** The allowed key closest to `key` (case-insensitive edit distance ≤ a third of its length), if any. */
export function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(1, Math.floor(key.length / 3)) && key.length > 1 ? best : undefined;
}

/** Levenshtein distance, with a swap of two neighbours counting as one edit. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  return d[a.length]![b.length]!;
}

/** A value as messages show it: `5 mm`, `"fast"`, `a function`, `Object`. */
export function show(value: unknown): string {
  if (isQuantity(value)) return format(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `[${value.slice(0, 5).map(show).join(', ')}${value.length > 5 ? ', …' : ''}]`;
  if (typeof value === 'object' && value !== null) return value.constructor?.name ?? 'an object';
  return String(value);
}
