import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Frame } from '../../../../core/frame.js';
import { StorageError } from '../../../../walkers/formats/errors.js';
import { Hdf5Writer } from '../../../../walkers/formats/hdf5-writer.js';
import { HERE, need, PYTHON, run, testFrame, useTempDir } from './helpers.js';

interface Checked {
  complete: number;
  definition: string;
  classes: Record<string, string>;
  shape: number[];
  maxshape: number[];
  chunks: number[];
  dtype: string;
  data: string;
  image_key: number[];
  rotation_angle: (number | null)[];
  angle_units: string;
  signal: string;
  links: Record<string, string>;
  linked_shape: number[];
}

const check = async (path: string) => JSON.parse(await run(PYTHON, [join(HERE, 'check_h5.py'), path])) as Checked;
const bytesOf = (frames: Frame[]) =>
  Buffer.concat(frames.map((f) => Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength))).toString('base64');

describe('Hdf5Writer', function () {
  this.timeout(60_000); // generous: Python and h5wasm start slowly on a loaded 2-core machine
  const dir = useTempDir();

  it('writes darks, flats and projections into one NXtomo file that h5py reads exactly', async function () {
    await need(this, 'h5py');
    const path = join(dir.path, 'tomo.nx');
    const writer = await Hdf5Writer.open(path);
    const darks = [0, 1].map((i) => testFrame('uint16', 12, 10, i));
    const flats = [0, 1].map((i) => testFrame('uint16', 12, 10, 10 + i, { image_key: 1 }));
    const projections = [0, 1, 2].map((i) => testFrame('uint16', 12, 10, 20 + i, { angle: i * 60 }));
    for (const f of darks) await writer.write(f, { imageKey: 'dark' });
    for (const f of flats) await writer.write(f);
    await writer.write(projections[0]!);
    await writer.write(projections[1]!, { angle: 61.5 }); // an explicit argument wins over metadata
    await writer.write(projections[2]!, { imageKey: 0 });
    assert.equal(writer.frameCount, 7);
    await writer.close();
    const h5 = await check(path);
    assert.equal(h5.complete, 1);
    assert.equal(h5.definition, 'NXtomo');
    assert.deepEqual(h5.classes, {
      entry: 'NXentry',
      'entry/data': 'NXdata',
      'entry/instrument': 'NXinstrument',
      'entry/instrument/detector': 'NXdetector',
      'entry/sample': 'NXsample',
    });
    assert.deepEqual(h5.shape, [7, 12, 10]);
    assert.deepEqual(h5.maxshape, [-1, 12, 10]);
    assert.deepEqual(h5.chunks, [1, 12, 10]);
    assert.equal(h5.dtype, 'uint16');
    assert.equal(h5.data, bytesOf([...darks, ...flats, ...projections]));
    assert.deepEqual(h5.image_key, [2, 2, 1, 1, 0, 0, 0]);
    assert.deepEqual(h5.rotation_angle, [null, null, null, null, 0, 61.5, 120]);
    assert.equal(h5.angle_units, 'degree');
    assert.equal(h5.signal, 'data');
    assert.deepEqual(h5.links, {
      data: '/entry/instrument/detector/data',
      image_key: '/entry/instrument/detector/image_key',
      rotation_angle: '/entry/sample/rotation_angle',
    });
    assert.deepEqual(h5.linked_shape, [7, 12, 10]);
  });

  for (const dtype of ['uint8', 'uint32', 'float32', 'int16', 'float64'] as const) {
    it(`stores ${dtype} frames exactly`, async function () {
      await need(this, 'h5py');
      const path = join(dir.path, `${dtype}.h5`);
      const frames = [0, 1, 2].map((i) => testFrame(dtype, 5, 7, i));
      const writer = await Hdf5Writer.open(path);
      for (const f of frames) await writer.write(f);
      await writer.close();
      const h5 = await check(path);
      assert.equal(h5.dtype, dtype);
      assert.equal(h5.data, bytesOf(frames));
    });
  }

  it('is listed by h5ls with the NXtomo layout', async function () {
    await need(this, 'h5ls');
    const path = join(dir.path, 'ls.nx');
    const writer = await Hdf5Writer.open(path);
    await writer.write(testFrame('uint16', 4, 3));
    await writer.close();
    const listing = await run('h5ls', ['-r', path]);
    assert.match(listing, /\/entry\/instrument\/detector\/data\s+Dataset \{1\/Inf, 4, 3\}/);
    assert.match(listing, /\/entry\/instrument\/detector\/image_key\s+Dataset \{1\/Inf\}/);
    assert.match(listing, /\/entry\/sample\/rotation_angle\s+Dataset \{1\/Inf\}/);
    assert.match(listing, /\/entry\/data\/data\s+Soft Link \{\/entry\/instrument\/detector\/data\}/);
  });

  it('leaves an unclosed file readable and marked complete = 0', async function () {
    await need(this, 'h5py');
    const path = join(dir.path, 'open.nx');
    const writer = await Hdf5Writer.open(path);
    await writer.write(testFrame('uint16', 4, 4, 0), { imageKey: 'flat' });
    await writer.write(testFrame('uint16', 4, 4, 1), { angle: 3 });
    const h5 = await check(path);
    assert.equal(h5.complete, 0);
    assert.deepEqual(h5.shape, [2, 4, 4]);
    assert.deepEqual(h5.image_key, [1, 0]);
    await writer.abort();
    assert.deepEqual(await readdir(dir.path), []);
  });

  it('rejects a write that runs out of space with a StorageError', async function () {
    this.timeout(90_000); // a child process loads tsx and h5wasm
    // RLIMIT_FSIZE stands in for a full disk: with SIGXFSZ ignored, write() fails with EFBIG.
    // h5wasm drops HDF5's status codes; the writer must still notice.
    const script = join(dir.path, 'full.mts');
    const module = (p: string) => JSON.stringify(new URL(p, import.meta.url).pathname);
    await writeFile(
      script,
      `import { Hdf5Writer } from ${module('../../../../walkers/formats/hdf5-writer.ts')};
       import { makeFrame } from ${module('../../../../core/frame.ts')};
       const w = await Hdf5Writer.open(process.argv[2] + '/full.nx');
       try {
         for (let i = 0; i < 64; i++) await w.write(makeFrame(new Uint16Array(256 * 256).fill(i), [256, 256]));
         console.log('no error');
       } catch (e) { console.log(JSON.stringify({ name: e.name, message: e.message, frames: w.frameCount })); }
       await w.close();`,
    );
    const tsx = new URL('../../../../node_modules/.bin/tsx', import.meta.url).pathname;
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn('bash', ['-c', `trap '' XFSZ; ulimit -f 1024; exec "${tsx}" "${script}" "${dir.path}"`]);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.resume(); // HDF5-DIAG output: drain it, or the child blocks on a full pipe
      child.on('error', reject);
      child.on('close', () => resolve(out));
    });
    const line = output.split('\n').find((l) => l.startsWith('{') || l === 'no error');
    if (line === undefined) {
      console.log(`      skipped: could not limit the file size here: ${output.trim().slice(0, 200)}`);
      this.skip();
    }
    const error = JSON.parse(line) as { name: string; message: string; frames: number };
    assert.equal(error.name, 'StorageError');
    assert.match(error.message, /^cannot write .*full\.nx: HDF5 failed to /);
    assert.ok(error.frames > 0 && error.frames < 16, `failed after ${error.frames} frames`);
  });

  it('rejects frames of another shape or dtype and bad image keys with a StorageError', async () => {
    const path = join(dir.path, 'mixed.nx');
    const writer = await Hdf5Writer.open(path);
    await writer.write(testFrame('uint16', 4, 4));
    await assert.rejects(
      writer.write(testFrame('uint16', 4, 5, 1)),
      (e: unknown) =>
        e instanceof StorageError && /is uint16 \[4, 5\] but the dataset holds uint16 \[4, 4\]/.test(e.message),
    );
    await assert.rejects(writer.write(testFrame('float32', 4, 4, 2)), StorageError);
    await assert.rejects(
      writer.write(testFrame('uint16', 4, 4, 3, { image_key: 7 })),
      /image_key 7; expected 0 \(projection\)/,
    );
    await writer.write(testFrame('uint16', 4, 4, 4));
    assert.equal(writer.frameCount, 2);
    await writer.close();
    await writer.close();
  });

  it('refuses an existing file and an unwritable place with a StorageError naming the file', async () => {
    const existing = join(dir.path, 'exists.nx');
    await writeFile(existing, 'x');
    await assert.rejects(
      Hdf5Writer.open(existing),
      (e: unknown) => e instanceof StorageError && /exists\.nx: the file already exists/.test(e.message),
    );
    const nowhere = join(dir.path, 'missing', 'f.nx');
    await assert.rejects(Hdf5Writer.open(nowhere), (e: unknown) => {
      assert.ok(e instanceof StorageError, String(e));
      assert.match(e.message, /^cannot create .*missing\/f\.nx: /);
      return true;
    });
    const overwritten = await Hdf5Writer.open(existing, { overwrite: true });
    await overwritten.close();
  });
});
