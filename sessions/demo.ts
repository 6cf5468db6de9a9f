/**
 * demo: a complete simulated imaging setup, ready to play with offline.
 *
 * Devices (all dummies): `camera` (phantom mode: it sees the Shepp-Logan phantom at
 * `continuousTomoMotor`'s angle), `shutter`, `xrayTube`, linear motors `flatMotor`, `sampleX`,
 * `sampleY`, `verticalMotor`, `detectorMotor`, rotation motor `tomoMotor` and the continuously
 * rotating `continuousTomoMotor` (10 devices).
 *
 * A ready continuous tomography `experiment` (10 darks, 10 flats, 200 projections) writes into
 * a temporary directory (`walker.root`) through `writer`, and `reco` reconstructs the middle
 * row while the projections arrive.
 *
 * Try:
 *   await flatMotor.setPosition(q('2 mm'))
 *   await flatMotor.getPosition()
 *   await tomoMotor.move(q('90 deg'))      // Ctrl-C stops it where it is
 *   await experiment.run()                 // a progress bar; Ctrl-C cancels it cleanly
 *   reco.slices[0]                         // the reconstructed slice (float32)
 *   await reco.findAxis({ centers: [q('120 px'), q('136 px'), q('1 px')] })
 *   writer.summary()
 *   await webView()                        // camera frames and slices in the browser (prints the URL)
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
import { synchrotron } from 'concert/experiments';
import { ImageWriter, LiveView, OnlineReconstruction, WebViewer } from 'concert/addons/local';
import { DirectoryWalker } from 'concert/walkers';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { q };

export const shutter = await Shutter.create();
export const xrayTube = await XRayTube.create();
/** Moves the flat-field position in and out of the beam. */
export const flatMotor = await LinearMotor.create({ motionVelocity: q('10 mm/s') });
export const sampleX = await LinearMotor.create({ motionVelocity: q('10 mm/s') });
export const sampleY = await LinearMotor.create({ motionVelocity: q('10 mm/s') });
export const verticalMotor = await LinearMotor.create({
  motionVelocity: q('5 mm/s'),
  hardLower: q('-50 mm'),
  hardUpper: q('50 mm'),
});
export const detectorMotor = await LinearMotor.create({ motionVelocity: q('20 mm/s') });
export const tomoMotor = await RotationMotor.create({ motionVelocity: q('30 deg/s') });
export const continuousTomoMotor = await ContinuousRotationMotor.create();
/** A 256 × 16 px camera at 100 Hz that sees the phantom at `continuousTomoMotor`'s angle. */
export const camera = await Camera.create({
  width: 256,
  height: 16,
  frameRate: q('100 Hz'),
  phantom: { motor: continuousTomoMotor, shutter, flatMotor, flatPosition: q('10 mm') },
});

/** Where the data goes: a new temporary directory per session. */
export const walker = await DirectoryWalker.create({ root: mkdtempSync(join(tmpdir(), 'concert-demo-')) });
/** Darks (shutter closed), flats (flat motor at 10 mm), 200 projections over 180° while rotating. */
export const experiment = await synchrotron.ContinuousTomography.create({
  camera,
  shutter,
  flatMotor,
  tomographyMotor: continuousTomoMotor,
  radioPosition: q('0 mm'),
  flatPosition: q('10 mm'),
  numDarks: 10,
  numFlats: 10,
  numProjections: 200,
  walker,
});
/** Writes every frame as TIFF into `walker.root`/scan_XXXX. */
export const writer = await ImageWriter.create(experiment);
/** Reconstructs the middle detector row while the projections arrive. */
export const reco = await OnlineReconstruction.create(experiment);
await reco.setAbsorptivity(true);

let web: WebViewer | undefined;

/**
 * Opens the web live view (127.0.0.1, prints its URL): the camera frames of every acquisition,
 * the reconstructed slices, and the experiment's state and progress. Latest-wins: it never slows
 * the acquisition. Calling it again returns the same viewer.
 */
export async function webView(port = 0): Promise<WebViewer> {
  if (web) return web;
  web = await WebViewer.create({ port, title: 'Concert demo' });
  await LiveView.create(experiment, { viewer: web });
  web.follow(experiment);
  reco.viewer = web;
  console.log(`live view: ${web.url}`);
  return web;
}

/** Moves the flat motor out of the beam and the sample to the rotation axis. */
export async function alignSample(): Promise<void> {
  await Promise.all([flatMotor.setPosition(q('0 mm')), sampleX.setPosition(q('0 mm')), sampleY.setPosition(q('0 mm'))]);
}

/** Opens the shutter if it is closed. */
export async function beamOn(): Promise<void> {
  if ((await shutter.getState()) !== 'open') await shutter.open();
}
