/**
 * Quantity parameters: a value with a unit and soft limits. Backends read and write plain numbers
 * in the parameter's unit; users get and set mathjs `Unit`s.
 * @module
 */
import { LockError, SoftLimitError, UnitError } from './errors.js';
import { Parameter, type ParameterOwner, type ParameterSpec, type WaitOptions } from './parameter.js';
import { format, isQuantity, math, quantityIn, toNumber, type Unit } from './quantity.js';

/** How a quantity parameter talks to the device: numbers in `unit`. */
export interface QuantitySpec extends ParameterSpec<number> {
  /** The parameter's unit, e.g. `'mm'`, `'deg'`, `'s'`, `'1/s'`, `'px'`. */
  unit: string;
  /** User (soft) limits, in `unit`. */
  lower?: number;
  upper?: number;
}

type LimitLock = false | 'temporary' | 'permanent';

/** A parameter whose value is a quantity in a fixed unit, with user and external limits. */
export class Quantity extends Parameter<Unit> {
  override readonly kind = 'quantity';
  readonly unit: string;
  #lower: number | undefined;
  #upper: number | undefined;
  #externalLower: number | undefined;
  #externalUpper: number | undefined;
  #limitLock: LimitLock = false;

  constructor(owner: ParameterOwner, name: string, spec: QuantitySpec) {
    const unit = spec.unit;
    try {
      math.unit(unit);
    } catch (error) {
      throw new UnitError(`${owner.name}.${name}: unknown unit '${unit}'`, { cause: error });
    }
    const { read, write, readTarget, validate } = spec;
    super(owner, name, {
      help: spec.help,
      read: read && (async (signal) => quantityIn(await read(signal), unit)),
      write: write && ((value, signal) => write(toNumber(value, unit), signal)),
      readTarget: readTarget && (async () => quantityIn(await readTarget(), unit)),
      validate: validate && ((value) => validate(toNumber(value, unit))),
    });
    this.unit = unit;
    this.#lower = spec.lower;
    this.#upper = spec.upper;
  }

  /** A number in this parameter's unit as a quantity. */
  quantity(value: number): Unit {
    return quantityIn(value, this.unit);
  }

  /** Converts `value` to a number in this parameter's unit. @throws UnitError naming both units. */
  toNumber(value: Unit, what = this.fullName): number {
    if (!isQuantity(value)) {
      throw new UnitError(
        `${what}: expected a quantity in ${this.unit}, got ${describeValue(value)}; write e.g. ` +
          `q('${typeof value === 'number' ? value : 1} ${this.unit}')`,
      );
    }
    return toNumber(value, this.unit, what);
  }

  protected override validate(value: Unit): Unit {
    const n = this.toNumber(value);
    const problem = this.limitProblem(n, value);
    if (problem !== undefined) throw new SoftLimitError(problem);
    return super.validate(this.quantity(n));
  }

  /**
   * Why `value` (a number in this parameter's unit) is outside the effective limits, as
   * `m.position: 12 mm is out of range [0 mm, 10 mm]`; undefined when it is inside. `given`: the
   * value as the user wrote it (shown in its own unit).
   */
  limitProblem(value: number, given?: Unit): string | undefined {
    const [lower, upper] = this.#effective();
    if ((lower === undefined || value >= lower) && (upper === undefined || value <= upper)) return undefined;
    const range = `[${this.#show(lower, '-∞')}, ${this.#show(upper, '∞')}]`;
    return `${this.fullName}: ${format(given ?? this.quantity(value))} is out of range ${range}`;
  }

  override describe(value: Unit): string {
    return format(value);
  }

  /** `[0 mm, 10 mm]` (the effective limits; undefined without limits). */
  override allowedValues(): string | undefined {
    const { lower, upper } = this;
    if (lower === undefined && upper === undefined) return undefined;
    return `[${lower === undefined ? '-∞' : format(lower)}, ${upper === undefined ? '∞' : format(upper)}]`;
  }

  protected override reached(current: Unit, target: Unit, eps: unknown): boolean {
    const tolerance = eps === undefined ? 1e-9 : this.toNumber(eps as Unit, `${this.fullName} (eps)`);
    return Math.abs(this.toNumber(current) - this.toNumber(target)) <= tolerance;
  }

  /** Polls until the value is within `eps` (a quantity, default 1e-9 in this unit) of `value`. */
  override async wait(value: Unit, options: WaitOptions & { eps?: Unit } = {}): Promise<void> {
    this.toNumber(value);
    if (options.eps !== undefined) this.toNumber(options.eps, `${this.fullName} (eps)`);
    return super.wait(value, options);
  }

  /** The effective lower limit: the larger of the user and external limits (undefined: none). */
  get lower(): Unit | undefined {
    const v = this.#effective()[0];
    return v === undefined ? undefined : this.quantity(v);
  }

  /** The effective upper limit: the smaller of the user and external limits (undefined: none). */
  get upper(): Unit | undefined {
    const v = this.#effective()[1];
    return v === undefined ? undefined : this.quantity(v);
  }

  /** Sets the user lower limit (undefined removes it). @throws LimitError if ≥ the upper limit, LockError if locked. */
  setLower(value: Unit | undefined): void {
    this.#checkLimitsUnlocked();
    const n = value === undefined ? undefined : this.toNumber(value, `${this.fullName} lower limit`);
    const upper = this.#effective()[1];
    if (n !== undefined && upper !== undefined && n >= upper)
      throw new SoftLimitError(
        `${this.fullName}: lower limit ${this.#show(n, '-∞')} must be below the upper limit ${this.#show(upper, '∞')}`,
      );
    this.#lower = n;
  }

  /** Sets the user upper limit (undefined removes it). @throws LimitError if ≤ the lower limit, LockError if locked. */
  setUpper(value: Unit | undefined): void {
    this.#checkLimitsUnlocked();
    const n = value === undefined ? undefined : this.toNumber(value, `${this.fullName} upper limit`);
    const lower = this.#effective()[0];
    if (n !== undefined && lower !== undefined && n <= lower)
      throw new SoftLimitError(
        `${this.fullName}: upper limit ${this.#show(n, '∞')} must be above the lower limit ${this.#show(lower, '-∞')}`,
      );
    this.#upper = n;
  }

  /**
   * Sets limits imposed by the hardware or its controller, in this parameter's unit.
   * @internal Backends call this; users set user limits.
   */
  setExternalLimits(lower: number | undefined, upper: number | undefined): void {
    this.#externalLower = lower;
    this.#externalUpper = upper;
  }

  /** Makes `setLower`/`setUpper` fail with `LockError`; a permanent lock cannot be undone. */
  lockLimits(permanent = false): void {
    if (this.#limitLock === 'permanent') return;
    this.#limitLock = permanent ? 'permanent' : 'temporary';
  }

  /** Allows changing limits again. @throws LockError after a permanent lock. */
  unlockLimits(): void {
    if (this.#limitLock === 'permanent') throw new LockError(`${this.fullName}: limits are locked permanently`);
    this.#limitLock = false;
  }

  get limitsLocked(): boolean {
    return this.#limitLock !== false;
  }

  #checkLimitsUnlocked(): void {
    if (this.#limitLock)
      throw new LockError(
        `${this.fullName}: limits are locked${this.#limitLock === 'permanent' ? ' permanently' : '; unlockLimits() first'}`,
      );
  }

  #effective(): [number | undefined, number | undefined] {
    const lower = maxDefined(this.#lower, this.#externalLower);
    const upper = minDefined(this.#upper, this.#externalUpper);
    return [lower, upper];
  }

  #show(n: number | undefined, none: string): string {
    return n === undefined ? none : format(this.quantity(n));
  }
}

function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

function describeValue(value: unknown): string {
  if (typeof value === 'number') return `plain number ${value}`;
  if (typeof value === 'string') return `string '${value}'`;
  return value === null ? 'null' : typeof value;
}
