/**
 * Simulated motors that behave like real ones: moves take time, can be aborted where they are,
 * and clamp at hard limits. `import { LinearMotor } from 'concert/devices/motors/dummy'`.
 * @module
 */
import type { z } from '../../core/index.js';
import { DEVICE_OPTIONS, format, OptionError, TransitionNotAllowed, zq, type Unit } from '../../core/index.js';
import * as base from './base.js';
import { Motion } from './motion.js';

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

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AbstractMotor = abstract new (...args: any[]) => base.Motor;

function Simulated<B extends AbstractMotor>(Base: B, defaultSpeed: number) {
  abstract class SimulatedMotor extends Base {
    readonly motion: Motion;

    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    constructor(...args: any[]) {
      super(...args);
      const o = (args[0] ?? {}) as DummyMotorOptions;
      const unit = this.position.unit;
      const n = (v: Unit | undefined, fallback: number) => (v === undefined ? fallback : this.position.toNumber(v));
      const speedUnit = `${unit}/s`;
      const kind = (this.constructor as { name: string }).name;
      const speed = o.motionVelocity === undefined ? defaultSpeed : o.motionVelocity.toNumber(speedUnit);
      if (!(speed > 0))
        throw new OptionError(`${kind}.create: option 'motionVelocity' must be > 0, got ${format(o.motionVelocity!)}`);
      const [hardLower, hardUpper, start] = [n(o.hardLower, -Infinity), n(o.hardUpper, Infinity), n(o.position, 0)];
      if (!(hardLower < hardUpper))
        throw new OptionError(`${kind}.create: option 'hardLower' must be below 'hardUpper'`);
      if (start < hardLower || start > hardUpper)
        throw new OptionError(
          `${kind}.create: option 'position' ${format(this.position.quantity(start))} is outside the hard limits`,
        );
      this.motion = new Motion(start, speed, hardLower, hardUpper, (x) => format(this.position.quantity(x)));
      if (o.lower) this.position.setLower(o.lower);
      if (o.upper) this.position.setUpper(o.upper);
    }

    protected async readPosition(): Promise<number> {
      return this.motion.position();
    }

    protected async moveHook(target: number, signal: AbortSignal): Promise<void> {
      await this.motion.moveTo(target, signal, this.position.fullName);
    }

    protected async stopMotion(): Promise<void> {
      this.motion.stop();
      if (this.state.current === 'moving') this.state.enter('standby');
    }
  }
  return SimulatedMotor;
}

/** A simulated linear motor (position in mm). */
export class LinearMotor extends Simulated(base.LinearMotor, 100) {
  static override readonly options = DUMMY_LINEAR_MOTOR_OPTIONS;
  constructor(options: DummyMotorOptions = {}) {
    super(options);
  }
}

/** A simulated rotation motor (position in degrees). */
export class RotationMotor extends Simulated(base.RotationMotor, 360) {
  static override readonly options = DUMMY_ROTATION_MOTOR_OPTIONS;
  constructor(options: DummyMotorOptions = {}) {
    super(options);
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- TypeScript's mixin constructor type
function ContinuousSimulated<B extends abstract new (...args: any[]) => base.Motor & { motion: Motion }>(Base: B) {
  abstract class ContinuousSimulatedMotor extends base.Continuous(Base) {
    protected async readVelocity(): Promise<number> {
      return this.motion.velocity;
    }

    protected async writeVelocity(velocity: number): Promise<void> {
      if (this.motion.positioning) {
        // Velocity 0 means "no continuous motion": it must not cut a positioning move short (a
        // device-level restore() sets position and velocity in parallel).
        if (velocity === 0) return;
        throw new TransitionNotAllowed(
          `${this.name}.velocity cannot be set while the motor moves to a position (stop() it first)`,
          'moving',
        );
      }
      this.motion.run(velocity, () => this.state.enter('hard-limit'));
      this.state.enter(velocity === 0 ? 'standby' : 'moving');
    }
  }
  return ContinuousSimulatedMotor;
}

/** A simulated linear motor that also moves continuously at `velocity` (mm/s). */
export class ContinuousLinearMotor extends ContinuousSimulated(Simulated(base.LinearMotor, 100)) {
  static override readonly options = DUMMY_LINEAR_MOTOR_OPTIONS;
  constructor(options: DummyMotorOptions = {}) {
    super(options);
  }
}

/** A simulated rotation motor that also rotates continuously at `velocity` (deg/s). */
export class ContinuousRotationMotor extends ContinuousSimulated(Simulated(base.RotationMotor, 360)) {
  static override readonly options = DUMMY_ROTATION_MOTOR_OPTIONS;
  constructor(options: DummyMotorOptions = {}) {
    super(options);
  }
}
