/**
 * A simulated axis for dummy motors: positions move with time at a given speed, stop where they
 * are when aborted, and clamp at hard limits.
 * @module
 * @internal
 */
import { HardLimitError, startTimer, sleep, type Timer } from '../../core/index.js';

interface Segment {
  from: number;
  /** Units per millisecond, signed. */
  rate: number;
  t0: number;
  /** Where the motion ends (a target or a hard limit). */
  end: number;
}

/** Position of a simulated axis over time. */
export class SimulatedAxis {
  #rest: number;
  #segment: Segment | undefined;
  #stopTimer: Timer | undefined;
  /** The segment of the positioning move in progress, if any. */
  #move: Segment | undefined;

  constructor(
    position: number,
    /** Speed of positioning moves, units per second. */
    public speed: number,
    public hardLower = -Infinity,
    public hardUpper = Infinity,
    readonly describe: (n: number) => string = String,
  ) {
    this.#rest = position;
  }

  /** The position now. */
  position(now = performance.now()): number {
    const s = this.#segment;
    if (!s) return this.#rest;
    const p = s.from + s.rate * (now - s.t0);
    return s.rate >= 0 ? Math.min(p, s.end) : Math.max(p, s.end);
  }

  /** True while a motion is in progress. */
  get moving(): boolean {
    const s = this.#segment;
    return s !== undefined && this.position() !== s.end;
  }

  /** True while a positioning move (`moveTo`), not a continuous run, is in progress. */
  get positioning(): boolean {
    return this.#segment !== undefined && this.#segment === this.#move;
  }

  /** Stops the axis where it is now. */
  stop(): void {
    this.#rest = this.position();
    this.#segment = undefined;
    this.#stopTimer?.cancel();
  }

  /**
   * Moves to `target` at `speed`, taking the time the distance needs. Aborting stops the axis
   * where it is. Crossing a hard limit clamps there and throws `HardLimitError`.
   */
  async moveTo(target: number, signal: AbortSignal, what: string): Promise<void> {
    this.stop();
    const end = Math.min(Math.max(target, this.hardLower), this.hardUpper);
    const from = this.#rest;
    const duration = this.speed > 0 ? (Math.abs(end - from) / this.speed) * 1000 : 0;
    const segment = { from, rate: duration > 0 ? (end - from) / duration : 0, t0: performance.now(), end };
    this.#segment = segment;
    this.#move = segment;
    try {
      await sleep(duration, signal);
      // Only if nothing replaced this motion meanwhile (a stop() and a new move before we woke up).
      if (this.#segment === segment) {
        this.#rest = end;
        this.#segment = undefined;
      }
    } catch (error) {
      if (this.#segment === segment) this.stop();
      throw error;
    } finally {
      if (this.#move === segment) this.#move = undefined;
    }
    if (end !== target) {
      throw new HardLimitError(
        `${what}: hit the hard limit at ${this.describe(end)} while moving to ${this.describe(target)}`,
      );
    }
  }

  /**
   * Moves continuously at `velocity` units/s (0 stops) until a hard limit; `onLimit` is called
   * when the axis reaches one.
   */
  run(velocity: number, onLimit: () => void): void {
    this.stop();
    if (velocity === 0) return;
    const end = velocity > 0 ? this.hardUpper : this.hardLower;
    const from = this.#rest;
    this.#segment = { from, rate: velocity / 1000, t0: performance.now(), end };
    if (Number.isFinite(end)) {
      this.#stopTimer = startTimer((Math.abs(end - from) / Math.abs(velocity)) * 1000, () => {
        this.#segment = undefined;
        this.#rest = end;
        onLimit();
      }).unref();
    }
  }

  /** The velocity of the current motion, units/s (0 at rest). */
  get velocity(): number {
    return this.moving ? this.#segment!.rate * 1000 : 0;
  }
}
