/**
 * `DevFailed`: the error a device handler throws to answer a client with a Tango error stack
 * (reason, description, origin, severity). Any other error thrown by a handler goes out as a
 * DevFailed whose reason is the error's class name (`StorageError`, `TypeError`).
 * @module
 */
import { ConcertError, errorMessage } from '../../core/index.js';
import type { DevError, ErrSeverity } from '../errors.js';

/**
 * A Tango error for the client, e.g. `throw new DevFailed('API_AttrNotFound', 'no attribute x')`.
 * @example
 * ```ts
 * if (!existsSync(path)) throw new DevFailed('Concert_NotFound', `${path} does not exist`);
 * ```
 */
export class DevFailed extends ConcertError {
  override name = 'DevFailed';
  /** The error stack, innermost first (as Tango sends it). */
  readonly errors: readonly DevError[];

  constructor(reason: string, desc: string, origin = '', severity: ErrSeverity = 'ERR', options?: ErrorOptions) {
    super(`${reason}: ${desc}`, options);
    this.errors = [{ reason, desc, origin, severity }];
  }

  /** A DevFailed with a whole error stack. */
  static of(errors: readonly DevError[]): DevFailed {
    const head = errors[0] ?? { reason: 'API_Unknown', desc: 'DevFailed', origin: '', severity: 'ERR' as const };
    const e = new DevFailed(head.reason, head.desc, head.origin, head.severity);
    (e as { errors: readonly DevError[] }).errors = errors;
    return e;
  }
}

/**
 * True for a DevFailed, also one made by another copy of this module (a module loaded both
 * through `require` and `import` has two classes).
 */
export function isDevFailed(error: unknown): error is DevFailed {
  return (
    error instanceof DevFailed ||
    (error instanceof Error && error.name === 'DevFailed' && Array.isArray((error as Partial<DevFailed>).errors))
  );
}

/**
 * The error stack for anything a handler threw: a DevFailed's own stack (origin filled in), or
 * one entry with the error's class name as reason and its message as description.
 */
export function devErrorsOf(error: unknown, origin: string): DevError[] {
  if (isDevFailed(error)) return error.errors.map((e) => ({ ...e, origin: e.origin || origin }));
  const reason = error instanceof Error && error.name && error.name !== 'Error' ? error.name : 'Concert_Error';
  return [{ reason, desc: errorMessage(error), origin, severity: 'ERR' }];
}
