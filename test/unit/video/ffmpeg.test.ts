import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { countVideoFrames, FfmpegError, FfmpegProcess, locateFfmpeg, runFfmpeg } from '../../../video/index.js';
import { rejectsWith } from '../../support/async.js';
import { useTempDir } from '../walkers/formats/helpers.js';

const raw = (w: number, h: number) => [
  '-f',
  'rawvideo',
  '-pix_fmt',
  'gray',
  '-video_size',
  `${w}x${h}`,
  '-i',
  'pipe:0',
];

describe('video/ffmpeg', function () {
  this.timeout(30_000);
  const dir = useTempDir();
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.FFMPEG_PATH;
    delete process.env.FFMPEG_PATH;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.FFMPEG_PATH;
    else process.env.FFMPEG_PATH = saved;
  });

  it('uses the binary of @ffmpeg-installer/ffmpeg by default and FFMPEG_PATH when set', () => {
    const shipped = locateFfmpeg();
    assert.equal(shipped.from, '@ffmpeg-installer/ffmpeg');
    assert.match(shipped.path, /@ffmpeg-installer\/linux-x64\/ffmpeg$/);
    process.env.FFMPEG_PATH = shipped.path;
    assert.deepEqual(locateFfmpeg(), { path: shipped.path, from: 'FFMPEG_PATH' });
    assert.deepEqual(locateFfmpeg('/bin/sh'), { path: '/bin/sh', from: 'option' });
  });

  it('names the path tried when FFMPEG_PATH points at nothing', async () => {
    process.env.FFMPEG_PATH = join(dir.path, 'no-ffmpeg');
    const error = await rejectsWith(
      countVideoFrames('x.mp4'),
      FfmpegError,
      /^cannot run ffmpeg at .*no-ffmpeg \(from FFMPEG_PATH\): ENOENT/,
    );
    assert.equal(error.path, join(dir.path, 'no-ffmpeg'));
  });

  it('pipes frames with backpressure and reads raw output back in exact chunks', async () => {
    // gray in, gray out: the pixels come back unchanged, in order, 200 frames of 64 KiB.
    const ffmpeg = FfmpegProcess.spawn({
      stdin: true,
      stdout: true,
      what: 'copying',
      args: [...raw(256, 256), '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'],
    });
    const reading = (async () => {
      const out: number[] = [];
      for await (const chunk of ffmpeg.chunks(256 * 256)) {
        assert.equal(chunk.length, 65536);
        out.push(chunk[0]!, chunk[65535]!);
      }
      return out;
    })();
    let waited = 0;
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      await ffmpeg.write(new Uint8Array(65536).fill(i % 256));
      if (performance.now() - t0 > 1) waited++;
    }
    await ffmpeg.end();
    const out = await reading;
    assert.equal(out.length, 400);
    assert.deepEqual(out.slice(0, 6), [0, 0, 1, 1, 2, 2]);
    assert.equal(out[399], 199);
    assert.ok(waited > 0, 'some writes waited for the pipe (backpressure)');
  });

  it('writeFlushed() resolves once its chunks are in the pipe: one buffer refilled per frame arrives intact', async () => {
    // Small chunks (below the stream's buffering) and one reused buffer: had writeFlushed()
    // resolved while a chunk was still buffered here, refilling it would corrupt that frame.
    const ffmpeg = FfmpegProcess.spawn({
      stdin: true,
      stdout: true,
      what: 'copying',
      args: [...raw(64, 32), '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'],
    });
    const reading = (async () => {
      const out: boolean[] = [];
      for await (const chunk of ffmpeg.chunks(64 * 32)) out.push(chunk.every((v) => v === out.length % 256));
      return out;
    })();
    const luma = new Uint8Array(64 * 16);
    const rest = new Uint8Array(64 * 16);
    for (let i = 0; i < 300; i++) {
      luma.fill(i % 256);
      rest.fill(i % 256);
      await ffmpeg.writeFlushed([luma, rest]);
    }
    await ffmpeg.end();
    const out = await reading;
    assert.equal(out.length, 300);
    assert.ok(
      out.every((ok) => ok),
      `frames ${out.flatMap((ok, i) => (ok ? [] : [i])).slice(0, 5)} corrupt`,
    );
  });

  it('a failing ffmpeg rejects with its exit code and last log lines', async () => {
    const error = await rejectsWith(
      runFfmpeg({ what: 'reading a missing file', args: ['-i', join(dir.path, 'missing.mp4'), '-f', 'null', '-'] }),
      FfmpegError,
      /failed with exit code 1 while reading a missing file:\n.*missing\.mp4: No such file or directory/,
    );
    assert.equal(error.exitCode, 1);
    assert.ok(error.log.length > 0);
    assert.match(error.path, /ffmpeg$/);
  });

  it('an ffmpeg that exits while we write rejects the pending write with its exit code (no EPIPE crash)', async () => {
    // -frames:v 1 makes ffmpeg stop after one frame and close its input.
    const ffmpeg = FfmpegProcess.spawn({
      stdin: true,
      what: 'taking one frame',
      args: [...raw(512, 512), '-frames:v', '1', '-f', 'rawvideo', join(dir.path, 'one.raw')],
    });
    const error = await rejectsWith(
      (async () => {
        for (let i = 0; i < 10_000; i++) await ffmpeg.write(new Uint8Array(512 * 512));
      })(),
      FfmpegError,
      /closed its input early|exit code/,
    );
    assert.equal(error.exitCode, 0);
  });

  it('kill() and an aborted signal end ffmpeg; the error says it was killed', async () => {
    const controller = new AbortController();
    const ffmpeg = FfmpegProcess.spawn({
      stdin: true,
      what: 'waiting',
      signal: controller.signal,
      args: [...raw(8, 8), '-f', 'null', '-'],
    });
    await ffmpeg.write(new Uint8Array(64));
    controller.abort();
    const error = await rejectsWith(ffmpeg.wait(), FfmpegError, /was killed by SIGKILL \(cancelled\) while waiting/);
    assert.equal(error.signal, 'SIGKILL');
    assert.ok(ffmpeg.exited);
  });

  it('niceness runs ffmpeg that much nicer than this process, capped at 19', async function () {
    if (process.platform !== 'linux') this.skip();
    const niceOf = async (pid: number) => {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    };
    const ffmpeg = FfmpegProcess.spawn({
      stdin: true,
      what: 'waiting',
      niceness: 5,
      args: [...raw(8, 8), '-f', 'null', '-'],
    });
    try {
      assert.equal(await niceOf(ffmpeg.pid!), Math.min(19, getPriority() + 5));
    } finally {
      await ffmpeg.end();
    }
  });

  it('a binary that is not ffmpeg fails with what it printed', async () => {
    const fake = join(dir.path, 'fake-ffmpeg');
    await writeFile(fake, '#!/bin/sh\necho "fake: cannot encode" >&2\nexit 3\n');
    await chmod(fake, 0o755);
    process.env.FFMPEG_PATH = fake;
    const error = await rejectsWith(
      runFfmpeg({ what: 'testing', args: [] }),
      FfmpegError,
      /^ffmpeg \(.*fake-ffmpeg, from FFMPEG_PATH\) failed with exit code 3 while testing:\n  fake: cannot encode/,
    );
    assert.deepEqual(error.log, ['fake: cannot encode']);
  });
});
