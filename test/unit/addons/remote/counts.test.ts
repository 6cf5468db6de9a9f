/**
 * Remote addons report what their servers confirmed: in `summary()`, in the run result, and as
 * the experiment's progress (real camera and writer server processes over tcp loopback).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setProgressRenderer, type ProgressState } from '../../../../core/index.js';
import { Camera as RemoteCamera } from '../../../../devices/cameras/remote.js';
import { Experiment, remoteAcquisition } from '../../../../experiments/index.js';
import { ImageWriter } from '../../../../addons/remote/index.js';
import { freePort, tcpEndpoint } from '../../../../transport/zmq/index.js';
import { RemoteDirectoryWalker } from '../../../../walkers/index.js';
import { spawnServer, type ServerProcess } from '../../../../addons/remote/spawn.js';

describe('remote addons: confirmed counts', function () {
  this.timeout(60_000);
  let root: string;
  const servers: ServerProcess[] = [];
  const closers: Array<() => unknown> = [];
  beforeEach(async () => (root = await mkdtemp(join(tmpdir(), 'concert-counts-'))));
  afterEach(async () => {
    setProgressRenderer(undefined);
    for (const c of closers.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
    await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
    await rm(root, { recursive: true, force: true });
  });

  it("summary(), the run result and the progress bar carry the writer server's confirmed frames", async () => {
    const [cameraServer, writerServer] = await Promise.all([
      spawnServer('camera', { width: 32, height: 16, frameRate: 200 }),
      spawnServer('writer', { root }),
    ]);
    servers.push(cameraServer, writerServer);
    const camera = await RemoteCamera.create({ name: 'camera', endpoint: cameraServer.endpoint });
    closers.push(() => camera.disconnect());
    const walker = await RemoteDirectoryWalker.create({ server: writerServer.endpoint });
    closers.push(() => walker.close());
    const exp = await Experiment.create([await remoteAcquisition('radios', camera, 40)], { walker });
    const writer = await ImageWriter.create(exp, {
      server: writerServer.endpoint,
      data: tcpEndpoint(await freePort()),
      camera,
    });
    closers.push(() => writer.close());
    const seen: ProgressState[] = [];
    setProgressRenderer({ update: (s) => seen.push(s), end: () => {} });

    const result = await exp.run();
    assert.equal(result.acquisitions.radios!.frames, 40);
    assert.equal(result.acquisitions.radios!.consumers[`${writer.name}:radios`]!.frames, 40);
    assert.equal(writer.summary().frames, 40);
    assert.equal((await readdir(join(root, 'scan_0000', 'radios'))).length, 40);
    assert.ok(seen.length > 0, 'the bar moved');
    assert.equal(seen.at(-1)!.done, 40);
    assert.equal(seen.at(-1)!.total, 40);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.done >= seen[i - 1]!.done, 'never backwards');
  });
});
