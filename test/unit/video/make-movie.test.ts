import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeFrame, type Frame } from '../../../core/index.js';
import { exportFrames, FfmpegError, makeMovie, VideoError } from '../../../video/index.js';
import { MultiFileWriter, TiffWriter } from '../../../walkers/formats/index.js';
import { delay, rejectsWith } from '../../support/async.js';
import { useTempDir } from '../walkers/formats/helpers.js';
import { debianFfmpeg, decodeGrey, probe, rampFrame } from './helpers.js';

const flat = (value: number, i = 0) => makeFrame(new Uint8Array(32 * 24).fill(value), [24, 32], { frameNumber: i });

/** Our ffmpeg processes that are children of this process. */
function childFfmpegs(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([, comm]) => comm === 'ffmpeg')
    .map(([pid]) => Number(pid));
}

describe('video/make-movie and export-frames', function () {
  this.timeout(90_000);
  const dir = useTempDir();

  async function pngFrames(n: number, frameFor: (i: number) => Frame = (i) => rampFrame(i, 64, 48)): Promise<string> {
    const framesDir = join(dir.path, 'frames');
    const exporter = exportFrames(
      Array.from({ length: n }, (_, i) => frameFor(i)),
      framesDir,
    );
    await exporter.done;
    return framesDir;
  }

  it(
    'exports in the background with progress 0…1, refuses a second export meanwhile, then makes the movie and erases ' +
      'the frames',
    async function () {
      debianFfmpeg(this);
      const framesDir = join(dir.path, 'frames');
      async function* slow() {
        for (let i = 0; i < 20; i++) {
          await delay(10);
          yield rampFrame(i, 64, 48);
        }
      }
      const exporter = exportFrames(slow(), framesDir, { format: 'png', total: 20 });
      assert.ok(exporter.running);
      assert.throws(
        () => exportFrames([], join(dir.path, 'other')),
        (e: unknown) => e instanceof VideoError && /an export to .*frames is running/.test(e.message),
      );
      const seen: number[] = [];
      while ((await exporter.progress()) < 1) {
        seen.push(await exporter.progress());
        await delay(20);
      }
      const result = await exporter.done;
      assert.equal(result.frames, 20);
      assert.ok(
        seen.some((p) => p > 0 && p < 1),
        `progress seen: ${seen.join(', ')}`,
      );
      const files = (await readdir(framesDir)).sort();
      assert.equal(files.length, 20);
      assert.equal(files[0], 'frame_000000.png');
      const movie = await makeMovie({
        framesDir,
        out: join(dir.path, 'scan.mp4'),
        fps: 30,
        size: [128, 96],
        eraseFrames: true,
      });
      assert.equal(movie.erased, 20);
      assert.deepEqual([movie.width, movie.height, movie.frames], [128, 96, 20]);
      assert.deepEqual(await readdir(framesDir), []);
      assert.deepEqual(await probe(join(dir.path, 'scan.mp4')), {
        codec: 'h264',
        pixFmt: 'yuv420p',
        width: 128,
        height: 96,
        fps: 30,
        frames: 20,
      });
      // The next export works once the first is done.
      await exportFrames([flat(1)], join(dir.path, 'next')).done;
    },
  );

  it('sorts frames numerically, past 99 999 frames too', async function () {
    const ffmpeg = debianFfmpeg(this);
    const framesDir = await pngFrames(4, (i) => flat(40 + 60 * i, i));
    // Rename to unpadded numbers whose string order differs from their numeric order.
    const names = ['frame_99998.png', 'frame_99999.png', 'frame_100000.png', 'frame_100001.png'];
    for (let i = 3; i >= 0; i--) await rename(join(framesDir, `frame_00000${i}.png`), join(framesDir, names[i]!));
    const out = join(dir.path, 'order.mp4');
    await makeMovie({ framesDir, out, fps: 10, crf: 0 });
    const { images } = await decodeGrey(ffmpeg, out);
    assert.deepEqual(
      images.map((image) => Math.round(image[100]! / 10) * 10),
      [40, 100, 160, 220],
    );
    assert.equal((await readdir(framesDir)).length, 4, 'frames kept without eraseFrames');
  });

  it('eraseFrames keeps every frame when the output path is bad', async () => {
    const framesDir = await pngFrames(5);
    const error = await rejectsWith(
      makeMovie({ framesDir, out: join(dir.path, 'no', 'such', 'dir', 'x.mp4'), eraseFrames: true }),
      FfmpegError,
      /exit code \d+/,
    );
    assert.ok(error.exitCode !== null && error.exitCode !== 0);
    assert.equal((await readdir(framesDir)).length, 5);
  });

  it('eraseFrames keeps every frame when a frame is corrupt', async () => {
    const framesDir = await pngFrames(6);
    const victim = join(framesDir, 'frame_000003.png');
    const bytes = await readFile(victim);
    await writeFile(victim, bytes.subarray(0, bytes.length >> 1));
    await assert.rejects(makeMovie({ framesDir, out: join(dir.path, 'x.mp4'), eraseFrames: true }), (e: unknown) =>
      e instanceof VideoError ? /holds \d+ frames, but 6 were given/.test(e.message) : e instanceof FfmpegError,
    );
    assert.equal((await readdir(framesDir)).length, 6);
    assert.deepEqual((await readdir(dir.path)).sort(), ['frames'], 'no movie, not even a partial one');
  });

  it('eraseFrames keeps every frame when ffmpeg is killed mid-way; the error carries how it ended', async () => {
    const framesDir = join(dir.path, 'tiffs');
    await mkdir(framesDir);
    const writer = await MultiFileWriter.open(framesDir);
    for (let i = 0; i < 150; i++) await writer.write(rampFrame(i, 640, 480));
    await writer.close();
    const making = makeMovie({ framesDir, out: join(dir.path, 'x.mp4'), preset: 'slow', eraseFrames: true });
    let pids: number[] = [];
    for (let i = 0; i < 200 && pids.length === 0; i++) {
      await delay(20);
      pids = childFfmpegs();
    }
    assert.ok(pids.length > 0, 'ffmpeg started');
    await delay(200);
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    const error = await rejectsWith(making, FfmpegError, /was killed by SIGKILL while encoding/);
    assert.equal(error.exitCode, null);
    assert.equal((await readdir(framesDir)).length, 150);
    assert.deepEqual((await readdir(dir.path)).sort(), ['tiffs']);
  });

  it('makes movies from our TIFF datasets: a folder of single-page files and a multi-page file', async function () {
    debianFfmpeg(this);
    const folder = join(dir.path, 'radios');
    await mkdir(folder);
    const writer = await MultiFileWriter.open(folder);
    for (let i = 0; i < 7; i++) await writer.write(rampFrame(i, 33, 17));
    await writer.close();
    const a = await makeMovie({ framesDir: folder, out: join(dir.path, 'a.mp4'), fps: 7 });
    assert.deepEqual(await probe(a.path), {
      codec: 'h264',
      pixFmt: 'yuv420p',
      width: 34,
      height: 18,
      fps: 7,
      frames: 7,
    });
    const stack = await TiffWriter.open(join(dir.path, 'stack.tif'));
    for (let i = 0; i < 5; i++) await stack.write(rampFrame(i, 40, 30));
    await stack.close();
    const b = await makeMovie({
      framesDir: join(dir.path, 'stack.tif'),
      out: join(dir.path, 'b.mp4'),
      eraseFrames: true,
    });
    assert.equal(b.erased, 1);
    assert.equal((await probe(b.path)).frames, 5);
  });

  it('refuses an empty folder, mixed formats and missing options clearly', async () => {
    await rejectsWith(
      makeMovie({ framesDir: dir.path, out: join(dir.path, 'x.mp4') }),
      VideoError,
      /^no frames in .* \(looked for \.png/,
    );
    await writeFile(join(dir.path, 'a.png'), '');
    await writeFile(join(dir.path, 'b.tif'), '');
    await rejectsWith(
      makeMovie({ framesDir: dir.path, out: join(dir.path, 'x.mp4') }),
      VideoError,
      /mixes frame formats \(1 png, 1 tiff\)/,
    );
    await rejectsWith(makeMovie({ out: 'x.mp4' } as never), Error, /framesDir is required/);
    await rejectsWith(
      makeMovie({ framesDir: join(dir.path, 'nothing'), out: 'x.mp4' }),
      VideoError,
      /no such file or directory/,
    );
  });

  it('exports jpg (8-bit) and tiff (dtype and metadata kept), and can be cancelled', async function () {
    debianFfmpeg(this);
    const frames = Array.from({ length: 3 }, (_, i) => rampFrame(i, 33, 17));
    const jpg = await exportFrames(frames, join(dir.path, 'jpg'), { format: 'jpg' }).done;
    assert.deepEqual((await readdir(jpg.dir)).sort(), ['frame_000000.jpg', 'frame_000001.jpg', 'frame_000002.jpg']);
    assert.equal((await probe(jpg.first!)).codec, 'mjpeg');
    const tiff = await exportFrames(frames, join(dir.path, 'tif'), { format: 'tiff' }).done;
    const { readTiff } = await import('../../../walkers/formats/index.js');
    const [page] = await readTiff(tiff.first!);
    assert.deepEqual([...page!.frame.data], [...frames[0]!.data]);
    assert.equal(page!.frame.metadata.angle, 0);
    async function* endless() {
      for (let i = 0; ; i++) {
        await delay(5);
        yield rampFrame(i, 16, 16);
      }
    }
    const exporter = exportFrames(endless(), join(dir.path, 'endless'));
    await delay(100);
    await exporter.cancel();
    await assert.rejects(exporter.done, { name: 'AbortError' });
    assert.ok(!exporter.running);
    await rejectsWith(
      exportFrames(frames, join(dir.path, 'tif'), { format: 'tiff' }).done,
      VideoError,
      /already holds exported frames/,
    );
    assert.throws(
      () => exportFrames(frames, dir.path, { format: 'gif' as never }),
      /option 'format' must be one of "png", "jpg", "tiff"/,
    );
    assert.throws(
      () => exportFrames(frames, dir.path, { formt: 'png' } as never),
      /exportFrames: unknown option 'formt', did you mean 'format'\?/,
    );
  });
});
