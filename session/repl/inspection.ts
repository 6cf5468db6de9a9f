/**
 * How values print at the prompt: quantities as `2 mm` (also inside objects and arrays) instead of
 * mathjs' internal structure.
 * @module
 * @internal
 */
import { inspect } from 'node:util';
import { format, math, type Unit } from '../../core/index.js';

/** Makes `util.inspect` (the REPL's printer) show quantities as `format()` does. */
export function installQuantityInspection(): void {
  Object.defineProperty(math.Unit.prototype, inspect.custom, {
    configurable: true,
    value(this: Unit) {
      return format(this);
    },
  });
}
