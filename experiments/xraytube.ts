/**
 * Imaging experiments with an X-ray tube: the sample is exposed by switching the tube on. Dark
 * fields are taken with the tube off, flats and projections with it on, and the tube is switched
 * off when a run ends, also after a failure or `cancel()`.
 *
 * `import { SteppedTomography } from 'concert/experiments/xraytube'`.
 * @example
 * ```ts
 * const exp = await SteppedTomography.create({
 *   walker, camera, xrayTube, flatMotor, tomographyMotor,
 *   radioPosition: q('0 mm'), flatPosition: q('10 mm'), numProjections: 360,
 * });
 * await exp.run();
 * ```
 * @module
 */
import { OptionError, type OptionSpec } from '../core/index.js';
import { XRayTube } from '../devices/xraytubes/index.js';
import * as imaging from './imaging.js';

/** What the X-ray tube experiments add to the options of their bases. */
export interface XRayTubeOptions {
  /** Switched on to expose the sample, off for dark fields and at the end of a run. */
  xrayTube: XRayTube;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type RadiographyClass = abstract new (...args: any[]) => imaging.Radiography;

/** Implements the exposure hooks with an X-ray tube. @internal */
export function WithXRayTube<B extends RadiographyClass>(Base: B) {
  abstract class XRayTubeExperiment extends Base {
    static readonly options: OptionSpec = {
      ...(Base as unknown as { options: OptionSpec }).options,
      xrayTube: (v) => (v instanceof XRayTube ? undefined : 'must be an XRayTube'),
    };
    /** The X-ray source. */
    readonly xrayTube: XRayTube;

    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    constructor(...args: any[]) {
      super(...args);
      const tube = (args[0] as Partial<XRayTubeOptions> | undefined)?.xrayTube;
      if (!tube) throw new OptionError(`${this.kind}.create: option 'xrayTube' is required`);
      this.xrayTube = tube;
    }

    /** Switches the tube on (if it is not on). */
    protected async startSampleExposure(): Promise<void> {
      if ((await this.xrayTube.getState()) !== 'on') await this.xrayTube.on();
    }

    /** Switches the tube off (if it is not off). */
    protected async stopSampleExposure(): Promise<void> {
      if ((await this.xrayTube.getState()) !== 'off') await this.xrayTube.off();
    }
  }
  return XRayTubeExperiment;
}

/** Radiography with an X-ray tube: darks (off), flats and projections (on). */
export class Radiography extends WithXRayTube(imaging.Radiography) {
  constructor(options: imaging.RadiographyOptions & XRayTubeOptions) {
    super(options);
  }
}

/** Stepped tomography with an X-ray tube. */
export class SteppedTomography extends WithXRayTube(imaging.SteppedTomography) {
  constructor(options: imaging.TomographyOptions & XRayTubeOptions) {
    super(options);
  }
}

/** Continuous tomography with an X-ray tube. */
export class ContinuousTomography extends WithXRayTube(imaging.ContinuousTomography) {
  constructor(options: imaging.TomographyOptions & XRayTubeOptions) {
    super(options);
  }
}

/** Stepped spiral tomography with an X-ray tube. */
export class SteppedSpiralTomography extends WithXRayTube(imaging.SteppedSpiralTomography) {
  constructor(options: imaging.TomographyOptions & imaging.SpiralOptions & XRayTubeOptions) {
    super(options);
  }
}

/** Continuous spiral tomography with an X-ray tube. */
export class ContinuousSpiralTomography extends WithXRayTube(imaging.ContinuousSpiralTomography) {
  constructor(options: imaging.TomographyOptions & imaging.SpiralOptions & XRayTubeOptions) {
    super(options);
  }
}

/** Grating interferometry stepping with an X-ray tube. */
export class GratingInterferometryStepping extends WithXRayTube(imaging.GratingInterferometryStepping) {
  constructor(options: imaging.GratingInterferometryOptions & XRayTubeOptions) {
    super(options);
  }
}
