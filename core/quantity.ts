/**
 * Physical quantities with units (mathjs `Unit`s). Write `q('10 mm')` or `q(10, 'mm')`;
 * `px` (pixel) is a unit of its own. Printing rounds away floating noise.
 *
 * The mathjs instance is made in core/math.ts (quickly: see there).
 * @module
 */
import type { MathJsInstance, Unit } from 'mathjs';
import { UnitError, errorMessage } from './errors.js';
import { math as instance } from './math.js';

export type { Unit } from 'mathjs';

/** The mathjs instance Concert uses (with `px` defined). Prefer `q()` for making quantities. */
export const math: MathJsInstance = instance;

if (!math.Unit.isValuelessUnit('px')) math.createUnit('px', { aliases: ['pixel', 'pixels'] });

/** Significant digits used when printing quantities (hides `999.9999999999999`). */
export const PRINT_PRECISION = 12;

/**
 * Makes a quantity: `q('10 mm')`, `q(10, 'mm')`, `q('1 um').to('nm')`.
 * @throws UnitError for an unknown unit or a malformed string, naming what was given.
 * @example
 * ```ts
 * await motor.setPosition(q('2.5 mm'));
 * ```
 */
export function q(value: string | number, unit?: string): Unit {
  try {
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new UnitError(`quantity value must be a finite number, got ${value}`);
      if (unit === undefined) throw new UnitError(`q(${value}) needs a unit, e.g. q(${value}, 'mm')`);
      return math.unit(value, unit);
    }
    if (typeof value !== 'string')
      throw new UnitError(`q() takes a string like '10 mm' or a number and a unit, got ${typeof value}`);
    const parsed = unit === undefined ? math.unit(value) : math.unit(Number(value), unit);
    if (parsed.value === null || parsed.value === undefined)
      throw new UnitError(`'${value}' has no number; write e.g. q('1 ${value.trim()}')`);
    return parsed;
  } catch (error) {
    if (error instanceof UnitError) throw error;
    throw new UnitError(
      `cannot make a quantity of ${JSON.stringify(value)}${unit ? ` ${JSON.stringify(unit)}` : ''}: ${errorMessage(error)}`,
    );
  }
}

/** True for any mathjs `Unit` (also from another mathjs instance). */
export function isQuantity(value: unknown): value is Unit {
  return typeof value === 'object' && value !== null && (value as { isUnit?: unknown }).isUnit === true;
}

const units = new Map<string, Unit>();

/** The valueless unit called `unit`, parsed once (parsing costs microseconds; hot paths reuse it). */
export function unitOf(unit: string): Unit {
  let u = units.get(unit);
  if (!u) {
    u = math.unit(unit);
    units.set(unit, u);
  }
  return u;
}

/** `value` as a quantity in `unit` (kept in that unit when printed). */
export function quantityIn(value: number, unit: string): Unit {
  // Cloning the parsed unit is 3–4 times faster than `math.unit(value, unit)`, which parses again.
  const u = unitOf(unit).clone() as Unit & { _normalize?: (v: number) => number; fixPrefix: boolean };
  if (typeof u._normalize !== 'function') return math.unit(value, unit).to(unitOf(unit));
  (u as { value: number }).value = u._normalize(value);
  u.fixPrefix = true;
  return u;
}

/** True if `value` can be converted to `unit` (same dimension). */
export function compatible(value: Unit, unit: string): boolean {
  return ours(value).equalBase(unitOf(unit));
}

/**
 * The number `value` is in `unit`.
 * @throws UnitError if the dimensions differ, naming both units.
 */
export function toNumber(value: Unit, unit: string, what = 'value'): number {
  const v = ours(value);
  const target = unitOf(unit);
  if (!v.equalBase(target))
    throw new UnitError(`${what}: ${format(v)} has the wrong unit; expected a quantity in ${unit}`);
  const n = v.toNumber(target as never);
  if (!Number.isFinite(n)) throw new UnitError(`${what}: ${format(v)} is not a finite number`);
  return n;
}

/** Formats a quantity rounded to {@link PRINT_PRECISION} significant digits: `1000 nm`, `2.5 mm`. */
export function format(value: Unit | number, precision = PRINT_PRECISION): string {
  if (typeof value === 'number') return math.format(value, { precision });
  return ours(value).format({ precision });
}

/** A quantity from another mathjs instance, re-made in ours (so `px` and conversions work). */
function ours(value: Unit): Unit {
  if (value instanceof math.Unit) return value;
  return math.unit(String(value));
}
