/**
 * Parameters: named, typed, async values of a device (`motor.param('position')`), with locks,
 * a stash stack, waiting, logging of every successful set, and an observable stream of values.
 * @module
 */
import { inspect } from 'node:util';
import type { Observable, Subject } from 'rxjs';
import { operation } from './abort.js';
import { sleep } from './timers.js';
import { rxjs } from './rx.js';
import { LockError, ParameterError, ReadAccessError, WaitError, WriteAccessError } from './errors.js';
import type { Logger } from './log.js';
import { checkCallOptions, parseOptions, SIGNAL_OPTIONS, z, zwhere } from './options.js';

/** What a parameter knows of the object that owns it. */
export interface ParameterOwner {
  readonly name: string;
  readonly log: Logger;
  /** The owner's kind for log lines, e.g. `LinearMotor`. */
  readonly kind: string;
}

/** How a parameter reads and writes its value. Backends pass their protected hooks here. */
export interface ParameterSpec<T> {
  /** One-line description shown by `ddoc()`. */
  help?: string;
  /** Reads the value from the device. Without it the parameter is write-only. */
  read?: (signal: AbortSignal) => Promise<T> | T;
  /** Writes the value to the device. Without it the parameter is read-only. */
  write?: (value: T, signal: AbortSignal) => Promise<void> | void;
  /** Reads the value the device is heading to (e.g. a motor's target position). */
  readTarget?: () => Promise<T> | T;
  /** Checks a value before it is written; throws a `ParameterError` describing what is allowed. */
  validate?: (value: T) => void;
}

/** Options of {@link Parameter.set}. */
export interface SetOptions {
  signal?: AbortSignal;
}

/** The options of {@link Parameter.wait}. */
export const WAIT_OPTIONS = SIGNAL_OPTIONS.extend({
  /** Give up after this many milliseconds (default: wait forever, until aborted). */
  timeoutMs: zwhere(
    'a number of milliseconds ≥ 0 (Infinity: no timeout)',
    (v): v is number => typeof v === 'number' && v >= 0,
  ).optional(),
  /** Poll period in milliseconds (default 50). */
  intervalMs: z.number().gt(0).optional(),
  /** How close counts as reached (quantity parameters: a quantity; default 1e-9 in the unit). */
  eps: z.unknown().optional(),
});

/** Options of {@link Parameter.wait}. */
export interface WaitOptions {
  /** Give up after this many milliseconds (default: wait forever, until aborted). */
  timeoutMs?: number;
  /** Poll period in milliseconds (default 50). */
  intervalMs?: number;
  signal?: AbortSignal;
}

/**
 * A soft parameter: the value lives in memory. `this.parameter('iteration', soft(0))`.
 */
export function soft<T>(
  initial: T,
  help?: string,
): Required<Pick<ParameterSpec<T>, 'read' | 'write'>> & ParameterSpec<T> {
  let value = initial;
  return {
    help,
    read: () => value,
    write: (next: T) => {
      value = next;
    },
  };
}

/** A named value of a device. */
export class Parameter<T> {
  /** What sort of parameter this is, for listings. */
  readonly kind: 'parameter' | 'quantity' | 'selection' | 'state' = 'parameter';
  readonly help: string;
  readonly #spec: ParameterSpec<T>;
  readonly #stash: T[] = [];
  /** Made on the first `observe()`. */
  #values: Subject<T> | undefined;
  #locked: false | 'temporary' | 'permanent' = false;
  /** The value last read or written (what the prompt shows without asking the hardware). */
  #last: { value: T } | undefined;

  constructor(
    readonly owner: ParameterOwner,
    readonly name: string,
    spec: ParameterSpec<T>,
  ) {
    this.#spec = spec;
    this.help = spec.help ?? '';
  }

  /** `device.parameter`, as used in messages. */
  get fullName(): string {
    return `${this.owner.name}.${this.name}`;
  }

  get readable(): boolean {
    return this.#spec.read !== undefined;
  }

  get writable(): boolean {
    return this.#spec.write !== undefined;
  }

  /** True if the parameter has a target value (e.g. a motor's position). */
  get hasTarget(): boolean {
    return this.#spec.readTarget !== undefined;
  }

  get locked(): boolean {
    return this.#locked !== false;
  }

  /** True after `lock(true)`: the lock cannot be undone. */
  get lockedPermanently(): boolean {
    return this.#locked === 'permanent';
  }

  /** Reads the current value. @throws ReadAccessError if the parameter cannot be read. */
  async get(options: { signal?: AbortSignal } = {}): Promise<T> {
    const read = this.#spec.read;
    if (!read) throw new ReadAccessError(`${this.fullName} cannot be read (it is write-only)`);
    const value = await operation(options.signal, (signal) => Promise.resolve(read(signal)));
    this.#last = { value };
    this.#values?.next(value);
    return value;
  }

  /** Reads the value the device is heading to. @throws ReadAccessError if there is no target. */
  async getTarget(): Promise<T> {
    if (!this.#spec.readTarget) throw new ReadAccessError(`${this.fullName} has no target value`);
    return this.#spec.readTarget();
  }

  /**
   * Writes a value after checking it; the device is untouched when the check fails.
   * @throws WriteAccessError (read-only), LockError (locked), or the validation error.
   */
  async set(value: T, options: SetOptions = {}): Promise<void> {
    checkCallOptions(() => `${this.fullName}.set`, SIGNAL_OPTIONS, options);
    const write = this.#spec.write;
    if (!write) throw new WriteAccessError(`${this.fullName} cannot be written (it is read-only)`);
    if (this.#locked)
      throw new LockError(
        `${this.fullName} is locked${this.#locked === 'permanent' ? ' permanently' : '; unlock() it first'}`,
      );
    const checked = this.validate(value);
    await operation(options.signal, (signal) => Promise.resolve(write(checked, signal)), `set ${this.fullName}`);
    if (this.owner.log.enabled('info'))
      this.owner.log.info(`set ${this.owner.kind}::${this.fullName}='${this.describe(checked)}'`);
    this.#last = { value: checked };
    this.#values?.next(checked);
  }

  /**
   * Checks `value` as `set()` would (unit, limits, the parameter's own check), without writing it;
   * returns the value `set()` would write. Devices run it on their creation options, so creating
   * one refuses what setting it would.
   * @throws the error `set()` would throw for this value.
   */
  check(value: T): T {
    return this.validate(value);
  }

  /**
   * Checks `value` and returns what will be written. Subclasses add unit, limit and selection checks.
   * @internal
   */
  protected validate(value: T): T {
    if (value === undefined) throw new ParameterError(`${this.fullName}: a value is required`);
    if (typeof value === 'number' && !Number.isFinite(value))
      throw new ParameterError(`${this.fullName}: ${value} is not a finite number`);
    this.#spec.validate?.(value);
    return value;
  }

  /** The value last read or written, undefined before the first `get()`/`set()`. */
  get lastValue(): T | undefined {
    return this.#last?.value;
  }

  /** True once a value was read or written (`lastValue` may be a legitimate undefined). */
  get hasLastValue(): boolean {
    return this.#last !== undefined;
  }

  /**
   * What the prompt prints: `Quantity flatMotor.position: 2 mm in [0 mm, 10 mm]` — the kind, the
   * full name, the last value read or written, and what values are allowed.
   */
  [inspect.custom](): string {
    const value = this.hasLastValue ? `: ${this.describe(this.lastValue as T)}` : '';
    const access = this.readable ? (this.writable ? '' : ' (read-only)') : ' (write-only)';
    const allowed = this.allowedValues();
    const range = allowed === undefined ? '' : this.kind === 'selection' ? ` (one of ${allowed})` : ` in ${allowed}`;
    return `${this.constructor.name} ${this.fullName}${value}${range}${access}`;
  }

  /**
   * The values allowed, for the prompt and `ddoc()`: `[0 mm, 10 mm]`, `'auto' | 'software'`
   * (undefined: any value of the type).
   */
  allowedValues(): string | undefined {
    return undefined;
  }

  /** The value as printed in logs and tables. */
  describe(value: T): string {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  }

  /** Makes `set()` fail with `LockError`. A permanent lock cannot be undone. */
  lock(permanent = false): void {
    if (this.#locked === 'permanent') return;
    this.#locked = permanent ? 'permanent' : 'temporary';
  }

  /** Allows `set()` again. @throws LockError after a permanent lock. */
  unlock(): void {
    if (this.#locked === 'permanent') throw new LockError(`${this.fullName} is locked permanently`);
    this.#locked = false;
  }

  /** Pushes the current value on a stack (LIFO); `restore()` pops and sets it. */
  async stash(): Promise<void> {
    if (!this.writable || !this.readable)
      throw new WriteAccessError(`${this.fullName} cannot be stashed (it is not readable and writable)`);
    this.#stash.push(await this.get());
  }

  /** Sets the most recently stashed value. @throws ParameterError if nothing is stashed. */
  async restore(options: SetOptions = {}): Promise<void> {
    if (this.#stash.length === 0) throw new ParameterError(`${this.fullName}: nothing stashed to restore`);
    const value = this.#stash[this.#stash.length - 1]!;
    await this.set(value, options);
    this.#stash.pop();
  }

  /** How many values are stashed. */
  get stashed(): number {
    return this.#stash.length;
  }

  /**
   * Polls until the parameter equals `value` (within the subclass's tolerance).
   * @throws WaitError when `timeoutMs` passes first.
   */
  async wait(value: T, options: WaitOptions & { eps?: unknown } = {}): Promise<void> {
    parseOptions(() => `${this.fullName}.wait`, WAIT_OPTIONS, options);
    const { timeoutMs, intervalMs = 50 } = options;
    const deadline = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
    await operation(
      options.signal,
      async (signal) => {
        for (;;) {
          const current = await this.get({ signal });
          if (this.reached(current, value, options.eps)) return;
          if (performance.now() + intervalMs > deadline)
            throw new WaitError(
              `${this.fullName}: did not reach ${this.describe(value)} within ${timeoutMs} ms (last value ${this.describe(current)})`,
            );
          await sleep(intervalMs, signal);
        }
      },
      `${this.fullName}.wait()`,
    );
  }

  /** Whether `current` counts as `target` for `wait()`. @internal */
  protected reached(current: T, target: T, _eps: unknown): boolean {
    return current === target;
  }

  /** Every value read or successfully written from now on. */
  observe(): Observable<T> {
    return (this.#values ??= new (rxjs().Subject<T>)()).asObservable();
  }
}

/** Any parameter, for lists and lookups by name. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Parameter<T> is invariant in T: unknown would not accept Parameter<number>
export type AnyParameter = Parameter<any>;
