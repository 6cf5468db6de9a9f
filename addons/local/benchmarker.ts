/**
 * Measures how long each acquisition's frames take to arrive (lossless, no work per frame).
 * @module
 */
import type { Acquisition } from '../../experiments/acquisition.js';
import type { FrameConsumer } from '../../experiments/consumer.js';
import { Addon } from '../base.js';
import { AddonError } from '../errors.js';

/** Timing of one acquisition run. */
export interface Timing {
  frames: number;
  /** From the first to the last frame, in ms. */
  durationMs: number;
  /** Frames per second over the run. */
  fps: number;
}

/** Times acquisitions: `bench.getDuration('radios')`. */
export class Benchmarker extends Addon {
  readonly kind = 'local';
  readonly #timings = new Map<string, Timing>();

  /** Duration (ms) of the last run of `acquisition`. @throws AddonError if it never ran. */
  getDuration(acquisition: string | Acquisition): number {
    return this.getTiming(acquisition).durationMs;
  }

  /** Frames, duration and rate of the last run of `acquisition`. */
  getTiming(acquisition: string | Acquisition): Timing {
    const name = typeof acquisition === 'string' ? acquisition : acquisition.name;
    const t = this.#timings.get(name);
    if (!t)
      throw new AddonError(
        `${this.name} has not timed acquisition '${name}' (it has: ${[...this.#timings.keys()].join(', ') || 'none'})`,
      );
    return t;
  }

  protected consumerFor(acquisition: Acquisition): FrameConsumer {
    return this.localConsumer(
      acquisition,
      async (frames) => {
        let first: number | undefined;
        let last = 0;
        let count = 0;
        for await (const _ of frames) {
          last = performance.now();
          first ??= last;
          count++;
        }
        const durationMs = first === undefined ? 0 : last - first;
        this.#timings.set(acquisition.name, {
          frames: count,
          durationMs,
          fps: durationMs > 0 ? ((count - 1) * 1000) / durationMs : 0,
        });
      },
      { policy: 'lossless' },
    );
  }

  protected override counters(): Record<string, unknown> {
    return Object.fromEntries([...this.#timings].map(([k, t]) => [`${k} fps`, Number(t.fps.toFixed(1))]));
  }
}
