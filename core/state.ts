/**
 * The `state` parameter of a device: a string from a fixed set, read-only for users. Software
 * state machines change it with `check`/`transition` (see `core/fsm.ts`); hardware devices may
 * read it from the device instead.
 * @module
 */
import { FSMError, WriteAccessError } from './errors.js';
import { Parameter, type ParameterOwner, type SetOptions } from './parameter.js';

/** How a device's state is kept. */
export interface StateSpec<S extends string> {
  /** The state a new (or reset) device is in. */
  initial: S;
  /** Reads the state from hardware. Without it the state lives in software. */
  read?: (signal: AbortSignal) => Promise<S> | S;
  help?: string;
}

/** A device's state. `'error'` is always a possible state. */
export class State<S extends string> extends Parameter<S | 'error'> {
  override readonly kind = 'state';
  readonly initial: S;
  /** True if the state lives only in software (no `read` hook): `current` is then the truth. */
  readonly software: boolean;
  readonly #soft: { value: S | 'error' };
  #error: unknown;

  constructor(owner: ParameterOwner, spec: StateSpec<S>) {
    const read = spec.read;
    const soft: { value: S | 'error' } = { value: spec.initial };
    super(owner, 'state', {
      help: spec.help ?? 'the device state',
      read: (signal) => (soft.value === 'error' || !read ? soft.value : read(signal)),
    });
    this.initial = spec.initial;
    this.software = read === undefined;
    this.#soft = soft;
  }

  /** The state as software last set it (without asking hardware). */
  get current(): S | 'error' {
    return this.#soft.value;
  }

  /** A state lives in software: its current value is always known. */
  override get hasLastValue(): boolean {
    return this.software || super.hasLastValue;
  }

  override get lastValue(): S | 'error' | undefined {
    return this.software ? this.#soft.value : super.lastValue;
  }

  /** What put the device into `'error'`, if it is there. */
  get error(): unknown {
    return this.#error;
  }

  /** Users cannot assign a state: it changes only through the device's methods. @throws WriteAccessError */
  override async set(_state?: S | 'error', _options?: SetOptions): Promise<void> {
    throw new WriteAccessError(
      `${this.fullName} cannot be set directly; it changes through the device's methods (use reset() to leave 'error')`,
    );
  }

  /** Changes the software state. @internal Used by `check`/`transition` and backends. */
  enter(state: S | 'error', error?: unknown): void {
    if (typeof state !== 'string') throw new FSMError(`${this.fullName}: invalid state ${String(state)}`);
    this.#soft.value = state;
    this.#error = state === 'error' ? error : undefined;
  }
}
