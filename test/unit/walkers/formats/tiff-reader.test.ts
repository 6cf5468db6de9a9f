import assert from 'node:assert/strict';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from '../../../../walkers/formats/errors.js';
import { readTiff, TiffReader } from '../../../../walkers/formats/tiff-reader.js';
import { TiffWriter } from '../../../../walkers/formats/tiff-writer.js';
import { base64Of, HERE, need, PYTHON, run, testFrame, useTempDir } from './helpers.js';

interface Case {
  name: string;
  dtype: string;
  shape: number[];
  pages: number;
  bigtiff: boolean;
  byteorder: string;
  tiled: boolean;
  description: string;
  data: string[];
}

describe('TiffReader', function () {
  this.timeout(60_000); // generous: Python and h5wasm start slowly on a loaded 2-core machine
  const dir = useTempDir();

  it('reads files written by tifffile: every dtype, big/little-endian, strips/tiles, classic/BigTIFF', async function () {
    await need(this, 'tifffile');
    const cases = JSON.parse(await run(PYTHON, [join(HERE, 'make_tiff.py'), dir.path], 30_000)) as Case[];
    assert.equal(cases.length, 24);
    for (const c of cases) {
      const reader = await TiffReader.open(join(dir.path, `${c.name}.tif`));
      assert.equal(reader.bigTiff, c.bigtiff, c.name);
      assert.equal(reader.littleEndian, c.byteorder === '<', c.name);
      let index = 0;
      for await (const page of reader.pages()) {
        assert.equal(page.index, index);
        assert.equal(page.frame.dtype, c.dtype, c.name);
        assert.deepEqual(page.frame.shape, c.shape, c.name);
        assert.equal(base64Of(page.frame), c.data[index], `${c.name} page ${index}`);
        assert.equal(page.description, c.description);
        assert.equal(page.frame.metadata['source'], c.name);
        assert.equal(page.frame.metadata.frameNumber, index);
        index++;
      }
      assert.equal(index, c.pages, c.name);
      assert.equal(base64Of((await reader.readPage(1)).frame), c.data[1]);
      await reader.close();
    }
    await assert.rejects(
      readTiff(join(dir.path, 'compressed.tif')),
      (e: unknown) => e instanceof StorageError && /compression 8/.test(e.message),
    );
    await assert.rejects(
      readTiff(join(dir.path, 'rgb.tif')),
      (e: unknown) => e instanceof StorageError && /3 samples per pixel/.test(e.message),
    );
  });

  it('streams pages one at a time and reads any page by index', async () => {
    const path = join(dir.path, 'stream.tif');
    const writer = await TiffWriter.open(path);
    for (let i = 0; i < 20; i++) await writer.write(testFrame('uint16', 16, 16, i));
    await writer.close();
    const reader = await TiffReader.open(path);
    assert.equal((await reader.readPage(13)).frame.metadata.frameNumber, 13);
    const seen: number[] = [];
    for await (const page of reader.pages()) {
      seen.push(page.frame.metadata.frameNumber);
      if (seen.length === 5) break;
    }
    assert.deepEqual(seen, [0, 1, 2, 3, 4]);
    assert.equal(await reader.pageCount(), 20);
    await assert.rejects(reader.readPage(20), /has no page 20/);
    await reader.close();
  });

  it('uses the page index and file time when the description is not JSON', async function () {
    await need(this, 'tifffile');
    const path = join(dir.path, 'plain.tif');
    await run(PYTHON, [
      '-c',
      `import tifffile, numpy; tifffile.imwrite(${JSON.stringify(path)}, numpy.zeros((2, 3), 'uint8'), description='hello', metadata=None)`,
    ]);
    const [page] = await readTiff(path);
    assert.equal(page!.description, 'hello');
    assert.equal(page!.frame.metadata.frameNumber, 0);
    assert.ok(page!.frame.metadata.timestamp > 0);
  });

  it('rejects non-TIFF, truncated and missing files with a StorageError naming the file', async () => {
    const text = join(dir.path, 'text.tif');
    await writeFile(text, 'this is not a tiff file');
    await assert.rejects(
      readTiff(text),
      (e: unknown) => e instanceof StorageError && e.message.includes(text) && /not a TIFF/.test(e.message),
    );
    const cut = join(dir.path, 'cut.tif');
    const writer = await TiffWriter.open(cut);
    await writer.write(testFrame('uint16', 64, 64));
    await writer.close();
    await truncate(cut, (await readFile(cut)).length - 100);
    await assert.rejects(readTiff(cut), (e: unknown) => e instanceof StorageError && /truncated/.test(e.message));
    await assert.rejects(
      readTiff(join(dir.path, 'missing.tif')),
      (e: unknown) => e instanceof StorageError && e.code === 'ENOENT',
    );
  });
});
