/**
 * Devices: objects with named parameters, a state, async construction (`await X.create(opts)`),
 * exclusive locking, stash/restore, and an emergency stop.
 * @module
 */
import { inspect } from 'node:util';
import { operation, repeatedOperation, type RepeatedOperation } from './abort.js';
import { cancellation, OptionError, ParameterError, errorMessage } from './errors.js';
import { Logger } from './log.js';
import { Mutex } from './mutex.js';
import { parseOptions, z, type OptionsSchema } from './options.js';
import { Parameter, type AnyParameter, type ParameterOwner, type ParameterSpec, type SetOptions } from './parameter.js';
import { Quantity, type QuantitySpec } from './quantity-parameter.js';
import { format, isQuantity } from './quantity.js';
import { registerDevice, unregisterDevice } from './registry.js';
import { Selection } from './selection.js';
import { State, type StateSpec } from './state.js';

/** Options every parameterizable object accepts. */
export interface ParameterizableOptions {
  /** Name used in messages and logs, e.g. `flatMotor` (sessions default it to the variable name). */
  name?: string;
}

/** One parameter's entry in a {@link Parameterizable.snapshot}. */
export interface ParameterSnapshot {
  value?: unknown;
  unit?: string;
  target?: unknown;
  lower?: string;
  upper?: string;
  locked?: boolean;
  error?: string;
}

const counters = new Map<string, number>();

/** Gives an object made without a `name` one (the session loader: the variable it is assigned to). */
export type DefaultNamer = (kind: string) => string | undefined;

let namer: DefaultNamer | undefined;

/**
 * Installs (or removes, with undefined) the namer of objects made without a `name`; returns the
 * previous one. The session loader names `export const flatMotor = await LinearMotor.create()`
 * `flatMotor` from the start, so every message while loading already says `flatMotor`.
 * @internal
 */
export function setDefaultNamer(next: DefaultNamer | undefined): DefaultNamer | undefined {
  const previous = namer;
  namer = next;
  return previous;
}

/**
 * The name the installed {@link DefaultNamer} gives a new object of `kind` made without a name
 * (undefined outside a session load). For named things that are not {@link Parameterizable}
 * (addons).
 * @internal
 */
export function sessionDefaultName(kind: string): string | undefined {
  return namer?.(kind);
}

function defaultName(kind: string): string {
  const n = (counters.get(kind) ?? 0) + 1;
  counters.set(kind, n);
  return `${kind[0]!.toLowerCase()}${kind.slice(1)}${n}`;
}

/** How many parameters the printed form of a device shows. */
const INSPECT_FIELDS = 8;

/** Something with named parameters. Iterating it lists the parameters sorted by name. */
export class Parameterizable implements ParameterOwner, Iterable<AnyParameter> {
  readonly log: Logger;
  #name: string;
  #named: boolean;
  readonly #parameters = new Map<string, AnyParameter>();

  /**
   * `fallbackName`: the name when neither `options.name` nor the session gives one (default: the
   * kind with a counter, `linearMotor1`).
   */
  constructor(options: ParameterizableOptions = {}, fallbackName?: string) {
    this.#named = options.name !== undefined;
    this.#name = options.name ?? namer?.(this.kind) ?? fallbackName ?? defaultName(this.kind);
    this.log = new Logger(this.#name);
  }

  /** The class name, e.g. `LinearMotor`. */
  get kind(): string {
    return this.constructor.name;
  }

  get name(): string {
    return this.#name;
  }

  /** True if the name was given explicitly (sessions only rename unnamed devices). */
  get hasExplicitName(): boolean {
    return this.#named;
  }

  /** Renames the object (sessions name devices after the variables that hold them). */
  rename(name: string): void {
    if (typeof name !== 'string' || name.length === 0)
      throw new ParameterError(`a name must be a non-empty string, got ${JSON.stringify(name)}`);
    this.#name = name;
    this.#named = true;
    (this as { log: Logger }).log = new Logger(name);
  }

  /**
   * The parameter called `name`.
   * @throws ParameterError listing the parameters that exist.
   */
  param(name: string): AnyParameter {
    const p = this.#parameters.get(name);
    if (!p)
      throw new ParameterError(
        `${this.#name} has no parameter '${name}' (it has: ${[...this.#parameters.keys()].sort().join(', ') || 'none'})`,
      );
    return p;
  }

  /** True if a parameter called `name` exists. */
  hasParam(name: string): boolean {
    return this.#parameters.has(name);
  }

  /** The parameters, sorted by name. */
  parameters(): AnyParameter[] {
    return [...this.#parameters.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  [Symbol.iterator](): Iterator<AnyParameter> {
    return this.parameters()[Symbol.iterator]();
  }

  /**
   * What the prompt prints: `LinearMotor flatMotor (standby) { position: 2 mm, motionVelocity:
   * 10 mm/s }` — kind, name, state and the parameters' last known values (the prompt reads them
   * first), never internals.
   */
  [inspect.custom](): string {
    const state = this.hasParam('state') ? this.param('state') : undefined;
    const shown = state?.hasLastValue ? ` (${String(state.lastValue)})` : '';
    const fields = this.inspectFields();
    return `${this.kind} ${this.#name}${shown}${fields.length ? ` { ${fields.join(', ')} }` : ''}`;
  }

  /**
   * The `key: value` parts of the printed form: the parameters' last known values, at most
   * {@link INSPECT_FIELDS} (then how many more; `ddoc()` lists them all). Experiments override it.
   */
  protected inspectFields(): string[] {
    const known = this.parameters().filter((p) => p.name !== 'state' && p.hasLastValue);
    const fields = known.slice(0, INSPECT_FIELDS).map((p) => `${p.name}: ${p.describe(p.lastValue as never) || "''"}`);
    if (known.length > INSPECT_FIELDS) fields.push(`… ${known.length - INSPECT_FIELDS} more`);
    return fields;
  }

  /** Declares a plain parameter. */
  protected parameter<T>(name: string, spec: ParameterSpec<T>): Parameter<T> {
    return this.#add(new Parameter<T>(this, name, spec));
  }

  /** Declares a quantity parameter (a value with a unit and limits). */
  protected quantity(name: string, spec: QuantitySpec): Quantity {
    return this.#add(new Quantity(this, name, spec));
  }

  /** Declares a parameter whose value is one of `values`. */
  protected selection<T extends string | number | boolean>(
    name: string,
    values: readonly T[],
    spec: ParameterSpec<T>,
  ): Selection<T> {
    return this.#add(new Selection<T>(this, name, values, spec));
  }

  /** Declares the `state` parameter. */
  protected stateParameter<S extends string>(spec: StateSpec<S>): State<S> {
    return this.#add(new State<S>(this, spec));
  }

  #add<P extends AnyParameter>(parameter: P): P {
    if (this.#parameters.has(parameter.name))
      throw new ParameterError(`${this.#name}: parameter '${parameter.name}' is declared twice`);
    this.#parameters.set(parameter.name, parameter);
    return parameter;
  }

  /** The writable and readable parameters, which stash/restore act on. */
  #stashable(): AnyParameter[] {
    return this.parameters().filter((p) => p.readable && p.writable);
  }

  /** Stashes every readable and writable parameter (in parallel). */
  async stash(): Promise<void> {
    await Promise.all(this.#stashable().map((p) => p.stash()));
  }

  /** Restores every stashed parameter (in parallel). */
  async restore(options: SetOptions = {}): Promise<void> {
    await Promise.all(
      this.#stashable()
        .filter((p) => p.stashed > 0)
        .map((p) => p.restore(options)),
    );
  }

  /** Locks every writable parameter. */
  lock(permanent = false): void {
    for (const p of this.parameters()) if (p.writable) p.lock(permanent);
  }

  /** Unlocks every writable parameter that is not locked permanently. */
  unlock(): void {
    for (const p of this.parameters()) if (p.writable && p.locked && !p.lockedPermanently) p.unlock();
  }

  /** Every readable parameter's value (with unit, target and limits); a failed read is recorded, not thrown. */
  async snapshot(): Promise<Record<string, ParameterSnapshot>> {
    const entries = await Promise.all(
      this.parameters().map(async (p): Promise<[string, ParameterSnapshot]> => {
        const entry: ParameterSnapshot = {};
        try {
          if (p.readable) entry.value = plain(await p.get());
          if (p.hasTarget) entry.target = plain(await p.getTarget());
        } catch (error) {
          entry.error = errorMessage(error) ?? String(error);
        }
        if (p instanceof Quantity) {
          entry.unit = p.unit;
          if (p.lower) entry.lower = format(p.lower);
          if (p.upper) entry.upper = format(p.upper);
        }
        if (p.locked) entry.locked = true;
        return [p.name, entry];
      }),
    );
    return Object.fromEntries(entries);
  }
}

/** A signal that aborts when `a` or `b` does; call `dispose()` when done to unhook it. */
function eitherSignal(a: AbortSignal, b: AbortSignal): { signal: AbortSignal; dispose(): void } {
  if (a.aborted) return { signal: a, dispose() {} };
  if (b.aborted) return { signal: b, dispose() {} };
  const controller = new AbortController();
  const onA = () => controller.abort(a.reason);
  const onB = () => controller.abort(b.reason);
  a.addEventListener('abort', onA, { once: true });
  b.addEventListener('abort', onB, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      a.removeEventListener('abort', onA);
      b.removeEventListener('abort', onB);
    },
  };
}

/**
 * Creation runs the checks of the setters: an option named like a writable parameter
 * (`frameRate`, `exposureTime`, a motor's starting `position` against its limits) is checked as
 * setting that parameter would check it.
 * @throws OptionError naming the option, with the parameter's own message.
 */
function checkParameterOptions(owner: string, device: Device, options: unknown): void {
  if (typeof options !== 'object' || options === null) return;
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || !device.hasParam(key)) continue;
    const parameter = device.param(key);
    if (!parameter.writable || parameter.kind === 'state') continue;
    try {
      parameter.check(value);
    } catch (error) {
      throw new OptionError(`${owner}: option '${key}' is refused: ${errorMessage(error)}`, { cause: error });
    }
  }
}

function plain(value: unknown): unknown {
  return isQuantity(value) ? format(value) : value;
}

/** The options every device accepts; each device family and backend extends it (`.extend({...})`). */
export const DEVICE_OPTIONS = z.strictObject({
  /** Name used in messages and logs, e.g. `flatMotor` (sessions default it to the variable name). */
  name: z.string().optional(),
});

/** Options every device accepts. */
export type DeviceOptions = z.input<typeof DEVICE_OPTIONS>;

/** A constructor that `create()` can call. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- constructors differ per device
export type DeviceClass<T extends Device = Device> = (new (...args: any[]) => T) & {
  readonly options: OptionsSchema;
  readonly name: string;
};

/**
 * Base of every device. Subclasses declare parameters as fields and implement protected hooks;
 * users make them with `await X.create(options)`.
 */
export abstract class Device extends Parameterizable {
  /** The schema of the options `create()` accepts; subclasses extend it. */
  static readonly options: OptionsSchema = DEVICE_OPTIONS;

  readonly #exclusive = new Mutex();
  #stop = new AbortController();

  /**
   * Constructs, validates options and connects a device.
   * @throws OptionError for unknown options or bad values (nothing is constructed).
   * @example
   * ```ts
   * import { LinearMotor } from 'concert/devices/motors/dummy';
   * const motor = await LinearMotor.create({ name: 'flatMotor' });
   * ```
   */
  static async create<C extends DeviceClass>(this: C, ...args: ConstructorParameters<C>): Promise<InstanceType<C>> {
    parseOptions(`${this.name}.create`, this.options, args[0]);
    const device = new this(...args) as InstanceType<C>;
    checkParameterOptions(`${this.name}.create`, device, args[0]);
    await device.connect();
    registerDevice(device);
    return device;
  }

  /** Connects to the hardware. Called once by `create()`. */
  protected async connect(): Promise<void> {}

  /**
   * Runs a long operation that `emergencyStop()`, the caller's `signal`, the REPL's Ctrl-C or
   * `abort()` can cancel. Backends wrap hardware actions in it.
   */
  protected async operation<T>(signal: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const own = this.#stop.signal;
    // Not AbortSignal.any([signal, own]): on Node 20 every call leaves a WeakRef behind on the
    // long-lived device signal (about 70 bytes per grab or move, never freed).
    const both = signal ? eitherSignal(signal, own) : { signal: own, dispose() {} };
    try {
      return await operation(both.signal, fn);
    } catch (error) {
      // Aborted with a reason that is not an AbortError (a failed consumer, `abort(new
      // Error(…))`): still a cancellation, so the device's state machine does not record a fault.
      if (both.signal.aborted && error === both.signal.reason) throw cancellation(both.signal, this.name);
      throw error;
    } finally {
      both.dispose();
    }
  }

  /**
   * Like {@link operation}, for the same action run many times in a row, one run at a time (the
   * grabs of a camera's stream): one signal for every run, made once, and each run tracked while
   * it runs. Call `dispose()` once done.
   */
  protected repeatedOperation(signal: AbortSignal | undefined): RepeatedOperation {
    const both = signal ? eitherSignal(signal, this.#stop.signal) : { signal: this.#stop.signal, dispose() {} };
    const op = repeatedOperation(both.signal);
    const name = this.name;
    return {
      signal: op.signal,
      async run(fn) {
        try {
          return await op.run(fn);
        } catch (error) {
          // As in operation(): an abort whatever its reason is a cancellation, not a fault.
          if (both.signal.aborted && error === both.signal.reason) throw cancellation(both.signal, name);
          throw error;
        }
      },
      dispose() {
        op.dispose();
        both.dispose();
      },
    };
  }

  /** Waits for exclusive use of the device; call the returned function to release it. */
  acquire(): Promise<() => void> {
    return this.#exclusive.acquire();
  }

  /** Runs `fn` with exclusive use of the device. */
  exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    return this.#exclusive.run(fn);
  }

  /** The state parameter, if the device has one. */
  get stateParam(): State<string> | undefined {
    return this.hasParam('state') ? (this.param('state') as State<string>) : undefined;
  }

  /** Reads the device state (`'unknown'` for a device without one). */
  async getState(): Promise<string> {
    return this.stateParam ? this.stateParam.get() : 'unknown';
  }

  /**
   * Stops whatever the device is doing, now: aborts its running operations, then calls the
   * `stopHook` (motors stop, shutters close). Never throws for a device that is already safe.
   */
  async emergencyStop(): Promise<void> {
    this.abortOperations('emergency stop');
    this.log.warn('emergency stop');
    await this.stopHook();
  }

  /** Aborts every operation the device is running (see {@link operation}). */
  protected abortOperations(why: string): void {
    const stop = this.#stop;
    this.#stop = new AbortController();
    stop.abort(new DOMException(`${this.name}: ${why}`, 'AbortError'));
  }

  /** What an emergency stop does to the hardware beyond aborting operations. */
  protected async stopHook(): Promise<void> {}

  /** Leaves the `error` state: calls `resetHook` and returns to the initial state. */
  async reset(): Promise<void> {
    await this.resetHook();
    const state = this.stateParam;
    if (state) state.enter(state.initial);
  }

  /** Brings the hardware back to a known state after an error. */
  protected async resetHook(): Promise<void> {}

  /** Releases connections (and unregisters the device). It cannot be used afterwards. */
  async disconnect(): Promise<void> {
    unregisterDevice(this);
    await this.disconnectHook();
  }

  /** Closes hardware connections. */
  protected async disconnectHook(): Promise<void> {}
}
