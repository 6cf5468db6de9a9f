import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DTYPES, makeFrame } from '../../../../core/frame.js';
import type { Frame } from '../../../../core/frame.js';
import { StorageError } from '../../../../walkers/formats/errors.js';
import { readTiff, TiffReader } from '../../../../walkers/formats/tiff-reader.js';
import { PARTIAL_SUFFIX, TiffWriter } from '../../../../walkers/formats/tiff-writer.js';
import type { TiffWriterOptions } from '../../../../walkers/formats/tiff-writer.js';
import { base64Of, HERE, need, PYTHON, run, testFrame, useTempDir } from './helpers.js';

interface Checked {
  bigtiff: boolean;
  byteorder: string;
  pages: { shape: number[]; dtype: string; description: string; data: string }[];
}

async function writeTiff(path: string, frames: Frame[], options?: TiffWriterOptions): Promise<void> {
  const writer = await TiffWriter.open(path, options);
  for (const frame of frames) await writer.write(frame);
  await writer.close();
}

function assertSameFrame(actual: Frame, expected: Frame): void {
  assert.equal(actual.dtype, expected.dtype);
  assert.deepEqual(actual.shape, expected.shape);
  assert.equal(base64Of(actual), base64Of(expected));
  assert.deepEqual(actual.metadata, expected.metadata);
}

describe('TiffWriter', function () {
  this.timeout(60_000); // generous: Python and h5wasm start slowly on a loaded 2-core machine
  const dir = useTempDir();

  for (const bigTiff of [false, true]) {
    const kind = bigTiff ? 'BigTIFF' : 'classic TIFF';
    it(`round-trips every dtype through our reader, single-page, ${kind}`, async () => {
      for (const dtype of DTYPES) {
        const frame = testFrame(dtype, 5, 7, 3, { angle: 12.5, image_key: 0, note: 'µm ✓' });
        const path = join(dir.path, `${dtype}.tif`);
        await writeTiff(path, [frame], { bigTiff });
        const reader = await TiffReader.open(path);
        assert.equal(reader.bigTiff, bigTiff);
        assert.equal(await reader.pageCount(), 1);
        await reader.close();
        const [page] = await readTiff(path);
        assertSameFrame(page!.frame, frame);
        assert.deepEqual(JSON.parse(page!.description!), frame.metadata);
      }
    });

    it(`round-trips multi-page files of mixed dtypes and shapes, ${kind}`, async () => {
      const frames = DTYPES.map((dtype, i) => testFrame(dtype, 3 + i, 9 - i, i));
      const path = join(dir.path, 'multi.tif');
      await writeTiff(path, frames, { bigTiff, rowsPerStrip: 2 });
      const pages = await readTiff(path);
      assert.equal(pages.length, frames.length);
      pages.forEach((page, i) => assertSameFrame(page.frame, frames[i]!));
    });

    it(`writes files tifffile reads exactly (pixels and JSON description), ${kind}`, async function () {
      await need(this, 'tifffile');
      const frames = [
        ...DTYPES.map((dtype, i) => testFrame(dtype, 4, 6, i, { angle: i * 0.5 })),
        testFrame('uint16', 64, 48, 9),
      ];
      const path = join(dir.path, 'check.tif');
      await writeTiff(path, frames, { bigTiff, rowsPerStrip: bigTiff ? 5 : undefined });
      const checked = JSON.parse(await run(PYTHON, [join(HERE, 'check_tiff.py'), path])) as Checked;
      assert.equal(checked.bigtiff, bigTiff);
      assert.equal(checked.byteorder, '<');
      assert.equal(checked.pages.length, frames.length);
      checked.pages.forEach((page, i) => {
        const frame = frames[i]!;
        assert.equal(page.dtype, frame.dtype);
        assert.deepEqual(page.shape, frame.shape);
        assert.equal(page.data, base64Of(frame), `pixels of page ${i}`);
        assert.deepEqual(JSON.parse(page.description), frame.metadata);
      });
    });

    it(`writes files libtiff's tiffinfo accepts without warnings, ${kind}`, async function () {
      await need(this, 'tiffinfo');
      const frames = [testFrame('uint16', 16, 16, 0), testFrame('float32', 8, 4, 1), testFrame('uint8', 3, 3, 2)];
      const path = join(dir.path, 'info.tif');
      await writeTiff(path, frames, { bigTiff });
      const output = await run('tiffinfo', ['-D', path]);
      assert.equal((output.match(/=== TIFF directory/g) ?? []).length, 3);
      assert.match(output, /Image Width: 16 Image Length: 16/);
      assert.match(output, /Bits\/Sample: 32\s+Sample Format: IEEE floating point/);
      assert.match(output, /ImageDescription: \{"frameNumber":1,/);
      assert.doesNotMatch(output, /warning|error|unknown/i);
    });
  }

  it('writeFile() writes a complete single-page file in one go', async function () {
    const frame = testFrame('uint16', 9, 11, 4, { angle: 1 });
    const path = join(dir.path, 'single.tif');
    const writer = await TiffWriter.writeFile(path, frame);
    assert.deepEqual(await readdir(dir.path), ['single.tif']);
    assert.equal((await stat(path)).size, writer.bytesWritten);
    const pages = await readTiff(path);
    assert.equal(pages.length, 1);
    assertSameFrame(pages[0]!.frame, frame);
    await need(this, 'tiffinfo');
    const output = await run('tiffinfo', [path]);
    assert.equal((output.match(/=== TIFF directory/g) ?? []).length, 1);
    assert.doesNotMatch(output, /warning|error/i);
  });

  it('keeps writes in call order when they overlap', async () => {
    const frames = [0, 1, 2, 3, 4].map((i) => testFrame('uint16', 4, 4, i));
    const path = join(dir.path, 'order.tif');
    const writer = await TiffWriter.open(path);
    await Promise.all(frames.map((f) => writer.write(f)));
    await writer.close();
    const pages = await readTiff(path);
    assert.deepEqual(
      pages.map((p) => p.frame.metadata.frameNumber),
      [0, 1, 2, 3, 4],
    );
  });

  it('writes pixels from a view into a larger buffer without copying the wrong bytes', async () => {
    const backing = new Uint16Array(100).map((_, i) => i);
    const frame = makeFrame(backing.subarray(10, 22), [3, 4], { frameNumber: 0, timestamp: 1 });
    const path = join(dir.path, 'view.tif');
    await writeTiff(path, [frame]);
    const [page] = await readTiff(path);
    assert.deepEqual([...page!.frame.data], [...backing.subarray(10, 22)]);
  });

  it('leaves an unclosed file recognizably incomplete: only <name>.partial exists', async () => {
    const path = join(dir.path, 'cut.tif');
    const writer = await TiffWriter.open(path);
    await writer.write(testFrame('uint16', 8, 8, 0));
    await writer.write(testFrame('uint16', 8, 8, 1));
    assert.deepEqual(await readdir(dir.path), ['cut.tif' + PARTIAL_SUFFIX]);
    assert.equal(writer.partialPath, path + PARTIAL_SUFFIX);
    // Its IFD chain runs past the end of the file: our reader sees it truncated.
    await assert.rejects(
      readTiff(writer.partialPath),
      (e: unknown) => e instanceof StorageError && /truncated/.test(e.message),
    );
    await writer.abort();
    assert.deepEqual(await readdir(dir.path), []);
  });

  it('renames on close, creates nothing when no page was written, and closes twice harmlessly', async () => {
    const empty = await TiffWriter.open(join(dir.path, 'empty.tif'));
    await empty.close();
    assert.deepEqual(await readdir(dir.path), []);
    const writer = await TiffWriter.open(join(dir.path, 'one.tif'));
    await writer.write(testFrame('uint8', 2, 2));
    await writer.close();
    await writer.close();
    assert.deepEqual(await readdir(dir.path), ['one.tif']);
    assert.equal((await stat(join(dir.path, 'one.tif'))).size, writer.bytesWritten);
    await assert.rejects(writer.write(testFrame('uint8', 2, 2)), /writer is closed/);
  });

  it('refuses to overwrite an existing file unless asked', async () => {
    const path = join(dir.path, 'exists.tif');
    await writeFile(path, 'x');
    await assert.rejects(
      TiffWriter.open(path),
      (e: unknown) => e instanceof StorageError && /exists\.tif: the file already exists/.test(e.message),
    );
    assert.deepEqual((await readdir(dir.path)).sort(), ['exists.tif'], 'no .partial file is left behind');
    await writeTiff(path, [testFrame('uint8', 2, 2)], { overwrite: true });
    assert.equal((await readTiff(path)).length, 1);
  });

  it('leaves a leftover .partial file alone when refusing an existing file, and reuses it otherwise', async () => {
    const path = join(dir.path, 'both.tif');
    await writeFile(path, 'complete');
    await writeFile(path + PARTIAL_SUFFIX, 'leftover');
    await assert.rejects(TiffWriter.open(path), /both\.tif: the file already exists/);
    assert.equal(await readFile(path + PARTIAL_SUFFIX, 'utf8'), 'leftover');
    await writeTiff(join(dir.path, 'other.tif'), [testFrame('uint8', 2, 2)]);
    await writeFile(join(dir.path, 'next.tif') + PARTIAL_SUFFIX, 'leftover of a crash');
    await writeTiff(join(dir.path, 'next.tif'), [testFrame('uint8', 2, 2)]);
    assert.equal((await readTiff(join(dir.path, 'next.tif'))).length, 1);
    assert.ok(!(await readdir(dir.path)).includes('next.tif' + PARTIAL_SUFFIX));
  });

  it('rejects with a StorageError naming the file for a missing or unwritable directory', async () => {
    const missingDir = join(dir.path, 'nope', 'frame.tif');
    await assert.rejects(TiffWriter.open(missingDir), (e: unknown) => {
      assert.ok(e instanceof StorageError);
      assert.equal(e.code, 'ENOENT');
      assert.match(e.message, /^cannot create .*nope\/frame\.tif\.partial: ENOENT/);
      return true;
    });
    const aFile = join(dir.path, 'file');
    await writeFile(aFile, 'x');
    await assert.rejects(
      TiffWriter.open(join(aFile, 'frame.tif')),
      (e: unknown) => e instanceof StorageError && e.code === 'ENOTDIR',
    );
  });

  it('rejects with EACCES in a read-only directory', async function () {
    if (process.getuid?.() === 0) {
      console.log('      skipped: running as root, permissions are not enforced');
      this.skip();
    }
    const ro = join(dir.path, 'ro');
    await import('node:fs/promises').then((fs) => fs.mkdir(ro));
    await chmod(ro, 0o500);
    await assert.rejects(
      TiffWriter.open(join(ro, 'f.tif')),
      (e: unknown) => e instanceof StorageError && e.code === 'EACCES',
    );
  });

  it('rejects a write that runs out of space with a StorageError and leaves no complete file', async function () {
    this.timeout(90_000); // a child process loads tsx
    // RLIMIT_FSIZE stands in for a full disk: with SIGXFSZ ignored, write() fails with EFBIG.
    const script = join(dir.path, 'full.mts');
    const module = (p: string) => JSON.stringify(new URL(p, import.meta.url).pathname);
    await writeFile(
      script,
      `import { TiffWriter } from ${module('../../../../walkers/formats/tiff-writer.ts')};
       import { makeFrame } from ${module('../../../../core/frame.ts')};
       const w = await TiffWriter.open(process.argv[2] + '/big.tif');
       await w.write(makeFrame(new Uint8Array(64 * 1024), [256, 256]));
       try { await w.write(makeFrame(new Uint8Array(1024 * 1024), [1024, 1024])); console.log('no error'); }
       catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); }
       await w.close();`,
    );
    const tsx = new URL('../../../../node_modules/.bin/tsx', import.meta.url).pathname;
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn('bash', ['-c', `trap '' XFSZ; ulimit -f 512; exec "${tsx}" "${script}" "${dir.path}"`]);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', reject);
      child.on('close', () => resolve(out));
    });
    const line = output.split('\n').find((l) => l.startsWith('{'));
    if (line === undefined) {
      console.log(`      skipped: could not limit the file size here: ${output.trim().slice(0, 200)}`);
      this.skip();
    }
    const error = JSON.parse(line) as { name: string; code: string; message: string };
    assert.equal(error.name, 'StorageError');
    assert.equal(error.code, 'EFBIG');
    assert.match(error.message, /^cannot write .*big\.tif\.partial: EFBIG/);
    assert.deepEqual((await readdir(dir.path)).sort(), ['big.tif.partial', 'full.mts']);
  });

  it('refuses a page that would push a classic TIFF past 4 GiB, without failing the writer', async () => {
    const path = join(dir.path, 'x.tif');
    const writer = await TiffWriter.open(path, { bigTiff: false });
    await writer.write(testFrame('uint8', 4, 4, 0));
    // A stand-in for a 4 GiB frame: the writer refuses it before touching its pixels.
    const huge = {
      data: { length: 2 ** 31, BYTES_PER_ELEMENT: 2 },
      shape: [2 ** 15, 2 ** 16],
      dtype: 'uint16',
      metadata: { frameNumber: 1, timestamp: 0 },
    };
    assert.ok(writer.sizeWith(huge as never) > 2 ** 32);
    await assert.rejects(
      writer.write(huge as never),
      (e: unknown) => e instanceof StorageError && /larger than 4 GiB/.test(e.message),
    );
    await writer.write(testFrame('uint8', 4, 4, 2));
    await writer.close();
    assert.deepEqual(
      (await readTiff(path)).map((p) => p.frame.metadata.frameNumber),
      [0, 2],
    );
  });

  it("chooses BigTIFF with 'auto' when expectedBytes reaches 4 GiB", async () => {
    const path = join(dir.path, 'auto.tif');
    const writer = await TiffWriter.open(path, { bigTiff: 'auto', expectedBytes: 2 ** 32 });
    assert.equal(writer.isBigTiff, undefined);
    await writer.write(testFrame('uint16', 4, 4));
    assert.equal(writer.isBigTiff, true);
    await writer.close();
    const small = await TiffWriter.open(join(dir.path, 'small.tif'), { expectedBytes: 2 ** 32 - 1 });
    await small.write(testFrame('uint16', 4, 4));
    assert.equal(small.isBigTiff, false);
    await small.close();
    const reader = await TiffReader.open(path);
    assert.equal(reader.bigTiff, true);
    await reader.close();
  });

  it('rejects frames whose data does not match shape or dtype', async () => {
    const writer = await TiffWriter.open(join(dir.path, 'bad.tif'));
    const bad = {
      data: new Uint16Array(5),
      shape: [2, 3] as const,
      dtype: 'uint16' as const,
      metadata: { frameNumber: 4, timestamp: 0 },
    };
    await assert.rejects(
      writer.write(bad),
      (e: unknown) => e instanceof StorageError && /frame 4 has shape \[2, 3\]/.test(e.message),
    );
    await writer.abort();
  });
});
