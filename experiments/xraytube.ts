/**
 * Imaging experiments with an X-ray tube: the sample is exposed by switching the tube on. Dark
 * fields are taken with the tube off, flats and projections with it on, and the tube is switched
 * off when a run ends, also after a failure or `cancel()`. Each is the imaging experiment of the
 * same name with `exposure: tubeExposure(xrayTube)`.
 *
 * `import { xraytube } from 'concert/experiments'`.
 * @example
 * ```ts
 * const exp = await xraytube.SteppedTomography.create({
 *   walker, camera, xrayTube, flatMotor, tomographyMotor,
 *   radioPosition: q('0 mm'), flatPosition: q('10 mm'), numProjections: 360,
 * });
 * ```
 * @module
 */
import { zinstance } from '../core/index.js';
import { XRayTube } from '../devices/xraytubes/index.js';
import * as imaging from './imaging.js';
import { deviceExposed } from './imaging/with-device.js';

const withTube = deviceExposed('xraytube', 'xrayTube', zinstance(XRayTube), imaging.tubeExposure);

/** Radiography with an X-ray tube: darks (off), flats and projections (on). */
export const Radiography = withTube(imaging.Radiography);
/** Stepped tomography with an X-ray tube. */
export const SteppedTomography = withTube(imaging.SteppedTomography);
/** Continuous tomography with an X-ray tube. */
export const ContinuousTomography = withTube(imaging.ContinuousTomography);
/** Stepped spiral tomography with an X-ray tube. */
export const SteppedSpiralTomography = withTube(imaging.SteppedSpiralTomography);
/** Continuous spiral tomography with an X-ray tube. */
export const ContinuousSpiralTomography = withTube(imaging.ContinuousSpiralTomography);
/** Grating interferometry stepping with an X-ray tube. */
export const GratingInterferometryStepping = withTube(imaging.GratingInterferometryStepping);
