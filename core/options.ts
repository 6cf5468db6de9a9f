/**
 * Validation of option objects passed to `create()` and other public entry points: unknown keys
 * and bad values are errors that name the key, the value and what is allowed.
 * @module
 */
import { OptionError } from './errors.js';
import { format, isQuantity, math, type Unit } from './quantity.js';

/** Checks one option value; returns a description of what is wrong, or undefined if it is fine. */
export type OptionCheck = (value: unknown) => string | undefined;

/** The options a class accepts, each with its check. */
export type OptionSpec = Readonly<Record<string, OptionCheck>>;

/** Ready-made option checks. */
export const opt = {
  /** Any value. */
  any: (() => undefined) as OptionCheck,
  string: ((v) => (typeof v === 'string' ? undefined : 'must be a string')) as OptionCheck,
  boolean: ((v) => (typeof v === 'boolean' ? undefined : 'must be true or false')) as OptionCheck,
  function: ((v) => (typeof v === 'function' ? undefined : 'must be a function')) as OptionCheck,
  /** A finite number, optionally an integer within [min, max]. */
  number(limits: { min?: number; max?: number; integer?: boolean } = {}): OptionCheck {
    const { min = -Infinity, max = Infinity, integer = false } = limits;
    const what = `${integer ? 'an integer' : 'a finite number'}${min > -Infinity || max < Infinity ? ` in [${min}, ${max}]` : ''}`;
    return (v) =>
      typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max && (!integer || Number.isInteger(v))
        ? undefined
        : `must be ${what}`;
  },
  /** A quantity convertible to `unit`. */
  quantity(unit: string): OptionCheck {
    return (v) => {
      if (!isQuantity(v)) return `must be a quantity in ${unit}, e.g. q('1 ${unit}')`;
      if (!math.unit(unit).equalBase(v as Unit)) return `must be a quantity in ${unit}, got ${format(v as Unit)}`;
      return Number.isFinite((v as Unit).toNumber(unit)) ? undefined : 'must be finite';
    };
  },
  /** One of the listed values. */
  oneOf<T>(values: readonly T[]): OptionCheck {
    return (v) =>
      values.includes(v as T) ? undefined : `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}`;
  },
  /** An instance of a class. */
  instance(ctor: abstract new (...args: never[]) => unknown, what = ctor.name): OptionCheck {
    return (v) => (v instanceof ctor ? undefined : `must be a ${what}`);
  },
} as const;

/**
 * Checks `options` against `spec`: every key must be known and every value pass its check.
 * Undefined values are allowed (they mean "default").
 * @throws OptionError naming the first problem and the allowed keys.
 */
export function checkOptions(owner: string, spec: OptionSpec, options: unknown): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new OptionError(
      `${owner}: options must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`,
    );
  for (const [key, value] of Object.entries(options)) {
    const check = spec[key];
    if (!check)
      throw new OptionError(
        `${owner}: unknown option '${key}' (allowed: ${Object.keys(spec).sort().join(', ') || 'none'})`,
      );
    if (value === undefined) continue;
    const problem = check(value);
    if (problem) throw new OptionError(`${owner}: option '${key}' ${problem}, got ${show(value)}`);
  }
}

function show(value: unknown): string {
  if (isQuantity(value)) return format(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) return value.constructor?.name ?? 'an object';
  return String(value);
}
