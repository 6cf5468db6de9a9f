/**
 * Motion parts: the half of a motor that moves the axis (a simulation, a Tango device, …). The
 * family base ({@link Motor}) owns units, limits, the state machine, locking and cancellation and
 * composes one motion part, as ophyd-async composes `…Logic` objects into devices; a backend is
 * a motion part plus a class that passes it in. Positions are plain numbers in the motor's
 * position unit (mm or deg), velocities in that unit per second.
 * @example
 * ```ts
 * class StageMotion implements MotorMotion { … }
 * export class StageMotor extends LinearMotor<StageMotion> {
 *   constructor(options: StageOptions) {
 *     super(options, new StageMotion(options));
 *   }
 * }
 * ```
 * @module
 */
import type { Logger, Quantity, State } from '../../core/index.js';

/** Motor states. */
export type MotorState = 'standby' | 'moving' | 'hard-limit' | 'disabled';

/** What a motion part may use of the motor it moves (a {@link Motor} is one). */
export interface MotionContext {
  /** The motor's class name, e.g. `LinearMotor` (for `LinearMotor.create: …` messages). */
  readonly kind: string;
  /** The motor's name (it changes when a session renames the motor: read it when needed). */
  readonly name: string;
  readonly log: Logger;
  /** The position parameter: its unit, `fullName`, limits and `quantity()`. */
  readonly position: Quantity;
  /** The state parameter; parts `enter()` states the hardware does not report. */
  readonly state: State<MotorState>;
}

/** What a motion part knows of a move it was not asked to make (see {@link MotorMotion.estimateMove}). */
export interface MotionEstimate {
  /** How long the move would take (ms); undefined when the part cannot tell (then `unknown` says why). */
  durationMs?: number;
  /** Why the duration is unknown. */
  unknown?: string;
  /** The hard limit (end switch) the move would hit, as a message naming the motor. */
  hardLimit?: string;
}

/** Moves an axis to positions. The motor calls these after its own checks. */
export interface MotorMotion {
  /**
   * Called once by the motor's constructor, when its parameters exist: read and check options
   * that need the position unit here. @throws OptionError for a bad option.
   */
  bind?(motor: MotionContext): void;
  /** Connects to the hardware (called once by `create()`). */
  connect?(): Promise<void>;
  /** Releases the hardware connection. */
  disconnect?(): Promise<void>;
  /** Reads the position. */
  readPosition(): Promise<number>;
  /** Reads the target position (default: the position). */
  readTargetPosition?(): Promise<number>;
  /** Reads the state from the hardware; without it the motor keeps its state in software. */
  readState?(signal: AbortSignal): Promise<MotorState | 'error'>;
  /**
   * Moves to `target`; when `signal` aborts, stops the axis where it is and rejects with the
   * signal's reason. @throws HardLimitError at an end switch (the motor enters `hard-limit`).
   */
  moveTo(target: number, signal: AbortSignal): Promise<void>;
  /** Drives to the home position (default: `moveTo(0)`). */
  home?(signal: AbortSignal): Promise<void>;
  /** Stops the axis now. */
  stop(): Promise<void>;
  /** Switches the motor power (default: the motor only refuses moves while disabled). */
  enable?(on: boolean): Promise<void>;
  /**
   * What a move from `from` to `to` would take, without moving: the duration from the speeds and
   * accelerations as configured, and a hard limit it would hit. Without it a dry run reports the
   * motor's moves with an unknown duration.
   */
  estimateMove?(from: number, to: number): Promise<MotionEstimate>;
}

/** Also moves the axis at a constant velocity (continuous motors). */
export interface VelocityMotion extends MotorMotion {
  /** Reads the velocity of the continuous motion (0 at rest). */
  readVelocity(): Promise<number>;
  /** Starts moving at `velocity` (0 stops). Never called during a positioning move. */
  runAt(velocity: number, signal: AbortSignal): Promise<void>;
  /** Time to reach `velocity` from rest (ms; default 0), for dry runs. */
  estimateRamp?(velocity: number): Promise<number>;
}
