/**
 * remote-demo: the remote data path end to end on one machine (Concert's "remote dummy file
 * experiment"). The session starts four servers as child processes on free loopback ports —
 * a camera server (a dummy camera), a writer, a live view and an online reconstruction — and
 * only orchestrates them: frames go straight from the camera server to the others.
 *
 * Globals: `camera` (a RemoteCamera), `shutter`, `flatMotor`, `tomoMotor` (local dummies),
 * `walker` (RemoteDirectoryWalker: it lives in the writer server), `experiment` (continuous
 * tomography: 10 darks, 10 flats, 100 projections), the remote addons `writer`, `live`, `reco`,
 * and `servers` (the child processes; `stopServers()` stops them, as does leaving the session).
 *
 * Try:
 *   await experiment.run()                  // data written under `root` by the writer server
 *   (await reco.slices())[0].shape          // the slice, fetched from the reco server
 *   await writer.server.status()            // counters of the writer server
 *   await experiment.run()                  // then Ctrl-C: cancels the camera and every server's stream
 *
 * Started on a shared machine, the servers take a few seconds to come up.
 */
import { q } from 'concert';
import { ImageWriter, LiveView, OnlineReconstruction, spawnServer } from 'concert/addons/remote';
import { Camera } from 'concert/devices/cameras/remote';
import { ContinuousRotationMotor, LinearMotor } from 'concert/devices/motors/dummy';
import { Shutter } from 'concert/devices/shutters/dummy';
import { synchrotron } from 'concert/experiments';
import { freePort, tcpEndpoint } from 'concert/transport/zmq';
import { RemoteDirectoryWalker } from 'concert/walkers';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { q };

/** Where the writer and reco servers write. */
export const root = mkdtempSync(join(tmpdir(), 'concert-remote-demo-'));

const [cameraServer, writerServer, liveServer, recoServer] = await Promise.all([
  spawnServer('camera', { width: 128, height: 16, frameRate: 200, loglevel: 'warn' }),
  spawnServer('writer', { root, loglevel: 'warn' }),
  spawnServer('live', { loglevel: 'warn' }),
  spawnServer('reco', { root, loglevel: 'warn' }),
]);
export const servers = { camera: cameraServer, writer: writerServer, live: liveServer, reco: recoServer };

/** Stops the server processes (also done when the session ends). */
export async function stopServers(): Promise<void> {
  await Promise.all(Object.values(servers).map((s) => s.stop()));
}
process.once('exit', () => {
  for (const s of Object.values(servers)) s.child.kill('SIGTERM');
});

export const camera = await Camera.create({ endpoint: cameraServer.endpoint });
export const shutter = await Shutter.create();
export const flatMotor = await LinearMotor.create({ motionVelocity: q('20 mm/s') });
export const tomoMotor = await ContinuousRotationMotor.create();
export const walker = await RemoteDirectoryWalker.create({ server: writerServer.endpoint });

export const experiment = await synchrotron.ContinuousTomography.create({
  camera,
  shutter,
  flatMotor,
  tomographyMotor: tomoMotor,
  radioPosition: q('0 mm'),
  flatPosition: q('10 mm'),
  numDarks: 10,
  numFlats: 10,
  numProjections: 100,
  walker,
});

/** Lossless: the camera waits when the writer is behind. */
export const writer = await ImageWriter.create(experiment, {
  server: writerServer.endpoint,
  data: tcpEndpoint(await freePort()),
  camera,
});
/** Latest-wins: never slows the camera. */
export const live = await LiveView.create(experiment, {
  server: liveServer.endpoint,
  data: tcpEndpoint(await freePort()),
  camera,
});
/** Reconstructs the middle row in the reco server. */
export const reco = await OnlineReconstruction.create(experiment, {
  server: recoServer.endpoint,
  data: tcpEndpoint(await freePort()),
  camera,
});
