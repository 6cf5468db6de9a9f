import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { q, sleep, errorMessage } from '../../../../core/index.js';
import { RemoteCamera } from '../../../../devices/cameras/remote.js';
import { Experiment, remoteAcquisition, synchrotron } from '../../../../experiments/index.js';
import { DummyShutter } from '../../../../devices/shutters/dummy.js';
import { DummyContinuousRotationMotor, DummyLinearMotor } from '../../../../devices/motors/dummy.js';
import {
  Benchmarker,
  ImageWriter,
  LiveView,
  OnlineReconstruction,
  ServerClient,
} from '../../../../addons/remote/index.js';
import { freePort, tcpEndpoint, curveClientOptions, ensureKeyPairs } from '../../../../transport/zmq/index.js';
import { RemoteDirectoryWalker, readTiff } from '../../../../walkers/index.js';
import { spawnServer, type ServerProcess } from '../../../../addons/remote/spawn.js';

async function dataEndpoint(): Promise<string> {
  return tcpEndpoint(await freePort());
}

describe('remote data path (real processes over tcp loopback)', function () {
  this.timeout(60_000);
  let root: string;
  const servers: ServerProcess[] = [];
  const closers: Array<() => unknown> = [];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'concert-remote-'));
  });
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
    await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
    await rm(root, { recursive: true, force: true });
  });

  async function start(kind: string, options: Record<string, unknown> = {}): Promise<ServerProcess> {
    const s = await spawnServer(kind, options);
    servers.push(s);
    return s;
  }

  async function setup(options: { frames?: number; frameRate?: number; live?: boolean; curveKeys?: string } = {}) {
    const curveKeys = options.curveKeys;
    const [cameraServer, writerServer] = await Promise.all([
      start('camera', { width: 64, height: 48, frameRate: options.frameRate ?? 500, curveKeys }),
      start('writer', { root, curveKeys }),
    ]);
    const curve = curveKeys ? await curveClientOptions(curveKeys) : undefined;
    const camera = await RemoteCamera.create({ name: 'camera', endpoint: cameraServer.endpoint, curve });
    closers.push(() => camera.disconnect());
    const walker = await RemoteDirectoryWalker.create({ server: writerServer.endpoint, curve });
    closers.push(() => walker.close());
    const radios = await remoteAcquisition('radios', camera, options.frames ?? 30);
    const exp = await Experiment.create([radios], { walker });
    const writer = await ImageWriter.create(exp, {
      server: writerServer.endpoint,
      data: await dataEndpoint(),
      camera,
      curve,
    });
    closers.push(() => writer.close());
    let live: LiveView | undefined;
    let liveServer: ServerProcess | undefined;
    if (options.live) {
      liveServer = await start('live', { curveKeys });
      live = await LiveView.create(exp, { server: liveServer.endpoint, data: await dataEndpoint(), camera, curve });
      closers.push(() => live!.close());
    }
    return { camera, cameraServer, writerServer, walker, exp, writer, live, liveServer };
  }

  it('remote camera → writer server (files verified frame by frame) + live server, in one experiment', async () => {
    const { exp, liveServer } = await setup({ frames: 30, live: true });
    const result = await exp.run();
    assert.equal(result.acquisitions.radios!.frames, 30);
    const dir = join(root, 'scan_0000', 'radios');
    const files = (await readdir(dir)).sort();
    assert.equal(files.length, 30);
    for (const [i, f] of files.entries()) {
      const [page] = await readTiff(join(dir, f));
      assert.equal(page!.frame.dtype, 'uint16');
      assert.deepEqual(page!.frame.shape, [48, 64]);
      assert.equal(page!.frame.metadata.frameNumber, i, `file ${f} holds frame ${i}`);
    }
    const scan = await readdir(join(root, 'scan_0000'));
    assert.ok(
      scan.includes('experiment_start.json') && scan.includes('experiment.log'),
      'the walker in the server wrote the metadata',
    );
    const live = await (await ServerClient.create(liveServer!.endpoint)).status();
    assert.ok((live.extra as { shown: number }).shown > 0, 'the live server showed frames');
    assert.ok(live.stream.frames <= 30);
  });

  it('a second stream is refused while one runs, with a clear error', async () => {
    const { writerServer } = await setup();
    const client = await ServerClient.create(writerServer.endpoint);
    closers.push(() => client.close());
    await client.startStream('first');
    await assert.rejects(
      client.startStream('second'),
      /stream 'first' is still running; a server takes one stream at a time/,
    );
    await client.request('stream.cancel');
  });

  it('killing the writer server mid-stream fails the run within the timeout, naming the server', async () => {
    const { exp, writerServer } = await setup({ frames: 100_000, frameRate: 200 });
    const run = exp.run();
    await sleep(500);
    writerServer.child.kill('SIGKILL');
    const t = performance.now();
    await assert.rejects(run, (e: unknown) => {
      assert.match(String(errorMessage(e)), new RegExp(writerServer.endpoint.replace(/[.*]/g, '\\$&')));
      return true;
    });
    assert.ok(performance.now() - t < 8000, `failed within the timeout (${(performance.now() - t).toFixed(0)} ms)`);
  });

  it('cancel mid-stream stops the remote camera, drops the stream on the server, and the next run works', async () => {
    const { exp, camera } = await setup({ frames: 100_000, frameRate: 200 });
    const run = exp.run();
    await sleep(400);
    await run.cancel();
    assert.equal(await exp.state.get(), 'cancelled');
    assert.equal(await camera.getState(), 'standby');
    exp.getAcquisition('radios');
    exp.remove('radios');
    exp.add(await remoteAcquisition('radios', camera, 10));
    const again = await exp.run().catch((e) => {
      throw new Error(
        `${e.message}\n--- writer server:\n${servers[1]!.output()}\n--- camera server:\n${servers[0]!.output()}`,
      );
    });
    assert.equal(again.acquisitions.radios!.frames, 10);
    assert.equal((await readdir(join(root, 'scan_0001', 'radios'))).length, 10);
  });

  it('restarting a server between runs just works', async () => {
    const { exp, writerServer } = await setup({ frames: 5 });
    await exp.run();
    const port = Number(writerServer.endpoint.split(':').pop());
    await writerServer.stop();
    const restarted = await start('writer', { root, port });
    assert.equal(restarted.endpoint, writerServer.endpoint);
    const again = await exp.run();
    assert.equal(again.acquisitions.radios!.frames, 5);
    assert.equal((await readdir(join(root, 'scan_0001', 'radios'))).length, 5);
    assert.ok((await readdir(join(root, 'scan_0001'))).includes('experiment_finish.json'));
  });

  it('a remote benchmarker times the stream', async () => {
    const { exp, camera } = await setup({ frames: 20 });
    const benchServer = await start('benchmarker');
    const bench = await Benchmarker.create(exp, { server: benchServer.endpoint, data: await dataEndpoint(), camera });
    closers.push(() => bench.close());
    await exp.run();
    const timings = await bench.timings();
    assert.equal(timings.at(-1)!.frames, 20);
  });

  it('remote online reconstruction: darks, flats and radios stream to a reco server that writes slices', async () => {
    const { exp, camera, cameraServer } = await setup({ frames: 24 });
    exp.add(await remoteAcquisition('darks', camera, 3));
    exp.add(await remoteAcquisition('flats', camera, 3));
    exp.swap('radios', 'darks');
    exp.swap('radios', 'flats');
    assert.deepEqual(
      exp.acquisitions.map((a) => a.name),
      ['darks', 'flats', 'radios'],
    );
    const recoServer = await start('reco', { root });
    const reco = await OnlineReconstruction.create(exp, {
      server: recoServer.endpoint,
      data: await dataEndpoint(),
      camera,
    });
    closers.push(() => reco.close());
    await reco.setRegion([20, 22, 1]);
    await exp.run();
    const slices = await reco.slices();
    assert.equal(slices.length, 2);
    assert.deepEqual(slices[0]!.shape, [64, 64]);
    assert.ok(slices[0]!.data.some((v) => v !== 0));
    assert.deepEqual((await readdir(join(root, 'scan_0000', 'online-slices'))).sort(), [
      'slice_0000.tif',
      'slice_0001.tif',
    ]);
    const status = await reco.server.status();
    assert.equal((status.extra as { projections: number }).projections, 24);
    void cameraServer;
  });

  it('a tomography experiment runs with a remote camera and remote addons (writer, reco)', async () => {
    const [cameraServer, writerServer, recoServer] = await Promise.all([
      start('camera', { width: 64, height: 8, frameRate: 400 }),
      start('writer', { root }),
      start('reco', { root }),
    ]);
    const camera = await RemoteCamera.create({ name: 'camera', endpoint: cameraServer.endpoint });
    closers.push(() => camera.disconnect());
    const walker = await RemoteDirectoryWalker.create({ server: writerServer.endpoint });
    closers.push(() => walker.close());
    const shutter = await DummyShutter.create();
    const flatMotor = await DummyLinearMotor.create({ motionVelocity: q('1000 mm/s') });
    const tomographyMotor = await DummyContinuousRotationMotor.create({ motionVelocity: q('10000 deg/s') });
    const exp = await synchrotron.ContinuousTomography.create({
      camera,
      shutter,
      flatMotor,
      tomographyMotor,
      walker,
      radioPosition: q('0 mm'),
      flatPosition: q('10 mm'),
      numDarks: 4,
      numFlats: 4,
      numProjections: 32,
    });
    const writer = await ImageWriter.create(exp, { server: writerServer.endpoint, data: await dataEndpoint(), camera });
    const reco = await OnlineReconstruction.create(exp, {
      server: recoServer.endpoint,
      data: await dataEndpoint(),
      camera,
    });
    closers.push(
      () => writer.close(),
      () => reco.close(),
    );
    const result = await exp.run();
    assert.deepEqual(Object.fromEntries(Object.entries(result.acquisitions).map(([k, v]) => [k, v.frames])), {
      darks: 4,
      flats: 4,
      radios: 32,
    });
    for (const [name, n] of [
      ['darks', 4],
      ['flats', 4],
      ['radios', 32],
    ] as const)
      assert.equal((await readdir(join(root, 'scan_0000', name))).length, n, `${name} written by the server`);
    assert.equal((await reco.slices()).length, 1);
    assert.equal(await shutter.getState(), 'closed');
    assert.equal(await camera.getState(), 'standby');
  });

  it('CURVE: encrypted end to end with the keys; without them nothing gets through', async () => {
    const keys = await mkdtemp(join(tmpdir(), 'concert-keys-'));
    closers.push(() => rm(keys, { recursive: true, force: true }));
    await ensureKeyPairs(keys);
    const { exp, cameraServer } = await setup({ frames: 5, curveKeys: keys });
    const result = await exp.run();
    assert.equal(result.acquisitions.radios!.frames, 5);
    await assert.rejects(
      RemoteCamera.create({ endpoint: cameraServer.endpoint, timeoutMs: 500 }),
      /no reply within 500 ms/,
    );
  });
});
