/**
 * Colour (rgb24) frames from FfmpegCamera: ffmpeg's lavfi `testsrc` decoded by the camera equals
 * ffmpeg's own rgb24 decoding of it, pixel for pixel; mirror, rotate and the ROI move whole
 * pixels (3 samples, in order); TIFF pages are RGB (photometric 2, 3 samples per pixel) as
 * tifffile reads them; mp4 keeps the colours (Debian's ffmpeg decodes them back); grey-only
 * consumers refuse colour naming the pixel format.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFrame, ParameterError, q, requireGrey, type Frame } from '../../../../core/index.js';
import { FfmpegCamera } from '../../../../devices/cameras/ffmpeg.js';
import { mirrorRotate } from '../../../../devices/cameras/orientation.js';
import { decodeMessage, encodeFrame } from '../../../../transport/zmq/index.js';
import { MovieEncoder, runFfmpeg } from '../../../../video/index.js';
import { TiffWriter } from '../../../../walkers/formats/index.js';
import { PYTHON, requirePythonModule } from '../../../support/tools.js';
import { debianFfmpeg, probe } from '../../video/helpers.js';

const W = 64;
const H = 48;
const SOURCE = `testsrc=size=${W}x${H}:rate=25`;

/** ffmpeg's own rgb24 decoding of the first frame of `SOURCE`. */
async function referenceFrame(): Promise<Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), 'concert-rgb-ref-'));
  try {
    const out = join(dir, 'ref.rgb');
    await runFfmpeg({
      args: ['-f', 'lavfi', '-i', SOURCE, '-frames:v', '1', '-pix_fmt', 'rgb24', '-f', 'rawvideo', out],
    });
    const { readFileSync } = await import('node:fs');
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The pixel (r, c) of an rgb24 image `w` wide. */
function pixel(data: Uint8Array, w: number, r: number, c: number): number[] {
  const at = (r * w + c) * 3;
  return [data[at]!, data[at + 1]!, data[at + 2]!];
}

const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('FfmpegCamera rgb24 (colour frames)', function () {
  this.timeout(60_000);
  let dir = '';
  let reference: Uint8Array;
  let first: Frame;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'concert-rgb-'));
    reference = await referenceFrame();
    const camera = await FfmpegCamera.create({
      source: `lavfi:${SOURCE}`,
      pixelFormat: 'rgb24',
      frameRate: q(25, 'Hz'),
    });
    first = await camera.recording(() => camera.grab());
    await camera.disconnect();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("a frame is [height, width] with channels 3: ffmpeg's testsrc colours, pixel for pixel", () => {
    assert.deepEqual(first.shape, [H, W]);
    assert.equal(first.channels, 3);
    assert.equal(first.dtype, 'uint8');
    assert.equal(first.data.length, W * H * 3);
    assert.equal(first.metadata.pixelFormat, 'rgb24');
    assert.equal(reference.length, W * H * 3);
    assert.equal(sha(first.data as Uint8Array), sha(reference), 'the first frame is testsrc frame 0');
    // testsrc is colourful: more than a handful of distinct colours, and not grey
    const colours = new Set<string>();
    for (let i = 0; i < W * H; i++) colours.add(pixel(reference, W, Math.floor(i / W), i % W).join(','));
    assert.ok(colours.size > 8, `${colours.size} colours`);
    assert.ok(
      [...colours].some((c) => new Set(c.split(',')).size > 1),
      'some pixels are not grey',
    );
  });

  it('mirror, rotate and the ROI move whole pixels, samples in order', async () => {
    const m = mirrorRotate(first, true, 0);
    assert.equal(m.channels, 3);
    assert.deepEqual(pixel(m.data as Uint8Array, W, 5, 0), pixel(reference, W, 5, W - 1));
    const r = mirrorRotate(first, false, 1); // a quarter turn counter-clockwise: (r, c) ← (c, W-1-r)
    assert.deepEqual(r.shape, [W, H]);
    assert.deepEqual(pixel(r.data as Uint8Array, H, 3, 7), pixel(reference, W, 7, W - 1 - 3));
    const camera = await FfmpegCamera.create({
      source: `lavfi:${SOURCE}`,
      pixelFormat: 'rgb24',
      frameRate: q(25, 'Hz'),
    });
    await camera.setRoiWidth(q(20, 'px'));
    await camera.setRoiHeight(q(16, 'px'));
    await camera.setRoiX0(q(10, 'px'));
    await camera.setRoiY0(q(4, 'px'));
    await camera.param('mirror').set(true);
    const f = await camera.recording(() => camera.grab());
    await camera.disconnect();
    assert.deepEqual(f.shape, [16, 20]);
    assert.equal(f.channels, 3);
    for (const [r0, c0] of [
      [0, 0],
      [15, 19],
      [7, 3],
    ] as const)
      assert.deepEqual(
        pixel(f.data as Uint8Array, 20, r0, c0),
        pixel(reference, W, 4 + r0, 10 + (19 - c0)),
        `(${r0}, ${c0})`,
      );
  });

  it('a TIFF page is RGB (photometric 2, 3 samples per pixel) as tifffile reads it', async function () {
    requirePythonModule(this, 'tifffile', 'python3-tifffile');
    const path = join(dir, 'colour.tif');
    const writer = await TiffWriter.open(path);
    await writer.write(first);
    await writer.write(mirrorRotate(first, false, 1));
    await writer.close();
    const script = [
      'import sys, json, hashlib, tifffile',
      'with tifffile.TiffFile(sys.argv[1]) as t:',
      '  out = []',
      '  for p in t.pages:',
      '    a = p.asarray()',
      '    out.append(dict(shape=list(a.shape), dtype=str(a.dtype), photometric=int(p.photometric),',
      '      samples=int(p.samplesperpixel), planar=int(p.planarconfig), sha=hashlib.sha256(a.tobytes()).hexdigest()))',
      'print(json.dumps(out))',
    ].join('\n');
    const run = spawnSync(PYTHON, ['-c', script, path], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const pages = JSON.parse(run.stdout) as {
      shape: number[];
      dtype: string;
      photometric: number;
      samples: number;
      planar: number;
      sha: string;
    }[];
    assert.equal(pages.length, 2);
    assert.deepEqual(pages[0], {
      shape: [H, W, 3],
      dtype: 'uint8',
      photometric: 2,
      samples: 3,
      planar: 1,
      sha: sha(reference),
    });
    assert.deepEqual(pages[1]!.shape, [W, H, 3]);
  });

  it('mp4 keeps the colours: red stays red, blue stays blue (Debian ffmpeg decodes it)', async function () {
    const ffmpeg = debianFfmpeg(this);
    // left half red, right half blue: a swapped channel order would show at once
    const data = new Uint8Array(W * H * 3);
    for (let i = 0; i < W * H; i++) data.set(i % W < W / 2 ? [230, 20, 20] : [20, 20, 230], i * 3);
    const path = join(dir, 'colour.mp4');
    const movie = await MovieEncoder.open(path, { fps: 10 });
    for (let n = 0; n < 10; n++) await movie.write(makeFrame(data, [H, W], { frameNumber: n }, 3));
    await assert.rejects(
      movie.write(makeFrame(new Uint8Array(W * H), [H, W])),
      /is uint8, the movie's first frame was rgb24/,
    );
    const movie2 = await MovieEncoder.open(path, { fps: 10 });
    for (let n = 0; n < 10; n++) await movie2.write(makeFrame(data, [H, W], { frameNumber: n }, 3));
    const result = await movie2.close();
    assert.equal(result.frames, 10);
    const p = await probe(path);
    assert.deepEqual([p.codec, p.width, p.height, p.frames], ['h264', W, H, 10]);
    const decoded = spawnSync(
      ffmpeg,
      ['-v', 'error', '-i', path, '-frames:v', '1', '-pix_fmt', 'rgb24', '-f', 'rawvideo', '-'],
      {
        maxBuffer: 1 << 24,
      },
    );
    assert.equal(decoded.status, 0, String(decoded.stderr));
    const rgb = new Uint8Array(decoded.stdout);
    const [r1, g1, b1] = pixel(rgb, W, H / 2, 8);
    const [r2, g2, b2] = pixel(rgb, W, H / 2, W - 8);
    assert.ok(r1! > 180 && g1! < 70 && b1! < 70, `left is red: ${[r1, g1, b1]}`);
    assert.ok(b2! > 180 && r2! < 70 && g2! < 70, `right is blue: ${[r2, g2, b2]}`);
  });

  it('the wire format carries colour as numpy does ([height, width, 3] uint8)', () => {
    const parts = encodeFrame(first);
    assert.deepEqual((JSON.parse(parts[0]!.toString()) as { shape: number[] }).shape, [H, W, 3]);
    const back = decodeMessage(parts);
    assert.equal(back.kind, 'frame');
    if (back.kind !== 'frame') return;
    assert.equal(back.frame.channels, 3);
    assert.equal(sha(back.frame.data as Uint8Array), sha(reference));
  });

  it('grey-only consumers refuse colour, naming the pixel format and the camera', () => {
    assert.throws(
      () => requireGrey(first, 'the reconstruction'),
      (e: unknown) =>
        e instanceof ParameterError &&
        /^the reconstruction takes grey frames, but frame 0 from camera '\w+' is rgb24 \(colour\): /.test(e.message) &&
        /set the camera's pixelFormat to gray8 or gray16le/.test(e.message),
    );
  });
});
