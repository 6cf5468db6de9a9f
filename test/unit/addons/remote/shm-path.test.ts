import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RemoteCamera } from '../../../../devices/cameras/remote.js';
import { Experiment, remoteAcquisition } from '../../../../experiments/index.js';
import { ImageWriter, LiveView, ServerClient } from '../../../../addons/remote/index.js';
import { shmAvailable, uniqueShmEndpoint } from '../../../../transport/index.js';
import { RemoteDirectoryWalker, readTiff } from '../../../../walkers/index.js';
import { spawnServer, type ServerProcess } from '../../../../addons/remote/spawn.js';

describe('remote data path over shared memory (camera server → writer and live servers, shm://)', function () {
  this.timeout(60_000);
  let root: string;
  const servers: ServerProcess[] = [];
  const closers: Array<() => unknown> = [];

  before(function () {
    if (!shmAvailable()) {
      console.log('      skipping: the optional package shm-typed-array is not installed');
      this.skip();
    }
  });
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'concert-shm-path-'));
  });
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
    await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
    await rm(root, { recursive: true, force: true });
  });

  async function setup(frames: number, frameRate = 500) {
    const [cameraServer, writerServer, liveServer] = await Promise.all(
      [
        spawnServer('camera', { width: 64, height: 48, frameRate }),
        spawnServer('writer', { root }),
        spawnServer('live', {}),
      ].map(async (p) => {
        const s = await p;
        servers.push(s);
        return s;
      }),
    );
    const camera = await RemoteCamera.create({ name: 'camera', endpoint: cameraServer!.endpoint });
    closers.push(() => camera.disconnect());
    const walker = await RemoteDirectoryWalker.create({ server: writerServer!.endpoint });
    closers.push(() => walker.close());
    const exp = await Experiment.create([await remoteAcquisition('radios', camera, frames)], { walker });
    const writer = await ImageWriter.create(exp, { server: writerServer!.endpoint, data: uniqueShmEndpoint(), camera });
    closers.push(() => writer.close());
    const live = await LiveView.create(exp, { server: liveServer!.endpoint, data: uniqueShmEndpoint(), camera });
    closers.push(() => live.close());
    return { exp, camera, liveServer: liveServer! };
  }

  async function framesIn(dir: string): Promise<number[]> {
    const numbers: number[] = [];
    for (const f of (await readdir(dir)).sort())
      numbers.push((await readTiff(join(dir, f)))[0]!.frame.metadata.frameNumber);
    return numbers;
  }

  it('writes every frame, in order, and the live server shows frames; a cancelled run leaves no frame in the next', async () => {
    const { exp, camera, liveServer } = await setup(200);
    const result = await exp.run();
    assert.equal(result.acquisitions.radios!.frames, 200);
    assert.deepEqual(
      await framesIn(join(root, 'scan_0000', 'radios')),
      Array.from({ length: 200 }, (_, i) => i),
      'frames 0…199, each once',
    );
    const live = await ServerClient.create(liveServer.endpoint);
    closers.push(() => live.close());
    assert.ok(((await live.status()).extra as { shown: number }).shown > 0, 'the live server showed frames');

    // a run cancelled mid-stream, then a run at once: its scan holds exactly its own frames
    exp.remove('radios');
    exp.add(await remoteAcquisition('radios', camera, 100_000));
    const run = exp.run();
    const deadline = Date.now() + 20_000;
    while (!(await readdir(join(root, 'scan_0001', 'radios')).catch(() => [])).length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await run.cancel();
    assert.equal(await exp.state.get(), 'cancelled');
    exp.remove('radios');
    exp.add(await remoteAcquisition('radios', camera, 25));
    const again = await exp.run();
    assert.equal(again.directory, 'scan_0002');
    const numbers = await framesIn(join(root, 'scan_0002', 'radios'));
    assert.equal(numbers.length, 25, 'the next run wrote its 25 frames');
    assert.ok(
      numbers.every((n, i) => i === 0 || n === numbers[i - 1]! + 1),
      `consecutive frame numbers (no frame of the cancelled run): ${numbers.join(',')}`,
    );
  });

  it('a camera server refuses a malformed endpoint, naming the schemes it takes', async () => {
    const s = await spawnServer('camera', { width: 8, height: 8 });
    servers.push(s);
    const camera = await RemoteCamera.create({ name: 'camera', endpoint: s.endpoint });
    closers.push(() => camera.disconnect());
    await assert.rejects(camera.registerEndpoint('shm:/x'), /tcp:\/\/.*ipc:\/\/.*shm:\/\/NAME/);
  });
});
