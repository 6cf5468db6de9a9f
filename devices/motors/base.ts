/**
 * Motors: the contract every backend (dummy, Tango, …) implements. The base owns unit and limit
 * checks, the state machine and cancellation; backends implement the protected hooks.
 * @module
 */
import {
  Device,
  type DeviceOptions,
  HardLimitError,
  transition,
  TransitionNotAllowed,
  type SetOptions,
  type Unit,
} from '../../core/index.js';

/** Motor states. */
export type MotorState = 'standby' | 'moving' | 'hard-limit' | 'disabled';

/** Options of {@link Motor.create}. */
export type MotorOptions = DeviceOptions;

const afterMove = (error: unknown) => (error instanceof HardLimitError ? 'hard-limit' : 'error');

/** A motor with a position in `positionUnit`. */
export abstract class Motor extends Device {
  /** Unit of the position: `mm` for linear motors, `deg` for rotation motors. */
  static readonly positionUnit: string = 'mm';

  /** Motor state: standby, moving, hard-limit, disabled or error. */
  readonly state = this.stateParameter<MotorState>({
    initial: 'standby',
    read: this.readState && ((s) => this.readState!(s)),
  });

  /** The axis position. Setting it moves the motor (abortable). */
  readonly position = this.quantity('position', {
    unit: (this.constructor as typeof Motor).positionUnit,
    help: 'axis position',
    read: () => this.readPosition(),
    write: (target, signal) => this.moveTo(target, signal),
    readTarget: () => this.readTargetPosition(),
  });

  /** Reads the position (in the position unit). */
  protected abstract readPosition(): Promise<number>;
  /** Moves to `target` (position unit); stops and rejects with the signal's reason when aborted. */
  protected abstract moveHook(target: number, signal: AbortSignal): Promise<void>;
  /** Stops motion now. */
  protected abstract stopMotion(): Promise<void>;
  /** Drives to the home position. */
  protected async homeHook(signal: AbortSignal): Promise<void> {
    await this.moveHook(0, signal);
  }
  /** Reads the target position; by default the position. */
  protected readTargetPosition(): Promise<number> {
    return this.readPosition();
  }
  /** Reads the state from hardware; undefined: the base keeps it in software. */
  protected readState?(signal: AbortSignal): Promise<MotorState>;
  /** Switches the motor power. */
  protected async enableHook(_enable: boolean): Promise<void> {}

  @transition({ source: ['standby', 'hard-limit'], immediate: 'moving', target: 'standby', failed: afterMove })
  protected async moveTo(target: number, signal: AbortSignal): Promise<void> {
    await this.operation(signal, (s) => this.moveHook(target, s));
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
    const step = this.position.toNumber(delta, `${this.position.fullName} (delta)`);
    const here = this.position.toNumber(await this.position.get());
    await this.position.set(this.position.quantity(here + step), options);
  }

  /** Stops the motor where it is; a running move rejects with an AbortError. */
  async stop(): Promise<void> {
    this.abortOperations('stopped');
    await this.stopMotion();
  }

  /** Drives to the home position. */
  @transition({ source: ['standby', 'hard-limit'], immediate: 'moving', target: 'standby', failed: afterMove })
  async home(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.operation(options.signal, (s) => this.homeHook(s));
  }

  /** Powers the motor on (disabled → standby). */
  @transition({ source: ['disabled'], target: 'standby' })
  async enable(): Promise<void> {
    await this.enableHook(true);
  }

  /** Powers the motor off (standby → disabled); a disabled motor refuses to move. */
  @transition({ source: ['standby', 'hard-limit'], target: 'disabled' })
  async disable(): Promise<void> {
    await this.enableHook(false);
  }

  protected override async stopHook(): Promise<void> {
    await this.stopMotion();
  }
}

/** A motor moving along a line; position in mm. */
export abstract class LinearMotor extends Motor {
  static override readonly positionUnit: string = 'mm';
}

/** A motor rotating about an axis; position in degrees. */
export abstract class RotationMotor extends Motor {
  static override readonly positionUnit: string = 'deg';
}

/** A constructor of some motor class (abstract or not), for the {@link Continuous} mixin. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type MotorClass = abstract new (...args: any[]) => Motor;

/**
 * Adds a `velocity` parameter (position unit per second): a velocity ≠ 0 moves the motor
 * continuously, 0 stops it.
 */
export function Continuous<B extends MotorClass>(Base: B) {
  abstract class ContinuousMotor extends Base {
    /** Continuous velocity; 0 stops. */
    readonly velocity = this.quantity('velocity', {
      unit: `${(this.constructor as typeof Motor).positionUnit}/s`,
      help: 'continuous velocity (0 stops)',
      read: () => this.readVelocity(),
      write: (v, signal) => {
        const state = this.state.current;
        if (state === 'disabled')
          throw new TransitionNotAllowed(
            `${this.name}.velocity cannot be set in state '${state}' (enable() the motor first)`,
            state,
          );
        return this.writeVelocity(v, signal);
      },
    });
    /** Reads the velocity (position unit per second). */
    protected abstract readVelocity(): Promise<number>;
    /** Starts moving at `velocity` (0 stops). */
    protected abstract writeVelocity(velocity: number, signal: AbortSignal): Promise<void>;

    setVelocity(velocity: Unit, options?: SetOptions): Promise<void> {
      return this.velocity.set(velocity, options);
    }

    getVelocity(): Promise<Unit> {
      return this.velocity.get();
    }
  }
  return ContinuousMotor;
}

/** A linear motor that can also move at a constant velocity (mm/s). */
export abstract class ContinuousLinearMotor extends Continuous(LinearMotor) {}

/** A rotation motor that can also move at a constant velocity (deg/s). */
export abstract class ContinuousRotationMotor extends Continuous(RotationMotor) {}
