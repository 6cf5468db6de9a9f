/**
 * Imaging experiments at a synchrotron: the sample is exposed by opening a shutter. Dark fields
 * are taken with the shutter closed, flats and projections with it open, and the shutter is closed
 * when a run ends, also after a failure or `cancel()`. Each is the imaging experiment of the same
 * name with `exposure: shutterExposure(shutter)`.
 *
 * `import { synchrotron } from 'concert/experiments'`.
 * @example
 * ```ts
 * const exp = await synchrotron.ContinuousTomography.create({
 *   walker, camera, shutter, flatMotor, tomographyMotor,
 *   radioPosition: q('0 mm'), flatPosition: q('10 mm'), numProjections: 1500,
 * });
 * await exp.run();
 * ```
 * @module
 */
import { zinstance } from '../core/index.js';
import { Shutter } from '../devices/shutters/index.js';
import * as imaging from './imaging.js';
import { deviceExposed } from './imaging/with-device.js';

const withShutter = deviceExposed('synchrotron', 'shutter', zinstance(Shutter), imaging.shutterExposure);

/** Radiography with a shutter: darks (closed), flats and projections (open). */
export const Radiography = withShutter(imaging.Radiography);
/** Stepped tomography with a shutter. */
export const SteppedTomography = withShutter(imaging.SteppedTomography);
/** Continuous tomography with a shutter. */
export const ContinuousTomography = withShutter(imaging.ContinuousTomography);
/** Stepped spiral tomography with a shutter. */
export const SteppedSpiralTomography = withShutter(imaging.SteppedSpiralTomography);
/** Continuous spiral tomography with a shutter. */
export const ContinuousSpiralTomography = withShutter(imaging.ContinuousSpiralTomography);
/** Grating interferometry stepping with a shutter. */
export const GratingInterferometryStepping = withShutter(imaging.GratingInterferometryStepping);
