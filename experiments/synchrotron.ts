/**
 * Imaging experiments at a synchrotron: the sample is exposed by opening a shutter. Dark fields
 * are taken with the shutter closed, flats and projections with it open, and the shutter is closed
 * when a run ends, also after a failure or `cancel()`.
 *
 * `import { ContinuousTomography } from 'concert/experiments/synchrotron'`.
 * @example
 * ```ts
 * const exp = await ContinuousTomography.create({
 *   walker, camera, shutter, flatMotor, tomographyMotor,
 *   radioPosition: q('0 mm'), flatPosition: q('10 mm'), numProjections: 1500,
 * });
 * await exp.run();
 * ```
 * @module
 */
import { OptionError, type OptionSpec } from '../core/index.js';
import { Shutter } from '../devices/shutters/index.js';
import * as imaging from './imaging.js';

/** What the synchrotron experiments add to the options of their bases. */
export interface ShutterOptions {
  /** Opened to expose the sample, closed for dark fields and at the end of a run. */
  shutter: Shutter;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type RadiographyClass = abstract new (...args: any[]) => imaging.Radiography;

/** Implements the exposure hooks with a shutter. @internal */
export function WithShutter<B extends RadiographyClass>(Base: B) {
  abstract class ShutterExperiment extends Base {
    static readonly options: OptionSpec = {
      ...(Base as unknown as { options: OptionSpec }).options,
      shutter: (v) => (v instanceof Shutter ? undefined : 'must be a Shutter'),
    };
    /** The beam shutter. */
    readonly shutter: Shutter;

    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    constructor(...args: any[]) {
      super(...args);
      const shutter = (args[0] as Partial<ShutterOptions> | undefined)?.shutter;
      if (!shutter) throw new OptionError(`${this.kind}.create: option 'shutter' is required`);
      this.shutter = shutter;
    }

    /** Opens the shutter (if it is not open). */
    protected async startSampleExposure(signal?: AbortSignal): Promise<void> {
      if ((await this.shutter.getState()) !== 'open') await this.shutter.open({ signal });
    }

    /** Closes the shutter (if it is not closed). */
    protected async stopSampleExposure(signal?: AbortSignal): Promise<void> {
      if ((await this.shutter.getState()) !== 'closed') await this.shutter.close({ signal });
    }
  }
  return ShutterExperiment;
}

/** Radiography with a shutter: darks (closed), flats and projections (open). */
export class Radiography extends WithShutter(imaging.Radiography) {
  constructor(options: imaging.RadiographyOptions & ShutterOptions) {
    super(options);
  }
}

/** Stepped tomography with a shutter. */
export class SteppedTomography extends WithShutter(imaging.SteppedTomography) {
  constructor(options: imaging.TomographyOptions & ShutterOptions) {
    super(options);
  }
}

/** Continuous tomography with a shutter. */
export class ContinuousTomography extends WithShutter(imaging.ContinuousTomography) {
  constructor(options: imaging.TomographyOptions & ShutterOptions) {
    super(options);
  }
}

/** Stepped spiral tomography with a shutter. */
export class SteppedSpiralTomography extends WithShutter(imaging.SteppedSpiralTomography) {
  constructor(options: imaging.TomographyOptions & imaging.SpiralOptions & ShutterOptions) {
    super(options);
  }
}

/** Continuous spiral tomography with a shutter. */
export class ContinuousSpiralTomography extends WithShutter(imaging.ContinuousSpiralTomography) {
  constructor(options: imaging.TomographyOptions & imaging.SpiralOptions & ShutterOptions) {
    super(options);
  }
}

/** Grating interferometry stepping with a shutter. */
export class GratingInterferometryStepping extends WithShutter(imaging.GratingInterferometryStepping) {
  constructor(options: imaging.GratingInterferometryOptions & ShutterOptions) {
    super(options);
  }
}
