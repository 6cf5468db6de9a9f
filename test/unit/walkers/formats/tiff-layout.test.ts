import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { makeFrame, type Frame } from '../../../../core/frame.js';
import { MultiFileWriter } from '../../../../walkers/formats/multi-file.js';
import { tiffDatasetSize } from '../../../../walkers/formats/tiff-layout.js';
import { useTempDir } from './helpers.js';

/** The bytes of every file in `dir`. */
async function bytesOnDisk(dir: string): Promise<{ bytes: number; files: number }> {
  const names = await readdir(dir);
  let bytes = 0;
  for (const name of names) bytes += (await stat(join(dir, name))).size;
  return { bytes, files: names.length };
}

function frames(count: number, height: number, width: number, extra: (i: number) => Record<string, unknown>): Frame[] {
  return Array.from({ length: count }, (_, i) =>
    makeFrame(new Uint16Array(height * width), [height, width], { frameNumber: i, ...extra(i) }),
  );
}

describe('tiffDatasetSize', function () {
  this.timeout(30_000);
  const dir = useTempDir();

  const cases: Array<[string, Frame[], number]> = [
    ['one file per frame, metadata of varying length', frames(25, 7, 13, (i) => ({ angle: i * 0.1, image_key: 0 })), 0],
    ['multi-page files split at bytesPerFile', frames(40, 32, 32, (i) => ({ angle: (i * 180) / 40 })), 3 * 2048 + 900],
    ['one multi-page file', frames(12, 5, 300, (i) => ({ note: 'x'.repeat(i) })), Infinity],
    ['tall frames (strip offsets out of line never happen: one strip)', frames(3, 2000, 3, () => ({})), 10_000],
  ];
  for (const [what, dataset, bytesPerFile] of cases)
    it(`is exact to the byte: ${what}`, async () => {
      const writer = await MultiFileWriter.open(dir.path, { bytesPerFile });
      for (const frame of dataset) await writer.write(frame);
      await writer.close();
      const estimate = tiffDatasetSize(dataset, { bytesPerFile });
      const disk = await bytesOnDisk(dir.path);
      assert.equal(estimate.bytes, disk.bytes);
      assert.equal(estimate.files, disk.files);
      assert.equal(estimate.bytes, writer.bytesWritten);
      assert.equal(
        estimate.pixelBytes,
        dataset.reduce((n, f) => n + f.data.byteLength, 0),
      );
    });

  it('counts BigTIFF headers when bytesPerFile reaches 4 GiB', async () => {
    const dataset = frames(3, 4, 4, () => ({}));
    const writer = await MultiFileWriter.open(dir.path, { bytesPerFile: 2 ** 33 });
    for (const frame of dataset) await writer.write(frame);
    await writer.close();
    assert.equal(tiffDatasetSize(dataset, { bytesPerFile: 2 ** 33 }).bytes, (await bytesOnDisk(dir.path)).bytes);
    assert.ok(
      tiffDatasetSize(dataset, { bytesPerFile: 2 ** 33 }).bytes >
        tiffDatasetSize(dataset, { bytesPerFile: 2 ** 20 }).bytes,
    );
  });

  it('is 0 bytes in 0 files for no frames', () => {
    assert.deepEqual(tiffDatasetSize([], {}), { bytes: 0, files: 0, pixelBytes: 0 });
  });
});
