import assert from 'node:assert/strict';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OptionError } from '../../../../core/errors.js';
import { StorageError } from '../../../../walkers/formats/errors.js';
import { MultiFileWriter } from '../../../../walkers/formats/multi-file.js';
import { readTiff, TiffReader } from '../../../../walkers/formats/tiff-reader.js';
import { base64Of, HERE, need, PYTHON, run, testFrame, useTempDir } from './helpers.js';

describe('MultiFileWriter', function () {
  this.timeout(60_000); // generous: Python and h5wasm start slowly on a loaded 2-core machine
  const dir = useTempDir();

  it('writes one file per frame by default, named from the pattern and startIndex', async () => {
    const writer = await MultiFileWriter.open(dir.path, { pattern: 'frame_{:>06}.tif', startIndex: 5 });
    const frames = [0, 1, 2].map((i) => testFrame('uint16', 6, 4, i));
    for (const f of frames) await writer.write(f);
    await writer.close();
    const names = ['frame_000005.tif', 'frame_000006.tif', 'frame_000007.tif'];
    assert.deepEqual((await readdir(dir.path)).sort(), names);
    assert.deepEqual(
      writer.files,
      names.map((n) => join(dir.path, n)),
    );
    assert.equal(writer.framesWritten, 3);
    for (const [i, name] of names.entries()) {
      const pages = await readTiff(join(dir.path, name));
      assert.equal(pages.length, 1);
      assert.equal(base64Of(pages[0]!.frame), base64Of(frames[i]!));
    }
  });

  it('splits a dataset into multi-page classic TIFFs of at most bytesPerFile bytes', async () => {
    const frames = Array.from({ length: 10 }, (_, i) => testFrame('uint16', 32, 32, i)); // 2 KiB of pixels each
    const bytesPerFile = 3 * 2048 + 3 * 512; // room for 3 pages with their headers, not 4
    const writer = await MultiFileWriter.open(dir.path, { bytesPerFile });
    for (const f of frames) await writer.write(f);
    await writer.close();
    assert.deepEqual((await readdir(dir.path)).sort(), [
      'frame_000000.tif',
      'frame_000001.tif',
      'frame_000002.tif',
      'frame_000003.tif',
    ]);
    const counts: number[] = [];
    const numbers: number[] = [];
    for (const file of writer.files) {
      assert.ok((await stat(file)).size <= bytesPerFile, `${file} is larger than bytesPerFile`);
      const pages = await readTiff(file);
      counts.push(pages.length);
      numbers.push(...pages.map((p) => p.frame.metadata.frameNumber));
      const reader = await TiffReader.open(file);
      assert.equal(reader.bigTiff, false);
      await reader.close();
    }
    assert.deepEqual(counts, [3, 3, 3, 1]);
    assert.deepEqual(numbers, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(
      writer.bytesWritten,
      (await Promise.all(writer.files.map((f) => stat(f)))).reduce((a, s) => a + s.size, 0),
    );
  });

  it('gives a frame larger than bytesPerFile a file of its own', async () => {
    const writer = await MultiFileWriter.open(dir.path, { bytesPerFile: 100 });
    await writer.write(testFrame('uint8', 20, 20, 0));
    await writer.write(testFrame('uint8', 20, 20, 1));
    await writer.close();
    assert.equal(writer.files.length, 2);
  });

  it('writes BigTIFF files when bytesPerFile is 4 GiB or more (small frames), which tifffile reads', async function () {
    const frames = Array.from({ length: 4 }, (_, i) => testFrame('float32', 8, 8, i, { angle: i }));
    const writer = await MultiFileWriter.open(dir.path, { bytesPerFile: 5 * 2 ** 30, pattern: 'big_{}.tif' });
    for (const f of frames) await writer.write(f);
    await writer.close();
    assert.deepEqual(await readdir(dir.path), ['big_0.tif']);
    const reader = await TiffReader.open(join(dir.path, 'big_0.tif'));
    assert.equal(reader.bigTiff, true);
    assert.equal(await reader.pageCount(), 4);
    await reader.close();
    await need(this, 'tifffile');
    const checked = JSON.parse(await run(PYTHON, [join(HERE, 'check_tiff.py'), join(dir.path, 'big_0.tif')])) as {
      bigtiff: boolean;
      pages: { data: string; description: string }[];
    };
    assert.equal(checked.bigtiff, true);
    checked.pages.forEach((p, i) => {
      assert.equal(p.data, base64Of(frames[i]!));
      assert.deepEqual(JSON.parse(p.description), frames[i]!.metadata);
    });
  });

  it('refuses bad options and a missing directory', async () => {
    await assert.rejects(MultiFileWriter.open(dir.path, { pattern: 'frame.tif' }), OptionError);
    await assert.rejects(MultiFileWriter.open(dir.path, { startIndex: -1 }), OptionError);
    await assert.rejects(MultiFileWriter.open(dir.path, { bytesPerFile: -5 }), OptionError);
    await assert.rejects(
      MultiFileWriter.open(join(dir.path, 'missing')),
      (e: unknown) => e instanceof StorageError && e.code === 'ENOENT',
    );
  });

  it('fails with a StorageError on an existing file and keeps the files already complete', async () => {
    await writeFile(join(dir.path, 'frame_000001.tif'), 'old');
    const writer = await MultiFileWriter.open(dir.path);
    await writer.write(testFrame('uint8', 2, 2, 0));
    await assert.rejects(
      writer.write(testFrame('uint8', 2, 2, 1)),
      (e: unknown) => e instanceof StorageError && /frame_000001\.tif: the file already exists/.test(e.message),
    );
    await assert.rejects(writer.write(testFrame('uint8', 2, 2, 2)), /writer is failed/);
    await writer.close();
    assert.deepEqual(writer.files, [join(dir.path, 'frame_000000.tif')]);
  });

  it('one file per frame: opens the next file ahead, and leaves none of it behind on close or abort', async () => {
    for (const end of ['close', 'abort'] as const) {
      const sub = join(dir.path, end);
      await mkdir(sub);
      const writer = await MultiFileWriter.open(sub);
      for (let i = 0; i < 2; i++) await writer.write(testFrame('uint16', 4, 4, i));
      // (frame_000002.tif.partial may exist by now: it is opened ahead for a next frame)
      assert.deepEqual((await readdir(sub)).sort().slice(0, 2), ['frame_000000.tif', 'frame_000001.tif']);
      await writer[end]();
      assert.deepEqual((await readdir(sub)).sort(), ['frame_000000.tif', 'frame_000001.tif']);
    }
  });

  it('abort() deletes the unfinished file and keeps the complete ones', async () => {
    const writer = await MultiFileWriter.open(dir.path, { bytesPerFile: 2 * 64 + 600 });
    for (let i = 0; i < 3; i++) await writer.write(testFrame('uint8', 8, 8, i));
    assert.deepEqual((await readdir(dir.path)).sort(), ['frame_000000.tif', 'frame_000001.tif.partial']);
    await writer.abort();
    assert.deepEqual(await readdir(dir.path), ['frame_000000.tif']);
  });
});
