/**
 * Motors: the family base every backend (dummy, Tango, …) composes with a motion part. The base
 * owns unit and limit checks, the state machine, cancellation and the refusal of a second move;
 * the motion part ({@link MotorMotion}) moves the axis.
 * @module
 */
import {
  checkSignalOptions,
  Device,
  type DeviceOptions,
  HardLimitError,
  type Quantity,
  type SetOptions,
  type State,
  transition,
  TransitionNotAllowed,
  type Unit,
} from '../../core/index.js';
import type { MotionContext, MotorMotion, MotorState, VelocityMotion } from './motion.js';

export type { MotionContext, MotionEstimate, MotorMotion, MotorState, VelocityMotion } from './motion.js';

/** What a move would take and the limits it would hit ({@link Motor.estimateMove}). */
export interface MoveEstimate {
  /** Duration in ms (undefined: unknown, see `unknown`). */
  durationMs: number | undefined;
  /** Why the duration is unknown. */
  unknown?: string;
  /** Every limit the move would hit, as messages naming the motor (`m.position: 12 mm is out of range …`). */
  limits: string[];
}

/** Options of {@link Motor.create}. */
export type MotorOptions = DeviceOptions;

const afterMove = (error: unknown): MotorState | 'error' => (error instanceof HardLimitError ? 'hard-limit' : 'error');

/**
 * A motor with a position in `positionUnit`, moved by its motion part `M`.
 * @example
 * ```ts
 * const stage = await LinearMotor.create({ name: 'stage' }, new StageMotion(…));
 * await stage.setPosition(q('2 mm'));
 * ```
 */
export abstract class Motor<M extends MotorMotion = MotorMotion> extends Device implements MotionContext {
  /** Unit of the position: `mm` for linear motors, `deg` for rotation motors. */
  static readonly positionUnit: string = 'mm';

  /** What moves the axis (a simulated axis, a Tango device, …). */
  readonly motion: M;

  /** Motor state: standby, moving, hard-limit, disabled or error. */
  readonly state: State<MotorState>;

  /** The axis position. Setting it moves the motor (abortable). */
  readonly position: Quantity;

  /** A move or homing started here is running. */
  #positioning = false;

  constructor(options: MotorOptions, motion: M) {
    super(options);
    this.motion = motion;
    this.state = this.stateParameter<MotorState>({
      initial: 'standby',
      read: motion.readState && ((s) => motion.readState!(s) as Promise<MotorState>),
    });
    this.position = this.quantity('position', {
      unit: (this.constructor as typeof Motor).positionUnit,
      help: 'axis position',
      read: () => motion.readPosition(),
      write: (target, signal) => this.#oneMotion('moveTo', () => this.#moveTo(target, signal)),
      readTarget: () => (motion.readTargetPosition ?? motion.readPosition).call(motion),
    });
    motion.bind?.(this);
  }

  /**
   * Runs one positioning move or homing at a time. A motor whose state lives in software refuses
   * a second one through its state (`moving`); one that reads its state from the hardware is
   * refused here at once, before the hardware says MOVING.
   */
  async #oneMotion(method: string, fn: () => Promise<void>): Promise<void> {
    if (this.#positioning) {
      if (!this.state.software)
        throw new TransitionNotAllowed(
          `${this.name}.${method}() is not allowed in state 'moving' (allowed in: standby, hard-limit)`,
          'moving',
        );
      return fn(); // refused by its state transition
    }
    this.#positioning = true;
    try {
      await fn();
    } finally {
      this.#positioning = false;
    }
  }

  @transition({ source: ['standby', 'hard-limit'], immediate: 'moving', target: 'standby', failed: afterMove })
  async #moveTo(target: number, signal: AbortSignal): Promise<void> {
    await this.operation(signal, (s) => this.motion.moveTo(target, s));
  }

  @transition({ source: ['standby', 'hard-limit'], immediate: 'moving', target: 'standby', failed: afterMove })
  async #home(signal: AbortSignal | undefined): Promise<void> {
    await this.operation(signal, (s) => (this.motion.home ? this.motion.home(s) : this.motion.moveTo(0, s)));
  }

  /** Moves to `position` (absolute). */
  setPosition(position: Unit, options?: SetOptions): Promise<void> {
    return this.position.set(position, options);
  }

  getPosition(): Promise<Unit> {
    return this.position.get();
  }

  getTargetPosition(): Promise<Unit> {
    return this.position.getTarget();
  }

  /** Moves by `delta` relative to the current position. */
  async move(delta: Unit, options?: SetOptions): Promise<void> {
    checkSignalOptions(() => `${this.name}.move`, options);
    const step = this.position.toNumber(delta, `${this.position.fullName} (delta)`);
    const here = this.position.toNumber(await this.position.get());
    await this.position.set(this.position.quantity(here + step), options);
  }

  /**
   * What moving from `from` to `to` (numbers in the position unit) would take, without moving:
   * the duration the motion part computes from its speed and acceleration as configured (a dummy
   * from `motionVelocity`, a Tango motor from the device's attributes), and every limit the move
   * would hit: the soft limits (user and controller) and a hard limit (end switch).
   */
  async estimateMove(from: number, to: number): Promise<MoveEstimate> {
    const limits: string[] = [];
    const soft = this.position.limitProblem(to);
    if (soft !== undefined) limits.push(soft);
    if (from === to) return { durationMs: 0, limits };
    if (!this.motion.estimateMove)
      return { durationMs: undefined, unknown: `${this.name} cannot estimate its moves`, limits };
    const motion = await this.motion.estimateMove(from, to);
    if (motion.hardLimit !== undefined) limits.push(motion.hardLimit);
    return { durationMs: motion.durationMs, unknown: motion.unknown, limits };
  }

  /**
   * What running at `velocity` for `durationMs` from `from` would take, without moving: the ramp
   * to the velocity, where the axis ends up, and the limits on the way (velocity motors only).
   */
  async estimateRun(from: number, velocity: number, durationMs: number): Promise<MoveEstimate & { end: number }> {
    const motion = this.motion as Partial<VelocityMotion>;
    const rampMs = (await motion.estimateRamp?.(velocity)) ?? 0;
    const end = from + (velocity * durationMs) / 1000;
    const limits: string[] = [];
    const soft = this.position.limitProblem(end);
    if (soft !== undefined)
      limits.push(`${soft} (where ${this.name} ends up running at ${velocity} ${this.position.unit}/s)`);
    const hard = from === end ? undefined : (await this.motion.estimateMove?.(from, end))?.hardLimit;
    if (hard !== undefined) limits.push(hard);
    return { durationMs: rampMs, limits, end };
  }

  /** Stops the motor where it is; a running move rejects with an AbortError. */
  async stop(): Promise<void> {
    this.abortOperations('stopped');
    await this.#stopMotion();
  }

  /** Drives to the home position. */
  async home(options: { signal?: AbortSignal } = {}): Promise<void> {
    checkSignalOptions(() => `${this.name}.home`, options);
    return this.#oneMotion('home', () => this.#home(options.signal));
  }

  /** Powers the motor on (disabled → standby). */
  @transition({ source: ['disabled'], target: 'standby' })
  async enable(): Promise<void> {
    await this.motion.enable?.(true);
  }

  /** Powers the motor off (standby → disabled); a disabled motor refuses to move. */
  @transition({ source: ['standby', 'hard-limit'], target: 'disabled' })
  async disable(): Promise<void> {
    await this.motion.enable?.(false);
  }

  protected override async connect(): Promise<void> {
    await this.motion.connect?.();
  }

  protected override async disconnectHook(): Promise<void> {
    await this.motion.disconnect?.();
  }

  protected override async stopHook(): Promise<void> {
    await this.#stopMotion();
  }

  async #stopMotion(): Promise<void> {
    await this.motion.stop();
    if (this.state.current === 'moving') this.state.enter('standby');
  }

  /** Declares the `velocity` parameter of continuous motors (position unit per second; 0 stops). */
  protected velocityParameter(motion: VelocityMotion): Quantity {
    return this.quantity('velocity', {
      unit: `${this.position.unit}/s`,
      help: 'continuous velocity (0 stops)',
      read: () => motion.readVelocity(),
      write: async (velocity, signal) => {
        const state = this.state.current;
        if (state === 'disabled')
          throw new TransitionNotAllowed(
            `${this.name}.velocity cannot be set in state '${state}' (enable() the motor first)`,
            state,
          );
        if (this.#positioning) {
          // Velocity 0 means "no continuous motion": it must not cut a positioning move short (a
          // device-level restore() sets position and velocity in parallel).
          if (velocity === 0) return;
          throw new TransitionNotAllowed(
            `${this.name}.velocity cannot be set while the motor moves to a position (stop() it first)`,
            'moving',
          );
        }
        await motion.runAt(velocity, signal);
        this.state.enter(velocity === 0 ? 'standby' : 'moving');
      },
    });
  }
}

/** A motor moving along a line; position in mm. */
export class LinearMotor<M extends MotorMotion = MotorMotion> extends Motor<M> {
  static override readonly positionUnit: string = 'mm';
}

/** A motor rotating about an axis; position in degrees. */
export class RotationMotor<M extends MotorMotion = MotorMotion> extends Motor<M> {
  static override readonly positionUnit: string = 'deg';
}

/** A linear motor that can also move at a constant `velocity` (mm/s; ≠ 0 runs, 0 stops). */
export class ContinuousLinearMotor<M extends VelocityMotion = VelocityMotion> extends LinearMotor<M> {
  /** Continuous velocity; 0 stops. */
  readonly velocity = this.velocityParameter(this.motion);

  setVelocity(velocity: Unit, options?: SetOptions): Promise<void> {
    return this.velocity.set(velocity, options);
  }

  getVelocity(): Promise<Unit> {
    return this.velocity.get();
  }
}

/** A rotation motor that can also rotate at a constant `velocity` (deg/s; ≠ 0 runs, 0 stops). */
export class ContinuousRotationMotor<M extends VelocityMotion = VelocityMotion> extends RotationMotor<M> {
  /** Continuous velocity; 0 stops. */
  readonly velocity = this.velocityParameter(this.motion);

  setVelocity(velocity: Unit, options?: SetOptions): Promise<void> {
    return this.velocity.set(velocity, options);
  }

  getVelocity(): Promise<Unit> {
    return this.velocity.get();
  }
}
