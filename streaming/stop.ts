/**
 * Stop criteria of a streaming step that are not counted in items: a timeout with no new item,
 * a wall-clock duration and a STOP file. The first that fires wins.
 * @module
 */
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { z } from '../core/options.js';
import { startTimer, type Timer } from '../core/timers.js';
import type { CloseReason } from './item.js';

/** When a step stops taking input (combinable; the first one met wins). */
export const STOP_CRITERIA = z.strictObject({
  /** Close once the set has this many items (done and failed, counting those of an earlier run). */
  count: z.number().int().min(1).optional(),
  /** Close when no new input item came for this long (ms). */
  idleMs: z.number().min(0).optional(),
  /** Close this long after the step started (ms). */
  durationMs: z.number().min(0).optional(),
  /**
   * Close when this file exists (checked at start, on change notifications and every 500 ms).
   * Default: `STOP` in the folder of the set file, for a persisted set; `false`: none.
   */
  stopFile: z.union([z.string().min(1), z.literal(false)]).optional(),
});

/** When a step stops taking input (combinable; the first one met wins). */
export type StopCriteria = z.input<typeof STOP_CRITERIA>;

/** Interval of the STOP file check when no change is reported. */
const STOP_POLL_MS = 500;

/** Watches the timers and the STOP file of one step; calls `onStop` once. */
export class StopWatch {
  readonly #criteria: StopCriteria;
  readonly #stopFile: string | undefined;
  readonly #onStop: (reason: CloseReason, message: string) => void;
  // Timers of any length: a duration or idle time past 2³¹−1 ms must not fire at once.
  #idle: Timer | undefined;
  #duration: Timer | undefined;
  #poll: NodeJS.Timeout | undefined;
  #watcher: FSWatcher | undefined;
  #fired = false;

  constructor(
    criteria: StopCriteria,
    stopFile: string | undefined,
    onStop: (reason: CloseReason, message: string) => void,
  ) {
    this.#criteria = criteria;
    this.#stopFile = stopFile;
    this.#onStop = onStop;
  }

  /** Starts the timers and the STOP file watch (a STOP file already there stops at once). */
  start(): void {
    const { idleMs, durationMs } = this.#criteria;
    if (durationMs !== undefined)
      this.#duration = startTimer(durationMs, () => this.#fire('duration', `duration: streamed for ${durationMs} ms`));
    if (idleMs !== undefined) this.itemReceived();
    const file = this.#stopFile;
    if (file === undefined) return;
    const check = () => {
      if (existsSync(file)) this.#fire('stop-file', `stop file: ${file} appeared`);
    };
    try {
      this.#watcher = watch(dirname(file), { persistent: false }, (_event, name) => {
        if (name === null || String(name) === basename(file)) check();
      });
      this.#watcher.on('error', () => undefined);
    } catch {
      // no folder yet, or no notifications: polling alone
    }
    this.#poll = setInterval(check, STOP_POLL_MS);
    check();
  }

  /** Restarts the idle timeout. */
  itemReceived(): void {
    const { idleMs } = this.#criteria;
    if (idleMs === undefined || this.#fired) return;
    this.#idle?.cancel();
    this.#idle = startTimer(idleMs, () => this.#fire('idle', `idle: no new item for ${idleMs} ms`));
  }

  #fire(reason: CloseReason, message: string): void {
    if (this.#fired) return;
    this.#fired = true;
    this.dispose();
    this.#onStop(reason, message);
  }

  /** Stops every timer and watch. */
  dispose(): void {
    this.#idle?.cancel();
    this.#duration?.cancel();
    clearInterval(this.#poll);
    this.#watcher?.close();
    this.#watcher = undefined;
  }
}
