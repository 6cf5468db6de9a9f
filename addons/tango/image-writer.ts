/**
 * Tango image writer (Python Concert's `tango_addons.ImageWriter(ex, endpoint)`): the experiment's
 * walker is a Tango walker device (`RemoteDirectoryWalker` from `concert/walkers/tango`); each
 * acquisition's frames go from the camera to that device, which writes them as
 * `<scan>/<acquisition>/frame_000000.tif`, … with `write_sequence`.
 * @module
 */
import type { Acquisition } from '../../experiments/acquisition.js';
import type { Experiment } from '../../experiments/experiment.js';
import type { DeviceProxy } from '../../tango/index.js';
import { TangoDirectoryWalker } from '../../walkers/tango.js';
import { AddonError } from '../errors.js';
import { TANGO_ADDON_OPTIONS, TangoAddon, type TangoAddonOptions } from './addon.js';

/** Lossless: the camera waits when the device is behind; every frame is counted at the end (our servers). */
export class TangoImageWriter extends TangoAddon {
  static override readonly options = TANGO_ADDON_OPTIONS;
  readonly #walker: TangoDirectoryWalker;

  constructor(experiment: Experiment, options: TangoAddonOptions) {
    super(experiment, options);
    const walker = experiment.walker;
    if (!(walker instanceof TangoDirectoryWalker))
      throw new AddonError(
        `${this.name}: the experiment's walker must be a Tango RemoteDirectoryWalker (concert/walkers/tango), ` +
          `got ${walker ? walker.constructor.name : 'none'}`,
      );
    this.#walker = walker;
  }

  protected deviceOption(): DeviceProxy {
    return this.#walker.device;
  }

  protected async streamCommand(acquisition: Acquisition): Promise<{ name: string; arg: string }> {
    await this.#walker.sync();
    return { name: 'write_sequence', arg: acquisition.name };
  }
}

export { TangoImageWriter as ImageWriter };
