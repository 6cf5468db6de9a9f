/**
 * Simulated motors that behave like real ones: moves take time, can be aborted where they are,
 * and clamp at hard limits. `import { LinearMotor } from 'concert/devices/motors/dummy'`.
 * @module
 */
import type { z } from '../../core/index.js';
import { DEVICE_OPTIONS, format, OptionError, zq, type Unit } from '../../core/index.js';
import * as base from './base.js';
import type { MotionContext, MotionEstimate, VelocityMotion } from './motion.js';
import { SimulatedAxis } from './simulated-axis.js';

/** The options of a dummy motor whose position is in `unit` (`mm` or `deg`). */
function dummyMotorOptions(unit: string) {
  return DEVICE_OPTIONS.extend({
    /** Starting position (default 0). */
    position: zq(unit).optional(),
    /** Speed of simulated positioning moves (default 100 mm/s or 360 deg/s). */
    motionVelocity: zq(`${unit}/s`).optional(),
    /** Hard limit (end switch); crossing it clamps the position there. Default: none. */
    hardLower: zq(unit).optional(),
    /** Hard limit (end switch); crossing it clamps the position there. Default: none. */
    hardUpper: zq(unit).optional(),
    /** User (soft) limit. */
    lower: zq(unit).optional(),
    /** User (soft) limit. */
    upper: zq(unit).optional(),
  });
}

/** The options of the dummy linear motors (positions in mm). */
export const DUMMY_LINEAR_MOTOR_OPTIONS = dummyMotorOptions('mm');
/** The options of the dummy rotation motors (positions in deg). */
export const DUMMY_ROTATION_MOTOR_OPTIONS = dummyMotorOptions('deg');
/** Options of the dummy motors. */
export type DummyMotorOptions = z.input<typeof DUMMY_LINEAR_MOTOR_OPTIONS>;

/**
 * The motion part of the dummy motors: a {@link SimulatedAxis} that moves with time at
 * `motionVelocity`, stops where it is when aborted and clamps at `hardLower`/`hardUpper`.
 */
export class SimulatedMotion implements VelocityMotion {
  readonly #options: DummyMotorOptions;
  readonly #defaultSpeed: number;
  #axis: SimulatedAxis | undefined;
  #motor: MotionContext | undefined;

  /** @param defaultSpeed Positioning speed without `motionVelocity` (position unit per second). */
  constructor(options: DummyMotorOptions, defaultSpeed: number) {
    this.#options = options;
    this.#defaultSpeed = defaultSpeed;
  }

  bind(motor: MotionContext): void {
    const o = this.#options;
    const { position } = motor;
    const n = (v: Unit | undefined, fallback: number) => (v === undefined ? fallback : position.toNumber(v));
    const owner = `${motor.kind}.create`;
    const speed = o.motionVelocity === undefined ? this.#defaultSpeed : o.motionVelocity.toNumber(`${position.unit}/s`);
    if (!(speed > 0))
      throw new OptionError(`${owner}: option 'motionVelocity' must be > 0, got ${format(o.motionVelocity!)}`);
    const [hardLower, hardUpper, start] = [n(o.hardLower, -Infinity), n(o.hardUpper, Infinity), n(o.position, 0)];
    if (!(hardLower < hardUpper)) throw new OptionError(`${owner}: option 'hardLower' must be below 'hardUpper'`);
    if (start < hardLower || start > hardUpper)
      throw new OptionError(
        `${owner}: option 'position' ${format(position.quantity(start))} is outside the hard limits`,
      );
    this.#axis = new SimulatedAxis(start, speed, hardLower, hardUpper, (x) => format(position.quantity(x)));
    if (o.lower) position.setLower(o.lower);
    if (o.upper) position.setUpper(o.upper);
    this.#motor = motor;
  }

  /** The simulated axis (valid once a motor holds this part). */
  get axis(): SimulatedAxis {
    if (!this.#axis) throw new Error('SimulatedMotion: not part of a motor yet');
    return this.#axis;
  }

  /** Where the simulated axis is at time `now` (`performance.now()` ms), without a read. */
  position(now = performance.now()): number {
    return this.axis.position(now);
  }

  /** The velocity of the current simulated motion (position unit per second; 0 at rest). */
  get velocity(): number {
    return this.axis.velocity;
  }

  async readPosition(): Promise<number> {
    return this.axis.position();
  }

  async moveTo(target: number, signal: AbortSignal): Promise<void> {
    await this.axis.moveTo(target, signal, this.#motor!.position.fullName);
  }

  async stop(): Promise<void> {
    this.axis.stop();
  }

  async readVelocity(): Promise<number> {
    return this.axis.velocity;
  }

  /** The time at `motionVelocity` (the simulation has no acceleration), and a hard limit on the way. */
  async estimateMove(from: number, to: number): Promise<MotionEstimate> {
    const axis = this.axis;
    const end = Math.min(Math.max(to, axis.hardLower), axis.hardUpper);
    const hardLimit =
      end === to
        ? undefined
        : `${this.#motor!.position.fullName}: would hit the hard limit at ${axis.describe(end)} moving to ${axis.describe(to)}`;
    return { durationMs: (Math.abs(end - from) / axis.speed) * 1000, hardLimit };
  }

  async runAt(velocity: number): Promise<void> {
    this.axis.run(velocity, () => this.#motor!.state.enter('hard-limit'));
  }
}

/** A simulated linear motor (position in mm). */
export class DummyLinearMotor extends base.LinearMotor<SimulatedMotion> {
  static override readonly options = DUMMY_LINEAR_MOTOR_OPTIONS;
  constructor(options: DummyMotorOptions = {}) {
    super(options, new SimulatedMotion(options, 100));
  }
}

/** A simulated rotation motor (position in degrees). */
export class DummyRotationMotor extends base.RotationMotor<SimulatedMotion> {
  static override readonly options = DUMMY_ROTATION_MOTOR_OPTIONS;
  constructor(options: DummyMotorOptions = {}) {
    super(options, new SimulatedMotion(options, 360));
  }
}

/** A simulated linear motor that also moves continuously at `velocity` (mm/s). */
export class DummyContinuousLinearMotor extends base.ContinuousLinearMotor<SimulatedMotion> {
  static override readonly options = DUMMY_LINEAR_MOTOR_OPTIONS;
  constructor(options: DummyMotorOptions = {}) {
    super(options, new SimulatedMotion(options, 100));
  }
}

/** A simulated rotation motor that also rotates continuously at `velocity` (deg/s). */
export class DummyContinuousRotationMotor extends base.ContinuousRotationMotor<SimulatedMotion> {
  static override readonly options = DUMMY_ROTATION_MOTOR_OPTIONS;
  constructor(options: DummyMotorOptions = {}) {
    super(options, new SimulatedMotion(options, 360));
  }
}

/** The family names users import: `import { LinearMotor } from 'concert/devices/motors/dummy'`. */
export {
  DummyContinuousLinearMotor as ContinuousLinearMotor,
  DummyContinuousRotationMotor as ContinuousRotationMotor,
  DummyLinearMotor as LinearMotor,
  DummyRotationMotor as RotationMotor,
};
