/**
 * A simulated shutter (`import { Shutter } from 'concert/devices/shutters/dummy'`).
 * @module
 */
import { opt, sleep, type OptionSpec, type Unit } from '../../core/index.js';
import * as base from './base.js';

/** Options of the dummy {@link Shutter}. */
export interface DummyShutterOptions {
  name?: string;
  /** How long opening or closing takes (default 0). */
  motionTime?: Unit;
}

/** A simulated shutter, open at start. */
export class Shutter extends base.Shutter {
  static override readonly options: OptionSpec = { ...base.Shutter.options, motionTime: opt.quantity('s') };
  readonly #ms: number;

  constructor(options: DummyShutterOptions = {}) {
    super(options);
    this.#ms = (options.motionTime?.toNumber('s') ?? 0) * 1000;
  }

  protected async openHook(signal: AbortSignal): Promise<void> {
    await sleep(this.#ms, signal);
  }

  protected async closeHook(signal: AbortSignal): Promise<void> {
    await sleep(this.#ms, signal);
  }
}
