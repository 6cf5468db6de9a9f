import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { q } from '../../../../core/index.js';
import { Camera as RemoteCamera } from '../../../../devices/cameras/remote.js';
import { FfmpegCamera, sourceKind } from '../../../../devices/cameras/ffmpeg.js';
import { runFfmpeg } from '../../../../video/index.js';
import { describeCamera } from '../../../conformance/camera.case.js';
import { delay, within } from '../../../support/async.js';
import { concertBin, root } from '../../session/support.js';

describe('FfmpegCamera', function () {
  this.timeout(60_000);

  describe("ffmpeg's lavfi test source", () => {
    describeCamera(() => FfmpegCamera.create({ source: 'lavfi:testsrc2=size=64x48:rate=100' }));
  });

  describe('a video file', () => {
    let dir = '';
    let file = '';
    after(() => rmSync(dir, { recursive: true, force: true }));
    before(async function () {
      this.timeout(60_000);
      dir = mkdtempSync(join(tmpdir(), 'concert-ffmpeg-'));
      file = join(dir, 'clip.mp4');
      await runFfmpeg({
        args: ['-f', 'lavfi', '-i', 'testsrc2=size=80x60:rate=25:duration=2', '-pix_fmt', 'yuv420p', '-y', file],
      });
    });
    describeCamera(() => FfmpegCamera.create({ source: file }), { frameRate: 25 });

    it('reads the size of the file, scales to width and height, and decodes gray16le', async () => {
      const camera = await FfmpegCamera.create({ source: file });
      assert.deepEqual(
        [(await camera.param('roiWidth').get()).toNumber('px'), (await camera.param('roiHeight').get()).toNumber('px')],
        [80, 60],
      );
      await camera.disconnect();
      const scaled = await FfmpegCamera.create({ source: file, width: 40, height: 30, pixelFormat: 'gray16le' });
      const frame = await scaled.recording(() => scaled.grab());
      assert.deepEqual(frame.shape, [30, 40]);
      assert.equal(frame.dtype, 'uint16');
      assert.ok(Math.max(...frame.data) > 255, 'sixteen-bit values');
      await scaled.disconnect();
    });
  });

  it('AUTO hands out frames at the frame rate set, SOFTWARE the newest after each trigger', async () => {
    const camera = await FfmpegCamera.create({ source: 'lavfi:testsrc2=size=32x24:rate=200' });
    await camera.param('frameRate').set(q('20 Hz'));
    const t0 = performance.now();
    const numbers = await camera.recording(async () => {
      const n: number[] = [];
      for (let i = 0; i < 10; i++) n.push((await camera.grab()).metadata.frameNumber);
      return n;
    });
    const elapsed = performance.now() - t0;
    assert.deepEqual(numbers, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.ok(elapsed > 350, `10 frames at 20 Hz took ${elapsed.toFixed(0)} ms`);
    await camera.param('triggerSource').set('SOFTWARE');
    await camera.recording(async () => {
      await camera.trigger();
      const a = await camera.grab();
      await new Promise((r) => setTimeout(r, 300));
      await camera.trigger();
      const b = await camera.grab();
      assert.ok(b.metadata.timestamp - a.metadata.timestamp >= 200, 'the newest frame, not a queued one');
    });
    await camera.disconnect();
  });

  it('concert serve camera --ffmpeg SOURCE serves it', async () => {
    const child = spawn(
      process.execPath,
      [concertBin, 'serve', 'camera', '--ffmpeg', 'lavfi:testsrc2=size=32x24:rate=30', '--pixel-format', 'gray16le'],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const endpoint = await within(
        60_000,
        (async () => {
          for (;;) {
            const m = /listening on (\S+)/.exec(out);
            if (m) return m[1]!;
            if (child.exitCode !== null) throw new Error(out);
            await delay(50);
          }
        })(),
        'the camera server starting',
      );
      const camera = await RemoteCamera.create({ endpoint });
      const frame = await camera.recording(() => camera.grab());
      assert.deepEqual(frame.shape, [24, 32]);
      assert.equal(frame.dtype, 'uint16');
      await camera.disconnect();
      child.kill('SIGTERM');
      assert.equal(await within(20_000, exited, 'the server stopping'), 0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('names a source ffmpeg cannot open', async () => {
    await assert.rejects(
      FfmpegCamera.create({ source: '/nonexistent/clip.mp4' }),
      /cannot open \/nonexistent\/clip\.mp4/,
    );
    assert.equal(sourceKind('/dev/video0'), 'v4l2');
    assert.equal(sourceKind('rtsp://cam/stream'), 'stream');
    assert.equal(sourceKind('lavfi:testsrc'), 'lavfi');
    assert.equal(sourceKind('clip.mp4'), 'file');
  });
});
