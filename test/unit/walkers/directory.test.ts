import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFrame } from '../../../core/index.js';
import { Acquisition, Experiment } from '../../../experiments/index.js';
import { ImageWriter } from '../../../addons/local/index.js';
import { DirectoryWalker, DummyWalker, StorageError } from '../../../walkers/index.js';

const PYTHON = '/usr/bin/python3';

function pythonHas(module: string): boolean {
  try {
    execFileSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function ramp(i: number, h = 8, w = 6) {
  const data = new Uint16Array(h * w);
  for (let k = 0; k < data.length; k++) data[k] = i * 1000 + k;
  return makeFrame(data, [h, w], { frameNumber: i, angle: i * 10 });
}

describe('walkers/directory', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'concert-walker-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('descends, ascends and goes home; refuses to go above the root', async () => {
    const w = await DirectoryWalker.create({ root });
    await w.descend('a/b');
    assert.equal(w.current, join(root, 'a', 'b'));
    assert.ok(existsSync(join(root, 'a', 'b')));
    await w.ascend();
    assert.equal(w.current, join(root, 'a'));
    await w.home();
    assert.equal(w.current, root);
    await assert.rejects(
      w.ascend(),
      (e: unknown) => e instanceof StorageError && /above the walker root/.test(e.message),
    );
    assert.equal(await w.exists('a', 'b'), true);
    assert.equal(await w.exists('nope'), false);
  });

  it('refuses to escape the root through .., absolute paths and symlinks', async () => {
    const w = await DirectoryWalker.create({ root });
    await assert.rejects(w.descend('../x'), /leads out of the walker root/);
    await assert.rejects(w.descend('a/../../x'), /leads out of the walker root/);
    await assert.rejects(w.descend('/etc'), /absolute path/);
    const outside = await mkdtemp(join(tmpdir(), 'concert-outside-'));
    try {
      await symlink(outside, join(root, 'link'));
      await assert.rejects(w.descend('link'), /symbolic link/);
      await assert.rejects(w.descend('link/deeper'), /symbolic link/);
      await assert.rejects(w.writeText('link/x.json', '{}'), /symbolic link/);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
    assert.equal(w.current, root, 'a refused move leaves the walker where it was');
  });

  it('refuses to write over an existing dataset', async () => {
    const w = await DirectoryWalker.create({ root });
    await mkdir(join(root, 'radios'));
    await writeFile(join(root, 'radios', 'frame_000000.tif'), 'old');
    await assert.rejects(
      w.writer('radios'),
      (e: unknown) => e instanceof StorageError && /is not empty/.test(e.message),
    );
  });

  it('rejects bad options with a clear error', async () => {
    await assert.rejects(DirectoryWalker.create({ root, dsetname: 'frame.tif' }), /placeholder/);
    await assert.rejects(
      DirectoryWalker.create({ root, format: 'png' } as never),
      /option 'format' must be one of "tiff", "hdf5"/,
    );
    await assert.rejects(DirectoryWalker.create({ rooot: root } as never), /unknown option 'rooot'/);
  });

  it('an experiment writes TIFFs that tifffile reads back exactly, with JSON metadata', async function () {
    if (!pythonHas('tifffile')) {
      console.log('      skipped: /usr/bin/python3 has no tifffile (Debian python3-tifffile)');
      this.skip();
    }
    const walker = await DirectoryWalker.create({ root, bytesPerFile: 1000 });
    const exp = await Experiment.create(
      [
        await Acquisition.create('radios', async function* () {
          for (let i = 0; i < 10; i++) yield ramp(i);
        }),
      ],
      { walker },
    );
    await ImageWriter.create(exp);
    await exp.run();
    const dir = join(root, 'scan_0000', 'radios');
    const files = (await readdir(dir)).sort();
    assert.ok(files.length > 1 && files.length < 10, `multi-page files (got ${files.length})`);
    for (const f of files) assert.ok((await stat(join(dir, f))).size <= 1000, `${f} holds at most bytesPerFile`);
    const script = `
import json, sys, glob, tifffile, numpy as np
pages = []
for f in sorted(glob.glob(sys.argv[1] + '/*.tif')):
    with tifffile.TiffFile(f) as t:
        for p in t.pages:
            pages.append((p.asarray(), json.loads(p.description)))
out = []
for a, meta in pages:
    out.append({'shape': list(a.shape), 'dtype': str(a.dtype), 'first': int(a.flat[0]), 'last': int(a.flat[-1]),
                'frameNumber': meta['frameNumber'], 'angle': meta['angle']})
print(json.dumps(out))
`;
    const pages = JSON.parse(execFileSync(PYTHON, ['-c', script, dir], { encoding: 'utf8' }));
    assert.equal(pages.length, 10);
    pages.forEach(
      (
        p: { shape: number[]; dtype: string; first: number; last: number; frameNumber: number; angle: number },
        i: number,
      ) => {
        assert.deepEqual(p.shape, [8, 6]);
        assert.equal(p.dtype, 'uint16');
        assert.equal(p.first, i * 1000);
        assert.equal(p.last, i * 1000 + 47);
        assert.equal(p.frameNumber, i);
        assert.equal(p.angle, i * 10);
      },
    );
  });

  it('format hdf5: one NXtomo file per scan with image keys from the acquisition names (h5py)', async function () {
    if (!pythonHas('h5py')) {
      console.log('      skipped: /usr/bin/python3 has no h5py (Debian python3-h5py)');
      this.skip();
    }
    const walker = await DirectoryWalker.create({ root, format: 'hdf5' });
    const mk = (name: string, n: number, offset: number) =>
      Acquisition.create(name, async function* () {
        for (let i = 0; i < n; i++) yield ramp(offset + i);
      });
    const exp = await Experiment.create([await mk('darks', 2, 0), await mk('flats', 3, 2), await mk('radios', 4, 5)], {
      walker,
    });
    await ImageWriter.create(exp);
    await exp.run();
    const file = join(root, 'scan_0000', 'scan_0000.nxs');
    const script = `
import json, sys, h5py
with h5py.File(sys.argv[1], 'r') as f:
    d = f['/entry/instrument/detector/data']
    keys = [int(k) for k in f['/entry/instrument/detector/image_key'][()]]
    print(json.dumps({'shape': list(d.shape), 'dtype': str(d.dtype), 'keys': keys,
                      'first': [int(d[i, 0, 0]) for i in range(d.shape[0])]}))
`;
    const info = JSON.parse(execFileSync(PYTHON, ['-c', script, file], { encoding: 'utf8' }));
    assert.deepEqual(info.shape, [9, 8, 6]);
    assert.equal(info.dtype, 'uint16');
    assert.deepEqual(info.keys, [2, 2, 1, 1, 1, 0, 0, 0, 0]);
    assert.deepEqual(info.first, [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000]);
  });
});

describe('walkers/dummy', () => {
  it('keeps directories, texts and frame counts in memory', async () => {
    const w = new DummyWalker(true);
    await w.descend('scan_0000');
    const writer = await w.writer('radios');
    await writer.write(ramp(0));
    await writer.close();
    await w.writeText('a.json', '{}');
    assert.equal(w.datasets.get('/scan_0000/radios')!.length, 1);
    assert.equal(w.texts.get('/scan_0000/a.json'), '{}');
    assert.equal(await w.exists('radios'), true);
    await w.ascend();
    await assert.rejects(w.ascend(), StorageError);
  });
});
