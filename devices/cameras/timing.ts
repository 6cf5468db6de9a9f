/**
 * What cameras without hardware timing share: pacing to a frame rate, software triggers, and
 * cropping to the region of interest.
 * @module
 * @internal
 */
import { abortError, sleep, type PixelArray } from '../../core/index.js';
import type { Roi } from './base.js';

/** Hands out frames at a frame rate (AUTO trigger) or one per `trigger()` (SOFTWARE). */
export class FrameClock {
  /** Frames per second. */
  rate: number;
  #next = 0;
  #triggers = 0;
  #waiters: Array<() => void> = [];
  #recording = false;

  constructor(
    rate: number,
    /** Names the camera in messages. */
    readonly what: () => string,
    /**
     * Frames the camera holds for a consumer that falls behind, as a camera's on-board memory or
     * its driver's buffer ring does: frames then come in a burst, each with its own exposure
     * time, and only a consumer more than `buffer` frames behind loses the oldest (a gap in the
     * exposure times). 0 (default): a late consumer gets the next frame now and the schedule
     * restarts from there; `Infinity`: the schedule is always kept.
     */
    readonly buffer = 0,
  ) {
    this.rate = rate;
  }

  /** Recording starts (the schedule and pending triggers restart) or stops (waiters give up). */
  record(start: boolean): void {
    this.#next = performance.now();
    this.#triggers = 0;
    this.#recording = start;
    if (!start) for (const wake of this.#waiters.splice(0)) wake();
  }

  /** A software trigger: one more frame may be taken. */
  trigger(): void {
    this.#triggers++;
    this.#waiters.shift()?.();
  }

  /**
   * Waits until the next frame is due: at the frame rate, or (`triggered`) for a trigger.
   * Resolves with the frame's exposure time (`performance.now()` clock).
   */
  async wait(signal: AbortSignal, triggered: boolean): Promise<number> {
    if (!triggered) return this.#pace(signal);
    await this.#awaitTrigger(signal);
    return performance.now();
  }

  async #pace(signal: AbortSignal): Promise<number> {
    const period = 1000 / this.rate;
    const now = performance.now();
    if (this.buffer === 0) {
      // A consumer that fell behind gets the next frame now (no burst to catch up on more than 5 ms).
      if (this.#next < now - Math.max(period, 5)) this.#next = now;
    } else if (this.buffer !== Infinity) {
      // More than `buffer` frames behind: the oldest were overwritten before anyone took them.
      const behind = Math.floor((now - this.#next) / period);
      if (behind > this.buffer) this.#next += (behind - this.buffer) * period;
    }
    const due = this.#next;
    this.#next = due + period;
    // Timers have millisecond granularity: closer than that, deliver now and keep the schedule, so
    // rates above 1 kHz average out right instead of being capped by setTimeout.
    if (due - now >= 1) await sleep(due - now, signal);
    return due;
  }

  async #awaitTrigger(signal: AbortSignal): Promise<void> {
    while (this.#triggers === 0) {
      signal.throwIfAborted();
      if (!this.#recording) throw abortError(`${this.what()}: recording stopped while waiting for a trigger`);
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        this.#waiters.push(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
    this.#triggers--;
  }
}

/**
 * The region of interest of a `fullWidth × fullHeight` image of `channels` samples per pixel
 * (3 for rgb24): row copies, or the image itself when the ROI is the whole image.
 */
export function cropToRoi<A extends PixelArray>(
  image: A,
  fullWidth: number,
  fullHeight: number,
  roi: Roi,
  channels = 1,
): A {
  const { x0, y0, width, height } = roi;
  if (x0 === 0 && y0 === 0 && width === fullWidth && height === fullHeight) return image;
  const out = new (image.constructor as new (n: number) => A)(width * height * channels);
  for (let r = 0; r < height; r++) {
    const from = ((y0 + r) * fullWidth + x0) * channels;
    out.set(image.subarray(from, from + width * channels) as never, r * width * channels);
  }
  return out;
}
