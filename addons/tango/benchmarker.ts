/**
 * Tango benchmarker (Python Concert's `tango_addons.Benchmarker(ex, device, endpoint)`): a
 * `concert tango benchmarker` device times each acquisition's stream (`start_timer`);
 * {@link TangoBenchmarker.duration} asks it how long one took.
 * @module
 */
import type { z } from '../../core/index.js';
import type { Acquisition } from '../../experiments/acquisition.js';
import type { Experiment } from '../../experiments/experiment.js';
import { TangoType, type DeviceProxy } from '../../tango/index.js';
import { TANGO_ADDON_OPTIONS, TangoAddon, zTangoDevice } from './addon.js';

/** The options of {@link TangoBenchmarker.create}. */
export const TANGO_BENCHMARKER_OPTIONS = TANGO_ADDON_OPTIONS.extend({
  /** The benchmarker device: `tango://host:port/concert/tango/benchmarker#dbase=no` or a DeviceProxy. */
  device: zTangoDevice,
});

/** Options of {@link TangoBenchmarker.create}. */
export type TangoBenchmarkerOptions = z.input<typeof TANGO_BENCHMARKER_OPTIONS>;

/** Lossless: the device receives and times every frame. */
export class TangoBenchmarker extends TangoAddon {
  static override readonly options = TANGO_BENCHMARKER_OPTIONS;
  readonly #deviceOption: string | DeviceProxy;

  constructor(experiment: Experiment, options: TangoBenchmarkerOptions) {
    super(experiment, options);
    this.#deviceOption = options.device;
  }

  protected deviceOption(): string | DeviceProxy {
    return this.#deviceOption;
  }

  protected async streamCommand(acquisition: Acquisition): Promise<{ name: string; arg: string }> {
    return { name: 'start_timer', arg: acquisition.name };
  }

  /** Seconds the last stream of `acquisition` (an acquisition or its name) took on the device. */
  async duration(acquisition: Acquisition | string): Promise<number> {
    const name = typeof acquisition === 'string' ? acquisition : acquisition.name;
    return Number(await this.command('get_duration', name, TangoType.DevString));
  }

  /** Seconds of every acquisition timed so far, by name. */
  async durations(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const a of this.acquisitions) {
      const d = await this.duration(a).catch(() => undefined);
      if (d !== undefined) out[a.name] = d;
    }
    return out;
  }

  /** Makes the device forget its timings, then closes as every Tango addon does. */
  override async close(): Promise<void> {
    await this.device.command('reset', undefined, TangoType.DevVoid).catch(() => undefined);
    await super.close();
  }
}

export { TangoBenchmarker as Benchmarker };
