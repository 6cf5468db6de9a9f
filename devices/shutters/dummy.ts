/**
 * A simulated shutter (`import { Shutter } from 'concert/devices/shutters/dummy'`).
 * @module
 */
import type { z } from '../../core/index.js';
import { DEVICE_OPTIONS, sleep, zq } from '../../core/index.js';
import * as base from './base.js';

/** The options of the dummy {@link DummyShutter}. */
export const DUMMY_SHUTTER_OPTIONS = DEVICE_OPTIONS.extend({
  /** How long opening or closing takes (default 0). */
  motionTime: zq('s', { min: '0 s' }).optional(),
});

/** Options of the dummy {@link DummyShutter}. */
export type DummyShutterOptions = z.input<typeof DUMMY_SHUTTER_OPTIONS>;

/** A simulated shutter, open at start. */
export class DummyShutter extends base.Shutter {
  static override readonly options = DUMMY_SHUTTER_OPTIONS;
  readonly #ms: number;

  constructor(options: DummyShutterOptions = {}) {
    super(options);
    this.#ms = (options.motionTime?.toNumber('s') ?? 0) * 1000;
  }

  /** The `motionTime` option. */
  override async estimateMotion(): Promise<number> {
    return this.#ms;
  }

  protected async openHook(signal: AbortSignal): Promise<void> {
    await sleep(this.#ms, signal);
  }

  protected async closeHook(signal: AbortSignal): Promise<void> {
    await sleep(this.#ms, signal);
  }
}

/** The family names users import: `import { Shutter } from 'concert/devices/shutters/dummy'`. */
export { DummyShutter as Shutter };
