/**
 * demo: a complete simulated imaging setup, ready to play with offline.
 *
 * Devices (all dummies): `camera`, `shutter`, `xrayTube`, linear motors `flatMotor`,
 * `sampleX`, `sampleY`, `verticalMotor`, `detectorMotor`, rotation motor `tomoMotor` and the
 * continuously rotating `continuousTomoMotor` (10 devices).
 *
 * Try:
 *   await flatMotor.setPosition(q('2 mm'))
 *   await flatMotor.getPosition()
 *   await tomoMotor.move(q('90 deg'))      // Ctrl-C stops it where it is
 *   await dstate()                         // every device's state and values
 *   ddoc()                                 // devices, parameters, units, help
 *   pdoc()                                 // the functions of this session
 *
 * `concert cp demo mine` makes an editable copy.
 */
import { q } from 'concert';
import { Camera } from 'concert/devices/cameras/dummy';
import { ContinuousRotationMotor, LinearMotor, RotationMotor } from 'concert/devices/motors/dummy';
import { Shutter } from 'concert/devices/shutters/dummy';
import { XRayTube } from 'concert/devices/xraytubes/dummy';

export { q };

export const camera = await Camera.create();
export const shutter = await Shutter.create();
export const xrayTube = await XRayTube.create();
/** Moves the flat-field position in and out of the beam. */
export const flatMotor = await LinearMotor.create({ motionVelocity: q('10 mm/s') });
export const sampleX = await LinearMotor.create({ motionVelocity: q('10 mm/s') });
export const sampleY = await LinearMotor.create({ motionVelocity: q('10 mm/s') });
export const verticalMotor = await LinearMotor.create({ motionVelocity: q('5 mm/s'), hardLower: q('-50 mm'), hardUpper: q('50 mm') });
export const detectorMotor = await LinearMotor.create({ motionVelocity: q('20 mm/s') });
export const tomoMotor = await RotationMotor.create({ motionVelocity: q('30 deg/s') });
export const continuousTomoMotor = await ContinuousRotationMotor.create();

// ---------------------------------------------------------------------------------------------
// EXPERIMENT (to be added once experiments/ exists): a walker in a temporary directory and a
// ready tomography experiment with a writer attached, e.g.
//   export const walker = await DirectoryWalker.create({ root: mkdtempSync(…) });
//   export const experiment = await Tomography.create({ camera, shutter, flatMotor, tomoMotor, walker, … });
//   export const writer = await ImageWriter.create(experiment.acquisitions, walker);
// ---------------------------------------------------------------------------------------------

/** Moves the flat motor out of the beam and the sample to the rotation axis. */
export async function alignSample(): Promise<void> {
  await Promise.all([flatMotor.setPosition(q('0 mm')), sampleX.setPosition(q('0 mm')), sampleY.setPosition(q('0 mm'))]);
}

/** Opens the shutter if it is closed. */
export async function beamOn(): Promise<void> {
  if ((await shutter.getState()) !== 'open') await shutter.open();
}
