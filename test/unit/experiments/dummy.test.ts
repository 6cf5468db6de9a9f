import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { q, registeredDevices, toNumber, type Frame } from '../../../core/index.js';
import { Accumulator, ImageWriter } from '../../../addons/local/index.js';
import { FileCamera } from '../../../devices/cameras/file.js';
import { ImagingExperiment, ImagingFileExperiment } from '../../../experiments/index.js';
import { DirectoryWalker, DummyWalker, readTiff } from '../../../walkers/index.js';
import { within } from '../../support/async.js';

describe('experiments/dummy', () => {
  let root: string;
  const made: ImagingExperiment[] = [];
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'concert-dummy-exp-'));
  });
  afterEach(async () => {
    for (const exp of made.splice(0)) await exp.disconnect();
    await rm(root, { recursive: true, force: true });
  });

  it('ImagingExperiment runs a small tomography with dummy devices in a second or two', async () => {
    const exp = await ImagingExperiment.create({ walker: new DummyWalker() });
    made.push(exp);
    assert.ok(registeredDevices().includes(exp.camera));
    assert.deepEqual(
      exp.acquisitions.map((a) => a.name),
      ['darks', 'flats', 'radios'],
    );
    const acc = await Accumulator.create(exp);
    const t0 = performance.now();
    const result = await within(8000, exp.run().done);
    const took = performance.now() - t0;
    assert.ok(took >= 1100 && took < 3500, `took ${took.toFixed(0)} ms (120 frames at 100 Hz)`);
    assert.deepEqual(
      Object.values(result.acquisitions).map((a) => a.frames),
      [10, 10, 100],
    );
    const [dark, flat, radio] = [acc.getItems('darks')[0]!, acc.getItems('flats')[0]!, acc.getItems('radios')[0]!];
    assert.deepEqual(dark.shape, [32, 64]);
    assert.ok(
      dark.data.every((v) => v === 100),
      'darks: dark current only',
    );
    assert.ok(
      flat.data.every((v) => v === 1100),
      'flats: open beam',
    );
    assert.ok(Math.min(...radio.data) < 1000 && Math.max(...radio.data) === 1100, 'projections: the sample absorbs');
    assert.equal(await exp.shutter.getState(), 'closed');
    assert.equal(toNumber(await exp.tomographyMotor.getPosition(), 'deg'), 0);
  });

  it('ImagingFileExperiment replays what an ImagingExperiment wrote, with the same pixels', async () => {
    const walker = await DirectoryWalker.create({ root: join(root, 'written') });
    const exp = await ImagingExperiment.create({
      walker,
      numDarks: 2,
      numFlats: 3,
      numProjections: 12,
      width: 16,
      height: 8,
      frameRate: q('1000 Hz'),
    });
    made.push(exp);
    const original = await Accumulator.create(exp);
    await ImageWriter.create(exp);
    await within(5000, exp.run().done);
    const scan = join(root, 'written', 'scan_0000');
    assert.equal((await readdir(join(scan, 'radios'))).length, 12);
    const [page] = await readTiff(join(scan, 'radios', 'frame_000003.tif'));
    assert.equal(page!.frame.metadata.image_key, 0);
    assert.equal(page!.frame.metadata.angle, 45);

    const replay = await ImagingFileExperiment.create({ directory: scan, walker: new DummyWalker() });
    assert.equal(await replay.numDarks.get(), 2);
    assert.equal(await replay.numFlats.get(), 3);
    assert.equal(await replay.numRadios.get(), 12);
    const acc = await Accumulator.create(replay);
    await within(5000, replay.run().done);
    for (const name of ['darks', 'flats', 'radios']) {
      const a = original.getItems(name);
      const b = acc.getItems(name);
      assert.equal(b.length, a.length, name);
      b.forEach((f: Frame, i) => {
        assert.deepEqual([...f.data], [...a[i]!.data], `${name} ${i}`);
        assert.equal(f.metadata.image_key, { darks: 2, flats: 1, radios: 0 }[name]);
      });
    }
    await replay.camera.disconnect();
  });

  it('ImagingExperiment frames carry image_key and angle into an NXtomo file', async function () {
    this.timeout(60_000); // h5wasm loads slowly on a busy machine
    const walker = await DirectoryWalker.create({ root, format: 'hdf5' });
    const exp = await ImagingExperiment.create({
      walker,
      numDarks: 2,
      numFlats: 2,
      numProjections: 4,
      width: 8,
      height: 4,
      frameRate: q('1000 Hz'),
    });
    made.push(exp);
    await ImageWriter.create(exp);
    await within(45_000, exp.run().done);
    const h5 = await import('h5wasm/node');
    await h5.ready;
    const file = new h5.File(join(root, 'scan_0000', 'scan_0000.nxs'), 'r');
    try {
      const keys = (file.get('/entry/instrument/detector/image_key') as { value: ArrayLike<number> }).value;
      const angles = (file.get('/entry/sample/rotation_angle') as { value: ArrayLike<number> }).value;
      assert.deepEqual(Array.from(keys), [2, 2, 1, 1, 0, 0, 0, 0]);
      assert.deepEqual(Array.from(angles).slice(4), [0, 45, 90, 135]);
    } finally {
      file.close();
    }
  });

  it('ImagingFileExperiment uses a given FileCamera with its ROI and frame rate, and given counts', async () => {
    const walker = await DirectoryWalker.create({ root });
    const exp = await ImagingExperiment.create({
      walker,
      numDarks: 1,
      numFlats: 1,
      numProjections: 4,
      width: 16,
      height: 8,
      frameRate: q('1000 Hz'),
    });
    made.push(exp);
    await ImageWriter.create(exp);
    await within(5000, exp.run().done);
    const camera = await FileCamera.create({ pattern: join(root, 'scan_0000', 'radios'), frameRate: q('100 Hz') });
    await camera.roiWidth.set(q('4 px'));
    await camera.roiX0.set(q('6 px'));
    const replay = await ImagingFileExperiment.create({
      camera,
      directory: join(root, 'scan_0000'),
      numRadios: 6,
      numDarks: 0,
      numFlats: 0,
    });
    const acc = await Accumulator.create(replay, { acquisitions: ['radios'] });
    const t0 = performance.now();
    await within(5000, replay.run().done);
    assert.ok(performance.now() - t0 >= 45, 'paced at 100 Hz');
    const got = acc.getItems('radios');
    assert.equal(got.length, 6);
    assert.deepEqual(got[0]!.shape, [8, 4]);
    assert.deepEqual(got[4]!.metadata.file, got[0]!.metadata.file, 'starts over after the last file');
    await assert.rejects(ImagingFileExperiment.create({ directory: join(root, 'nothing-here') }), {
      name: 'OptionError',
    });
    await camera.disconnect();
  });
});
