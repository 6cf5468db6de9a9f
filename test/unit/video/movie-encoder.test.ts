import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { makeFrame, sleep, type Frame } from '../../../core/index.js';
import { FfmpegProcess, mapPixel, MovieEncoder, VideoError } from '../../../video/index.js';
import { VIDEO_LUMA } from '../../../video/grey-kernel.js';
import { MappingThread } from '../../../video/mapping-thread.js';
import { rejectsWith } from '../../support/async.js';
import { useTempDir } from '../walkers/formats/helpers.js';
import { debianFfmpeg, decodeGrey, probe, rampFrame } from './helpers.js';

/** The pid of this process's ffmpeg child encoding a movie. */
function ffmpegChild(): number {
  const out = execFileSync('pgrep', ['-P', String(process.pid), '-f', 'rawvideo'], { encoding: 'utf8' });
  return Number(out.trim().split('\n')[0]);
}

async function encode(path: string, frames: Frame[], options = {}) {
  const movie = await MovieEncoder.open(path, options);
  for (const f of frames) await movie.write(f);
  return { movie, result: await movie.close() };
}

describe('video/movie-encoder', function () {
  this.timeout(60_000);
  const dir = useTempDir();

  it('writes h264/yuv420p with the frame count, fps and size asked for, read back by Debian ffprobe', async function () {
    debianFfmpeg(this);
    const out = join(dir.path, 'scan.mp4');
    const frames = Array.from({ length: 24 }, (_, i) => rampFrame(i, 64, 48));
    const { result } = await encode(out, frames, { fps: 12 });
    assert.deepEqual(
      { frames: result.frames, width: result.width, height: result.height, verified: result.verified },
      { frames: 24, width: 64, height: 48, verified: 'demux' },
    );
    assert.deepEqual(await probe(out), {
      codec: 'h264',
      pixFmt: 'yuv420p',
      width: 64,
      height: 48,
      fps: 12,
      frames: 24,
    });
    assert.deepEqual(await readdir(dir.path), ['scan.mp4'], 'no partial file left');
  });

  it('scales into size keeping the aspect ratio and pads; odd frame sizes are padded to even', async function () {
    debianFfmpeg(this);
    const sized = join(dir.path, 'sized.mp4');
    await encode(sized, [rampFrame(0, 64, 48), rampFrame(1, 64, 48)], { fps: 25, size: '320x320' });
    assert.deepEqual(await probe(sized), {
      codec: 'h264',
      pixFmt: 'yuv420p',
      width: 320,
      height: 320,
      fps: 25,
      frames: 2,
    });
    const odd = join(dir.path, 'odd.mp4');
    const { result } = await encode(odd, [rampFrame(0, 33, 17), rampFrame(1, 33, 17), rampFrame(2, 33, 17)], {
      fps: 5,
    });
    assert.deepEqual([result.width, result.height], [34, 18]);
    assert.deepEqual(await probe(odd), { codec: 'h264', pixFmt: 'yuv420p', width: 34, height: 18, fps: 5, frames: 3 });
  });

  it("grey frames of even size go to ffmpeg as yuv420p: our video-range luma is ffmpeg's own gray → yuv420p", async function () {
    // Our ffmpeg converts every grey level 0 … 255 (a 256×2 ramp): its luma plane is VIDEO_LUMA.
    const ramp = Uint8Array.from({ length: 512 }, (_, k) => k & 255);
    const ffmpeg = FfmpegProcess.spawn({
      stdin: true,
      stdout: true,
      args: ['-f', 'rawvideo', '-pix_fmt', 'gray', '-video_size', '256x2', '-i', 'pipe:0'].concat([
        '-f',
        'rawvideo',
        '-pix_fmt',
        'yuv420p',
        'pipe:1',
      ]),
    });
    const out = (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of ffmpeg.chunks(256 * 2 * 1.5)) chunks.push(chunk);
      return chunks;
    })();
    await ffmpeg.write(ramp);
    await ffmpeg.end();
    const [yuv] = await out;
    assert.deepEqual([...yuv!.subarray(0, 256)], [...VIDEO_LUMA]);
    assert.ok(
      yuv!.subarray(512).every((v) => v === 128),
      'constant chroma',
    );
    // …so an even-sized movie is encoded from yuv420p: ffmpeg converts nothing (no filter either).
    const encoder = await MovieEncoder.open(join(dir.path, 'even.mp4'), { contrast: { min: 0, max: 4000 } });
    await encoder.write(rampFrame(0, 64, 48));
    await encoder.write(rampFrame(1, 64, 48));
    const command = (await readFile(`/proc/${ffmpegChild()}/cmdline`, 'utf8')).split('\0').join(' ');
    assert.match(command, /-pix_fmt yuv420p -video_size 64x48/);
    assert.doesNotMatch(command, /-vf/);
    await encoder.close();
  });

  it('a decoded frame matches the contrast mapping of its source frame within ±2 grey levels', async function () {
    // crf 0 is lossless h264: what is left is the contrast mapping and the grey → yuv420p → grey
    // range conversion (±1). Lossy crf adds the codec's error on top (tested below).
    const ffmpeg = debianFfmpeg(this);
    for (const [name, contrast, width, height] of [
      ['auto', undefined, 64, 48],
      ['fixed', { min: 1200, max: 5000 }, 33, 17],
    ] as const) {
      const out = join(dir.path, `${name}.mp4`);
      const frames = Array.from({ length: 12 }, (_, i) => rampFrame(i, width, height));
      const { movie } = await encode(out, frames, { fps: 10, contrast, crf: 0 });
      const [min, max] = movie.window!;
      if (contrast) assert.deepEqual([min, max], [contrast.min, contrast.max]);
      const decoded = await decodeGrey(ffmpeg, out);
      assert.equal(decoded.images.length, 12);
      let worst = 0;
      for (const [i, image] of decoded.images.entries()) {
        const source = frames[i]!;
        for (let y = 0; y < height; y++)
          for (let x = 0; x < width; x++) {
            const expected = mapPixel(source.data[y * width + x]!, min, max);
            worst = Math.max(worst, Math.abs(image[y * decoded.width + x]! - expected));
          }
      }
      assert.ok(worst <= 2, `${name}: worst difference ${worst} grey levels`);
    }
  });

  it('large grey frames go through the shared-memory slots (luma and chroma in one write): every frame, mapped exactly', async function () {
    // 320×240 = 76 800 px: past the mapping thread's threshold (2¹⁶), so each frame is copied into a
    // slot, mapped there by the SIMD kernel (an integer window) and written from it with its chroma.
    const ffmpeg = debianFfmpeg(this);
    const [width, height] = [320, 240];
    const thread = MappingThread.shared();
    for (let i = 0; i < 600 && !thread.ready; i++) await sleep(50);
    const before = thread.inSlots;
    const out = join(dir.path, 'slots.mp4');
    const frames = Array.from({ length: 20 }, (_, i) => rampFrame(i, width, height));
    const { result } = await encode(out, frames, { fps: 10, contrast: { min: 1200, max: 5000 }, crf: 0 });
    assert.equal(result.frames, 20);
    assert.equal(thread.inSlots - before, 20, 'every frame was mapped in a slot');
    const decoded = await decodeGrey(ffmpeg, out);
    assert.equal(decoded.images.length, 20);
    let worst = 0;
    for (const [i, image] of decoded.images.entries())
      for (let k = 0; k < width * height; k++)
        worst = Math.max(worst, Math.abs(image[k]! - mapPixel(frames[i]!.data[k]!, 1200, 5000)));
    assert.ok(worst <= 2, `worst difference ${worst} grey levels`);
  });

  it('at the default crf 18, decoded frames stay within one grey level of the mapping on average', async function () {
    const ffmpeg = debianFfmpeg(this);
    const out = join(dir.path, 'lossy.mp4');
    const frames = Array.from({ length: 6 }, (_, i) => rampFrame(i, 256, 256));
    const { movie } = await encode(out, frames);
    const [min, max] = movie.window!;
    const { images } = await decodeGrey(ffmpeg, out);
    let sum = 0;
    for (const [i, image] of images.entries())
      for (let k = 0; k < image.length; k++) sum += Math.abs(image[k]! - mapPixel(frames[i]!.data[k]!, min, max));
    const mean = sum / (images.length * 256 * 256);
    assert.ok(mean < 1, `mean absolute difference ${mean.toFixed(2)} grey levels`);
  });

  it('maps float frames per frame and burns in the frame number', async function () {
    const ffmpeg = debianFfmpeg(this);
    const out = join(dir.path, 'float.mp4');
    const frames = [0, 1].map((i) => {
      const data = new Float32Array(96 * 64).map((_, k) => (k % 96) * (i + 1) * 0.01);
      return makeFrame(data, [64, 96], { frameNumber: 7 + i });
    });
    await encode(out, frames, { contrast: 'frame', overlay: ['frameNumber'], crf: 0 });
    const { images } = await decodeGrey(ffmpeg, out);
    // Per-frame contrast: both ramps span black to white whatever their scale.
    for (const image of images) {
      assert.ok(
        image[40 * 96 + 0]! <= 2 && image[40 * 96 + 95]! >= 250,
        `row ends ${image[40 * 96]} … ${image[40 * 96 + 95]}`,
      );
      // The overlay's black box and white glyphs are in the top-left corner.
      const corner = image.subarray(0, 96 * 9);
      assert.ok(corner.some((v) => v >= 250) && corner.some((v) => v <= 5), 'overlay drawn');
    }
  });

  it('refuses frames of another size, bad options, and an empty movie', async () => {
    const movie = await MovieEncoder.open(join(dir.path, 'x.mp4'));
    await movie.write(rampFrame(0, 16, 16));
    await rejectsWith(movie.write(rampFrame(1, 16, 8)), VideoError, /is 16×8 px, the first was 16×16 px/);
    assert.deepEqual(await readdir(dir.path), []);
    await rejectsWith(MovieEncoder.open(join(dir.path, 'y.mp4'), { size: '33x20' }), Error, /even width and height/);
    await rejectsWith(
      MovieEncoder.open(join(dir.path, 'y.mp4'), { fps: 0 }),
      Error,
      /option 'fps' must be a finite number in \(0, 1000\]/,
    );
    await rejectsWith(
      MovieEncoder.open(join(dir.path, 'y.mp4'), { speed: 2 } as never),
      Error,
      /unknown option 'speed' \(allowed: /,
    );
    const empty = await MovieEncoder.open(join(dir.path, 'empty.mp4'));
    await rejectsWith(empty.close(), VideoError, /no frames were written/);
  });

  it("fails with ffmpeg's exit code and log when the output cannot be written", async () => {
    const movie = await MovieEncoder.open(join(dir.path, 'missing', 'x.mp4'));
    const error = await rejectsWith(
      (async () => {
        for (let i = 0; i < 12; i++) await movie.write(rampFrame(i, 16, 16));
        await movie.close();
      })(),
      Error,
    );
    assert.equal(error.name, 'FfmpegError');
    assert.match(error.message, /failed with exit code \d+ while encoding .*missing\/x\.mp4/);
    assert.ok(
      (error as unknown as { log: string[] }).log.some((l) => /No such file or directory/.test(l)),
      error.message,
    );
  });
});
