/**
 * The mathjs instance, made ready for units quickly.
 *
 * mathjs is loaded from its single-file bundle: importing its ESM tree costs about a second. Its
 * functions are created lazily, on first use, but the first quantity creates the `Unit` class,
 * which asks for all of its dependencies at once — among them `pow` and `fix`, whose matrix
 * signatures pull in matrices, `inv`, `det`, `lup` and some sixty other functions: about half of
 * mathjs' share of `concert start`. `Unit` only ever gives `pow` two numbers (or, for other value
 * types, hands over) and calls `fix` only in `splitUnit`; so it is created with a `pow` that
 * computes the number case itself, exactly as mathjs' `pow` does, and passes everything else to
 * the real `pow`, and a `fix` that always passes on. The real functions stay the instance's and
 * are created when first used.
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

function fix(x: unknown): unknown {
  return (math.fix as (a: unknown) => unknown)(x);
}

/** Creates `math.Unit` with the light `pow` and `fix` in place, then puts the instance's back. */
function createUnitClass(): void {
  const saved = {
    pow: Object.getOwnPropertyDescriptor(math, 'pow'),
    fix: Object.getOwnPropertyDescriptor(math, 'fix'),
  };
  if (!saved.pow?.configurable || !saved.fix?.configurable) return void math.Unit; // not the lazy instance we know
  const light = (value: unknown) => ({ value, configurable: true, enumerable: true, writable: true });
  Object.defineProperty(math, 'pow', light(unitPow));
  Object.defineProperty(math, 'fix', light(fix));
  try {
    void math.Unit;
  } finally {
    Object.defineProperty(math, 'pow', saved.pow);
    Object.defineProperty(math, 'fix', saved.fix);
  }
}

createUnitClass();

export { math };
