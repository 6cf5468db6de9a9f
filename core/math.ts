/**
 * The mathjs instance, made ready for units quickly.
 *
 * mathjs is loaded from its single-file bundle: importing its ESM tree costs about a second. Its
 * functions are created lazily, on first use, but the first quantity creates the `Unit` class,
 * which asks for all of its dependencies at once — among them `pow`, `fix`, `abs`, `round` and
 * `equal`, whose matrix signatures pull in matrices, `inv`, `det`, `lup` and some sixty other
 * functions: most of mathjs' share of `concert start`. So `Unit` is created with stand-ins for
 * those five: `pow` and `abs` compute the number case themselves, exactly as mathjs does, and
 * hand everything else to the real function; `fix`, `round` and `equal` (which `Unit` needs only
 * in `splitUnit` and `equals`) always hand over. The four scalar operations `Unit` also asks for
 * (`addScalar`, `subtractScalar`, `multiplyScalar`, `divideScalar`: ≈ 25 ms of typed-function
 * building at each start) get stand-ins too, which compute two numbers as mathjs' number
 * functions do (`a + b`, …) and hand anything else over. The real functions stay the instance's
 * and are created when first used.
 * @module
 * @internal
 */
import { createRequire } from 'node:module';
import type { MathJsInstance } from 'mathjs';

const require = createRequire(import.meta.url);
const math = require('mathjs/lib/browser/math.js') as MathJsInstance;

/** What of the instance `pow` reads: its configuration, and the event that says it changed. */
const events = math as unknown as {
  config(): { predictable?: boolean };
  on(event: 'config', listener: (config: { predictable?: boolean }) => void): void;
};
let predictable = Boolean(events.config().predictable);
events.on('config', (config) => (predictable = Boolean(config.predictable)));

/**
 * mathjs' `pow` for two numbers when the result is real (its `_pow` and `powNumber`), else the
 * real `pow`. (Exported for its test.)
 */
export function unitPow(x: unknown, y: unknown): unknown {
  if (typeof x === 'number' && typeof y === 'number' && !predictable && (Number.isInteger(y) || x >= 0))
    return (x * x < 1 && y === Infinity) || (x * x > 1 && y === -Infinity) ? 0 : Math.pow(x, y);
  return (math.pow as (a: unknown, b: unknown) => unknown)(x, y);
}

/** mathjs' `abs` for a number (`Math.abs`), else the real `abs`. */
function abs(x: unknown): unknown {
  return typeof x === 'number' ? Math.abs(x) : (math.abs as (a: unknown) => unknown)(x);
}

/** The instance's own function `name`, called when first needed. */
const handOver =
  (name: 'fix' | 'round' | 'equal') =>
  (...args: unknown[]): unknown =>
    (math[name] as (...a: unknown[]) => unknown)(...args);

type Scalar = 'addScalar' | 'subtractScalar' | 'multiplyScalar' | 'divideScalar';

/** mathjs' scalar operation `name` for two numbers (its `addNumber`, …: `op`), else the real one. (Exported for its test.) */
export const scalarStandIn =
  (name: Scalar, op: (a: number, b: number) => number) =>
  (a: unknown, b: unknown): unknown =>
    typeof a === 'number' && typeof b === 'number'
      ? op(a, b)
      : (math as unknown as Record<Scalar, (x: unknown, y: unknown) => unknown>)[name](a, b);

const standIns = {
  pow: unitPow,
  abs,
  fix: handOver('fix'),
  round: handOver('round'),
  equal: handOver('equal'),
  addScalar: scalarStandIn('addScalar', (a, b) => a + b),
  subtractScalar: scalarStandIn('subtractScalar', (a, b) => a - b),
  multiplyScalar: scalarStandIn('multiplyScalar', (a, b) => a * b),
  divideScalar: scalarStandIn('divideScalar', (a, b) => a / b),
};

/** Creates `math.Unit` with the stand-ins in place, then puts the instance's functions back. */
function createUnitClass(): void {
  const names = Object.keys(standIns) as Array<keyof typeof standIns>;
  const saved = new Map(names.map((name) => [name, Object.getOwnPropertyDescriptor(math, name)]));
  if (![...saved.values()].every((d) => d?.configurable)) return void math.Unit; // not the lazy instance we know
  for (const name of names)
    Object.defineProperty(math, name, { value: standIns[name], configurable: true, enumerable: true, writable: true });
  try {
    void math.Unit;
  } finally {
    for (const [name, descriptor] of saved) Object.defineProperty(math, name, descriptor!);
  }
}

createUnitClass();

export { math };
