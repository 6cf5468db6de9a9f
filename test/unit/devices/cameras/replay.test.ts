import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServer } from '../../../../addons/remote/spawn.js';
import { makeFrame, ParameterError, sleep, type Frame } from '../../../../core/index.js';
import { reclaimRuns } from '../../../../core/reclaim.js';
import { Camera as RemoteCamera } from '../../../../devices/cameras/remote.js';
import { ReplayCamera } from '../../../../devices/cameras/replay.js';
import { LogWriter } from '../../../../recording/index.js';
import { freePort, tcpEndpoint, ZmqReceiver } from '../../../../transport/index.js';
import { describeCamera } from '../../../conformance/camera.case.js';
import { rejectsWith } from '../../../support/async.js';
import { startRecord } from '../../session/cli/record-process.js';

const bytes = (f: Frame) => Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength);

/** A recording of `n` 32×24 uint16 frames received `intervalMs` apart (frame i: pixel k = i·1000 + k). */
async function writeLog(
  path: string,
  n: number,
  intervalMs = 10,
  acquisition?: (i: number) => string,
): Promise<Frame[]> {
  const log = await LogWriter.create(path, { source: { kind: 'acquisition', description: 'test' }, overwrite: true });
  const frames: Frame[] = [];
  for (let i = 0; i < n; i++) {
    const f = makeFrame(
      Uint16Array.from({ length: 32 * 24 }, (_, k) => (i * 1000 + k) % 65536),
      [24, 32],
      {
        frameNumber: i,
        timestamp: 1_700_000_000_000 + i * intervalMs,
        angle: i,
        ...(acquisition ? { acquisition: acquisition(i) } : {}),
      },
    );
    frames.push(f);
    await log.writeFrame(f, 1_700_000_000_000 + i * intervalMs);
  }
  await log.close();
  return frames;
}

describe('devices/cameras/replay', function () {
  this.timeout(60_000);
  let root: string;
  let file: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'concert-replay-'));
    file = join(root, 'suite.clog');
    await writeLog(file, 40);
  });
  after(() => rm(root, { recursive: true, force: true }));

  describe('paced to the frame rate', () => {
    describeCamera(() => ReplayCamera.create({ file, timing: 'frame-rate', loop: true }));
  });
  describe('original timing', () => {
    describeCamera(() => ReplayCamera.create({ file, loop: true }), { frameRate: null });
  });

  it('replays every frame bit for bit and in order, with the recorded metadata kept', async () => {
    const path = join(root, 'exact.clog');
    const frames = await writeLog(path, 12);
    const camera = await ReplayCamera.create({ file: path, timing: 'fast' });
    assert.equal(camera.length, 12);
    const got: Frame[] = [];
    for await (const f of camera.stream()) got.push(f);
    assert.equal(got.length, 12, 'without loop, stream() ends after the last frame');
    for (const [i, f] of got.entries()) {
      assert.ok(bytes(f).equals(bytes(frames[i]!)), `frame ${i}`);
      assert.equal(f.metadata.recordedFrameNumber, i);
      assert.equal(f.metadata.angle, i);
      assert.equal(f.metadata.replayIndex, i);
    }
    await rejectsWith(
      camera.recording(() => camera.grab()),
      ParameterError,
      /is at its end \(12 frames\); seek\(0\) to start over/,
    );
    await camera.disconnect();
  });

  it('keeps the original timing (and speed), or runs as fast as possible', async () => {
    const path = join(root, 'timed.clog');
    await writeLog(path, 6, 40); // 25 fps
    const original = await ReplayCamera.create({ file: path });
    let t0 = performance.now();
    for await (const _ of original.stream());
    const tookOriginal = performance.now() - t0;
    assert.ok(tookOriginal >= 190 && tookOriginal < 600, `5 intervals of 40 ms took ${tookOriginal.toFixed(0)} ms`);
    const doubled = await ReplayCamera.create({ file: path, speed: 2 });
    t0 = performance.now();
    for await (const _ of doubled.stream());
    const tookDoubled = performance.now() - t0;
    assert.ok(tookDoubled >= 95 && tookDoubled < 400, `at speed 2: ${tookDoubled.toFixed(0)} ms`);
    const fast = await ReplayCamera.create({ file: path, timing: 'fast' });
    t0 = performance.now();
    for await (const _ of fast.stream());
    assert.ok(performance.now() - t0 < 150, 'fast ignores the recorded intervals');
    for (const c of [original, doubled, fast]) await c.disconnect();
  });

  it('seeks by frame index, loops, and plays one acquisition of a recording', async () => {
    const path = join(root, 'seek.clog');
    await writeLog(path, 10, 1, (i) => (i < 4 ? 'darks' : 'radios'));
    const camera = await ReplayCamera.create({ file: path, timing: 'fast', loop: true });
    await camera.seek(7);
    const seen: number[] = [];
    for await (const f of camera.stream({ count: 5 })) seen.push(f.metadata.replayIndex as number);
    assert.deepEqual(seen, [7, 8, 9, 0, 1]);
    assert.equal(camera.position, 2);
    await rejectsWith(camera.seek(10), ParameterError, /there is no frame 10 in .* \(it has frames 0 … 9\)/);
    await camera.disconnect();
    const radios = await ReplayCamera.create({ file: path, timing: 'fast', acquisition: 'radios' });
    assert.equal(radios.length, 6);
    const first = await radios.recording(() => radios.grab());
    assert.equal(first.metadata.recordedFrameNumber, 4);
    await radios.disconnect();
    await rejectsWith(
      ReplayCamera.create({ file: path, acquisition: 'flats' }),
      Error,
      /holds no frames of acquisition 'flats'/,
    );
    await rejectsWith(ReplayCamera.create({} as never), Error, /option 'file' is required/);
    await rejectsWith(
      ReplayCamera.create({ file: path, timing: 'slow' as never }),
      Error,
      /option 'timing' must be one of/,
    );
  });

  it('reads frames in spans: kept frames are never overwritten, across spans, seeks and loops', async () => {
    // 300 frames of 1.5 KB: spans of 64 frames each, so a stream crosses spans, wraps and seeks.
    const path = join(root, 'spans.clog');
    const frames = await writeLog(path, 300);
    const camera = await ReplayCamera.create({ file: path, timing: 'fast', loop: true });
    const kept: Frame[] = [];
    for await (const f of camera.stream({ count: 450 })) kept.push(f);
    await camera.seek(10);
    await camera.recording(async () => {
      for (let i = 0; i < 3; i++) kept.push(await camera.grab());
    });
    await camera.disconnect();
    const want = [...Array.from({ length: 450 }, (_, i) => i % 300), 10, 11, 12];
    assert.deepEqual(
      kept.map((f) => f.metadata.replayIndex),
      want,
    );
    for (const [k, f] of kept.entries()) assert.ok(bytes(f).equals(bytes(frames[want[k]!]!)), `frame ${k}`);
  });

  it('frees the spans of dropped frames as it plays (core/reclaim); kept frames of large spans stay intact', async () => {
    // 24 frames of 1 MiB: spans of 8, three young-generation collections per pass
    const path = join(root, 'large.clog');
    const log = await LogWriter.create(path, { source: { kind: 'acquisition', description: 'test' }, overwrite: true });
    const frames: Frame[] = [];
    for (let i = 0; i < 24; i++) {
      const f = makeFrame(
        Uint16Array.from({ length: 512 * 1024 }, (_, k) => (i * 7 + k) % 65536),
        [512, 1024],
        {
          frameNumber: i,
        },
      );
      frames.push(f);
      await log.writeFrame(f);
    }
    await log.close();
    const camera = await ReplayCamera.create({ file: path, timing: 'fast', loop: true });
    const before = reclaimRuns();
    const kept: Frame[] = [];
    for await (const f of camera.stream({ count: 48 })) if ((f.metadata.replayIndex as number) % 5 === 0) kept.push(f);
    await camera.disconnect();
    assert.ok(reclaimRuns() - before >= 4, `${reclaimRuns() - before} collections`);
    assert.equal(kept.length, 10);
    for (const f of kept)
      assert.ok(
        bytes(f).equals(bytes(frames[f.metadata.replayIndex as number]!)),
        `frame ${String(f.metadata.replayIndex)}`,
      );
  });

  it('a damaged record fails the grab of that frame; the frames read with it in its span play', async () => {
    const path = join(root, 'damaged.clog');
    const frames = await writeLog(path, 6);
    // Frame 3's header claims 23 rows (same JSON length): its pixels no longer fit its shape.
    const whole = await readFile(path);
    const at = whole.indexOf('"frameNumber":3');
    const shape = whole.lastIndexOf('"shape":[24,32]', at) >= 0 ? whole.indexOf('"shape":[24,32]', at - 400) : -1;
    assert.ok(shape >= 0 && shape < at + 400, 'found frame 3 header');
    whole.write('"shape":[23,32]', shape);
    await writeFile(path, whole);
    const camera = await ReplayCamera.create({ file: path, timing: 'fast' });
    const got: Array<number | string> = [];
    const grab = () =>
      camera.grab().then(
        (f) => {
          const i = f.metadata.replayIndex as number;
          return bytes(f).equals(bytes(frames[i]!)) ? i : `frame ${i} differs`;
        },
        (error: Error) => `${error.name}: ${/payload has/.test(error.message)}`,
      );
    await camera.startRecording();
    for (let i = 0; i < 4; i++) got.push(await grab());
    // A fault, as any unreadable frame: the camera is in 'error'; reset, skip the frame, go on.
    assert.equal(await camera.getState(), 'error');
    await camera.reset();
    await camera.seek(4);
    await camera.recording(async () => {
      for (let i = 4; i < 6; i++) got.push(await grab());
    });
    await camera.disconnect();
    assert.deepEqual(got, [0, 1, 2, 'StorageError: true', 4, 5]);
  });

  it('replays a recording cut short up to its last whole frame', async () => {
    const path = join(root, 'cut.clog');
    await writeLog(path, 5);
    const whole = await readFile(path);
    await writeFile(path, whole.subarray(0, whole.length - 200)); // into the last frame (and past the trailer)
    const camera = await ReplayCamera.create({ file: path, timing: 'fast' });
    assert.equal(camera.length, 4);
    await camera.disconnect();
  });

  it('a recording of a live camera server stream (real processes) replays bit-identical, in the same order', async function () {
    this.timeout(90_000);
    const server = await spawnServer('camera', { width: 64, height: 48, frameRate: 200 });
    const camera = await RemoteCamera.create({ name: 'camera', endpoint: server.endpoint });
    const originals = tcpEndpoint(await freePort());
    const recorded = tcpEndpoint(await freePort());
    try {
      await camera.registerEndpoint(originals, { mode: 'push' });
      await camera.registerEndpoint(recorded, { mode: 'push' });
      const receiver = await ZmqReceiver.create({ mode: 'pull', connect: originals });
      const log = join(root, 'live.clog');
      const recorder = startRecord([recorded, log, '--until-end']);
      await recorder.ready;
      await camera.startRecording();
      const sent: Frame[] = [];
      const receiving = (async () => {
        for await (const f of receiver.stream({ idleTimeoutMs: 30_000 })) sent.push(f);
      })();
      await camera.grabSend(30);
      await receiving;
      receiver.close();
      const r = await recorder.done;
      assert.equal(r.status, 0, r.stderr);
      const replay = await ReplayCamera.create({ file: log, timing: 'fast' });
      const got: Frame[] = [];
      for await (const f of replay.stream()) got.push(f);
      await replay.disconnect();
      assert.equal(got.length, 30);
      for (const [i, f] of got.entries()) {
        assert.equal(f.metadata.recordedFrameNumber, sent[i]!.metadata.frameNumber, `order at ${i}`);
        assert.ok(bytes(f).equals(bytes(sent[i]!)), `frame ${i} bit-identical`);
        assert.equal(f.dtype, sent[i]!.dtype);
      }
      await sleep(0);
    } finally {
      await camera.disconnect().catch(() => undefined);
      await server.stop('SIGKILL');
    }
  });
});
