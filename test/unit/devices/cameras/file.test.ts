import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFrame, q, type Frame } from '../../../../core/index.js';
import { FileCamera } from '../../../../devices/cameras/file.js';
import { frames } from '../../../../experiments/index.js';
import { MultiFileWriter, TiffWriter } from '../../../../walkers/formats/index.js';

/** Frame i of a 6×4 test sequence: pixel (r, c) = 1000·i + 10·r + c. */
function frame(i: number, dtype: 'uint16' | 'float32' = 'uint16'): Frame {
  const data = dtype === 'uint16' ? new Uint16Array(24) : new Float32Array(24);
  for (let r = 0; r < 4; r++)
    for (let c = 0; c < 6; c++) data[r * 6 + c] = 1000 * i + 10 * r + c + (dtype === 'float32' ? 0.5 : 0);
  return makeFrame(data, [4, 6], { angle: i * 10 });
}

async function grabAll(camera: FileCamera, n: number): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const f of camera.stream({ count: n })) out.push(f);
  return out;
}

describe('devices/cameras/file', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'concert-filecam-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('replays a directory written by MultiFileWriter with the right pixels and metadata, then starts over', async () => {
    const dir = join(root, 'radios');
    await mkdir(dir);
    const writer = await MultiFileWriter.open(dir, { pattern: 'frame_{:06}.tif' });
    for (let i = 0; i < 3; i++) await writer.write(frame(i));
    await writer.close();
    const camera = await FileCamera.create({ pattern: dir, frameRate: q('1000 Hz') });
    assert.equal(camera.length, 3);
    assert.equal(Number((await camera.roiWidth.get()).toNumber('px')), 6);
    assert.equal(Number((await camera.roiHeight.get()).toNumber('px')), 4);
    const got = await grabAll(camera, 5);
    for (const [i, f] of got.entries()) {
      assert.equal(f.dtype, 'uint16');
      assert.deepEqual(f.shape, [4, 6]);
      assert.deepEqual([...f.data], [...frame(i % 3).data], `frame ${i}`);
      assert.equal(f.metadata.frameNumber, i);
      assert.equal(f.metadata.angle, (i % 3) * 10);
    }
    await camera.disconnect();
  });

  it('reads multi-page files and globs, in natural order, and crops to the ROI', async () => {
    const a = await TiffWriter.open(join(root, 'part_2.tif'));
    for (let i = 0; i < 2; i++) await a.write(frame(i, 'float32'));
    await a.close();
    const b = await TiffWriter.open(join(root, 'part_10.tif'));
    await b.write(frame(2, 'float32'));
    await b.close();
    await writeFile(join(root, 'notes.txt'), 'not a tiff');
    const camera = await FileCamera.create({ pattern: join(root, 'part_*.tif'), frameRate: q('1000 Hz') });
    assert.deepEqual(
      camera.files.map((f) => f.split('/').pop()),
      ['part_2.tif', 'part_10.tif'],
    );
    await camera.roiWidth.set(q('3 px'));
    await camera.roiX0.set(q('1 px'));
    await camera.roiHeight.set(q('2 px'));
    await camera.roiY0.set(q('2 px'));
    const got = await grabAll(camera, 3);
    for (const [i, f] of got.entries()) {
      assert.equal(f.dtype, 'float32');
      assert.deepEqual(f.shape, [2, 3]);
      const base = 1000 * i + 0.5;
      assert.deepEqual([...f.data], [base + 21, base + 22, base + 23, base + 31, base + 32, base + 33]);
    }
    await camera.disconnect();
  });

  it('paces AUTO frames to the frame rate, and SOFTWARE frames to the triggers', async () => {
    const dir = join(root, 'seq');
    await mkdir(dir);
    const writer = await MultiFileWriter.open(dir);
    for (let i = 0; i < 2; i++) await writer.write(frame(i));
    await writer.close();
    const camera = await FileCamera.create({ pattern: dir, frameRate: q('50 Hz') });
    let t0 = performance.now();
    await grabAll(camera, 6);
    const paced = performance.now() - t0;
    assert.ok(paced >= 90 && paced < 1000, `6 frames at 50 Hz took ${paced.toFixed(0)} ms`);
    await camera.setFrameRate(q('2 Hz'));
    t0 = performance.now();
    const triggered: Frame[] = [];
    for await (const f of frames(6, camera)) triggered.push(f);
    assert.ok(
      performance.now() - t0 < 1000,
      'triggered frames do not wait for the 2 Hz frame rate (free-running would take 2.5 s)',
    );
    assert.deepEqual(
      triggered.map((f) => f.data[0]),
      [0, 1000, 0, 1000, 0, 1000],
    );
    assert.equal(await camera.getTriggerSource(), 'AUTO');
    await camera.disconnect();
  });

  it('switches sequences with setPattern and refuses patterns without TIFF files', async () => {
    for (const [name, offset] of [
      ['darks', 0],
      ['flats', 5],
    ] as const) {
      await mkdir(join(root, name));
      const writer = await MultiFileWriter.open(join(root, name));
      await writer.write(frame(offset));
      await writer.close();
    }
    const camera = await FileCamera.create({ pattern: join(root, 'darks') });
    assert.equal((await grabAll(camera, 1))[0]!.data[0], 0);
    await camera.setPattern(join(root, 'flats'));
    assert.equal(camera.pattern, join(root, 'flats'));
    assert.equal((await grabAll(camera, 1))[0]!.data[0], 5000);
    await mkdir(join(root, 'empty'));
    await assert.rejects(camera.setPattern(join(root, 'empty')), { name: 'OptionError', message: /no TIFF files/ });
    await assert.rejects(FileCamera.create({ pattern: join(root, 'missing') }), {
      name: 'OptionError',
      message: /cannot read/,
    });
    await assert.rejects(FileCamera.create({} as never), { name: 'OptionError', message: /'pattern' is required/ });
    await camera.disconnect();
  });
});
