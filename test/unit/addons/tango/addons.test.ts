/**
 * concert/addons/tango against our `concert tango` servers: the source document's remote
 * experiment (RemoteDirectoryWalker over a Tango walker, Tango ImageWriter, Benchmarker,
 * OnlineReconstruction, LiveView), fed by a camera server process.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame } from '../../../../core/index.js';
import { RemoteCamera } from '../../../../devices/cameras/remote.js';
import { Experiment, remoteAcquisition } from '../../../../experiments/index.js';
import { spawnServer, type ServerProcess } from '../../../../addons/remote/spawn.js';
import {
  Benchmarker,
  ImageWriter,
  LiveView,
  OnlineReconstruction,
  RemoteDirectoryWalker,
  startTangoServer,
} from '../../../../addons/tango/index.js';
import type { DeviceServer } from '../../../../tango/server/index.js';
import { freePort, tcpEndpoint } from '../../../../transport/zmq/index.js';
import { readTiff } from '../../../../walkers/index.js';

const data = async () => tcpEndpoint(await freePort());

describe('concert/addons/tango against our Tango servers (camera server process)', function () {
  this.timeout(120_000);
  let root: string;
  let cameraServer: ServerProcess | undefined;
  const closers: Array<() => unknown> = [];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'concert-tango-addons-'));
  });
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
    await cameraServer?.stop('SIGKILL');
    cameraServer = undefined;
    await rm(root, { recursive: true, force: true });
  });

  async function serve(kind: string): Promise<{ server: DeviceServer; url: string }> {
    const server = await startTangoServer(kind, { port: 0, root });
    closers.push(() => server.stop());
    return { server, url: server.url(`concert/tango/${kind}`) };
  }

  async function setup(frames: number, options: { frameRate?: number } = {}) {
    cameraServer = await spawnServer('camera', { width: 32, height: 8, frameRate: options.frameRate ?? 1000 });
    const camera = await RemoteCamera.create({ name: 'camera', endpoint: cameraServer.endpoint });
    closers.push(() => camera.disconnect());
    const walkerServer = await serve('walker');
    const walker = await RemoteDirectoryWalker.create({ device: walkerServer.url, root: join(root, 'data') });
    closers.push(() => walker.close());
    const acquisitions = await Promise.all(
      (['darks', 'flats', 'radios'] as const).map((name) =>
        remoteAcquisition(name, camera, name === 'radios' ? frames : 3),
      ),
    );
    const exp = await Experiment.create(acquisitions, { walker });
    return { camera, walker, exp, walkerServer };
  }

  it('walker, ImageWriter, Benchmarker, LiveView: every frame written as TIFF in its scan and acquisition, timed, shown', async () => {
    const { camera, exp } = await setup(40);
    const writer = await ImageWriter.create(exp, { data: await data(), camera });
    closers.push(() => writer.close());
    const bench = await Benchmarker.create(exp, {
      device: (await serve('benchmarker')).url,
      data: await data(),
      camera,
    });
    closers.push(() => bench.close());
    const shown: Frame[] = [];
    const live = await LiveView.create(exp, {
      data: await data(),
      camera,
      viewer: { show: (f) => void shown.push(f) },
    });
    closers.push(() => live.close());

    for (const scan of ['scan_0000', 'scan_0001']) {
      const result = await exp.run();
      assert.equal(result.acquisitions.radios!.frames, 40);
      for (const [name, n] of [
        ['darks', 3],
        ['flats', 3],
        ['radios', 40],
      ] as const) {
        const dir = join(root, 'data', scan, name);
        const files = (await readdir(dir)).sort();
        assert.equal(files.length, n, `${scan}/${name}`);
        const [page] = await readTiff(join(dir, files.at(-1)!));
        assert.deepEqual(page!.frame.shape, [8, 32]);
      }
      const scanFiles = await readdir(join(root, 'data', scan));
      assert.ok(scanFiles.includes('experiment_start.json') && scanFiles.includes('experiment.log'), scanFiles.join());
      assert.match(await readFile(join(root, 'data', scan, 'experiment.log'), 'utf8'), /run \d+ started/);
    }
    const durations = await bench.durations();
    assert.deepEqual(Object.keys(durations).sort(), ['darks', 'flats', 'radios']);
    assert.ok(durations['radios']! > 0);
    assert.ok(live.shown > 0 && shown.length === live.shown, `live view showed ${live.shown} frames`);
  });

  it('OnlineReconstruction: darks, flats, radios reconstructed in the reco device, slices written beside the scan', async () => {
    const { camera, exp } = await setup(24);
    const writer = await ImageWriter.create(exp, { data: await data(), camera });
    closers.push(() => writer.close());
    const reco = await OnlineReconstruction.create(exp, {
      device: (await serve('reco')).url,
      data: await data(),
      camera,
    });
    closers.push(() => reco.close());
    await reco.params.region.set([2, 5, 1]);
    await exp.run();
    const slices = await reco.slices();
    assert.equal(slices.length, 3);
    assert.deepEqual(slices[0]!.shape, [32, 32]);
    assert.ok(slices[0]!.data.some((v) => v !== 0));
    const files = await readdir(join(root, 'data', 'scan_0000', 'online-slices'));
    assert.equal(files.length, 3);
    const again = await reco.rereconstruct();
    assert.equal(again.length, 3, 'the cached rows, reconstructed again');
  });

  it('a bad option, a missing remote camera or an unreachable device fail create() with a clear error', async () => {
    const { exp, camera } = await setup(3);
    await assert.rejects(
      Benchmarker.create(exp, { device: 'x', data: 'nope', camera }),
      /TangoBenchmarker: data must be the tcp:\/\/host:port or ipc:\/\/path endpoint where the camera sends the frames, got "nope"/,
    );
    await assert.rejects(
      Benchmarker.create(exp, {
        device: `tango://127.0.0.1:${await freePort()}/a/b/c#dbase=no`,
        data: await data(),
        camera,
      }),
      /Benchmarker: cannot reach the Tango device/,
    );
    await assert.rejects(
      Benchmarker.create(exp, { device: 'tango://127.0.0.1:1/a/b/c#dbase=no', data: await data() }),
      /needs a remote camera/,
    );
    const plain = await Experiment.create([await remoteAcquisition('radios', camera, 1)]);
    assert.throws(
      () => new ImageWriter(plain, { data: 'tcp://127.0.0.1:1' }),
      /walker must be a Tango RemoteDirectoryWalker.*got none/,
    );
  });

  it('the writer device stopping mid-run fails the run, naming the device', async () => {
    const { camera, exp, walkerServer } = await setup(200_000, { frameRate: 500 });
    const writer = await ImageWriter.create(exp, { data: await data(), camera });
    closers.push(() => writer.close());
    const run = exp.run();
    run.catch(() => undefined);
    while (!(await readdir(join(root, 'data', 'scan_0000')).catch(() => [] as string[])).includes('radios'))
      await new Promise((r) => setTimeout(r, 50));
    await walkerServer.server.stop();
    await assert.rejects(run, /concert\/tango\/walker/);
  });
});
