/**
 * One recording on a camera host: arming, a start at an instant, and what "complete" means (every
 * frame the camera took stored and confirmed: a gap in the camera's timestamps is a drop).
 */
import assert from 'node:assert/strict';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFrame, preciseNow, q } from '../../../../core/index.js';
import { readAcquisitionData } from '../../../../conductor/index.js';
import {
  endStream,
  QUIET_BEFORE_MS,
  Recording,
  START_SETTLE_MS,
  START_YIELD_MS,
} from '../../../../conductor/host/recording.js';
import type { StartParams } from '../../../../conductor/protocol.js';
import { Camera } from '../../../../devices/cameras/dummy.js';
import { delay } from '../../../support/async.js';

const RATE = 100;

function params(name: string, extra: Partial<StartParams> = {}): StartParams {
  return {
    camera: 'cam',
    acquisitionName: name,
    group: '',
    dataPath: 'data',
    saveData: true,
    format: 'tiff',
    maxAcquisitionTime: 60,
    frameRate: RATE,
    triggerSource: 'AUTO',
    settings: {},
    ...extra,
  };
}

/**
 * A dummy camera holding 16 frames for a grab loop that falls behind, as a served camera holds (a
 * loaded CI machine stalls a process for more than a frame period now and then: without a buffer
 * that is a frame never taken, a drop).
 */
function bufferedCamera(): Promise<Camera> {
  return Camera.create({ width: 16, height: 8, frameRate: q(RATE, 'Hz'), simulate: false, bufferFrames: 16 });
}

describe('Recording (conductor/host)', function () {
  this.timeout(20_000);
  let base = '';
  beforeEach(() => (base = mkdtempSync(join(tmpdir(), 'concert-recording-'))));
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('a recording whose camera skipped frames is not complete: the drops are counted and named', async () => {
    const period = 1000 / RATE;
    const t0 = Date.now();
    // frames 0…4, then the camera loses 3 frames (its timestamps jump), then on
    const render = (i: number) =>
      makeFrame(new Uint16Array(16 * 8).fill(i), [8, 16], { timestamp: t0 + (i < 5 ? i : i + 3) * period });
    const camera = await Camera.create({ width: 16, height: 8, frameRate: q(RATE, 'Hz'), render });
    const directory = join(base, 'gaps', 'cam');
    const recording = new Recording(camera, params('gaps'), directory, {});
    await recording.arm();
    await recording.start();
    await delay(200);
    const summary = await recording.stop();
    assert.equal(summary.drops, 3);
    assert.ok(summary.frames > 5);
    assert.equal(summary.complete, false, 'a recording with drops is not complete');
    const metadata = JSON.parse(readFileSync(join(directory, 'metadata.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(metadata.complete, false);
    assert.equal(metadata.drops, 3);
    const data = await readAcquisitionData(join(base, 'gaps'));
    assert.equal(data.cameras.cam!.complete, false);
    assert.ok(
      data.cameras.cam!.problems.some((p) => /3 frames were dropped/.test(p)),
      data.cameras.cam!.problems.join('; '),
    );
    await camera.disconnect();
  });

  it('without gaps the recording is complete', async () => {
    const camera = await bufferedCamera();
    const recording = new Recording(camera, params('clean'), join(base, 'clean', 'cam'), {});
    await recording.arm();
    await recording.start();
    await delay(200);
    const summary = await recording.stop();
    assert.ok(summary.frames > 5);
    assert.equal(summary.drops, 0, 'the dummy camera stamps frames with their exposure time');
    assert.equal(summary.complete, true);
    await camera.disconnect();
  });

  it('starts at the instant asked for and reports its first frame; stopping an armed recording removes it', async () => {
    // buffered as a served camera is: the first grab waits START_YIELD_MS after the start, and on a
    // loaded machine a bufferless camera stalled past a frame then would not have taken that frame
    const camera = await bufferedCamera();
    const armedDir = join(base, 'armed', 'cam');
    const armed = new Recording(camera, params('armed'), armedDir, {});
    await armed.arm();
    assert.ok(existsSync(join(armedDir, 'metadata.json')));
    const disarmed = await armed.stop();
    assert.equal(disarmed.reason, 'disarmed');
    assert.equal(disarmed.frames, 0);
    assert.equal(existsSync(armedDir), false, 'the armed folder is gone');
    await assert.rejects(armed.start(), /not armed: it cannot start|stopped/);

    const recording = new Recording(camera, params('timed'), join(base, 'timed', 'cam'), {});
    await recording.arm();
    const at = preciseNow() + 30;
    const timing = await recording.start(at);
    const woke = timing.wokeAt!;
    assert.ok(woke >= at, `woke ${(at - woke).toFixed(3)} ms early`);
    assert.ok(timing.lateMs <= woke - at, `late ${timing.lateMs} ms, woke ${(woke - at).toFixed(3)} ms after`);
    assert.ok(timing.startedAt >= woke, `started ${(woke - timing.startedAt).toFixed(3)} ms before it woke`);
    // the first exposure begins as the camera starts recording (after waking, before startRecording
    // returned), not at a frame-clock tick after it; its time has the camera's µs resolution
    const first = timing.firstFrameAt!;
    assert.ok(
      first >= woke - 0.001 && first <= timing.startedAt + 0.001,
      `first frame ${first - woke} ms after waking`,
    );
    const summary = await recording.stop();
    assert.equal(summary.firstFrameAt, first);
    const rows = readFileSync(join(base, 'timed', 'cam', 'timestamps.csv'), 'utf8').split('\n');
    assert.equal(Number(rows[1]!.split(',')[2]), Math.round(first), 'timestamps.csv keeps whole ms');
    await camera.disconnect();
  });

  it('a file closed while its first write is on the thread pool closes without an error event (a disarm)', async () => {
    // what a disarm right after arming does to timestamps.csv, made certain: the header write is
    // on the thread pool once the file opened. destroy() there emits ERR_STREAM_DESTROYED as an
    // 'error' event, which with nobody listening ended the host.
    for (let i = 0; i < 200; i++) {
      const stream = createWriteStream(join(base, `t${i % 4}.csv`));
      const errors: unknown[] = [];
      stream.on('error', (e) => errors.push(e));
      stream.write('frame,cameraFrame,cameraTime,hostTime\n');
      await new Promise((resolve) => stream.once('open', resolve));
      await endStream(stream);
      assert.deepEqual(errors, []);
      assert.equal(stream.closed, true);
      assert.equal(readFileSync(join(base, `t${i % 4}.csv`), 'utf8'), 'frame,cameraFrame,cameraTime,hostTime\n');
    }
  });

  it('a file that failed (a full disk) ends with its error at once, not never', async () => {
    const stream = createWriteStream('/dev/full');
    const failed = new Promise((resolve) => stream.once('error', resolve));
    stream.write('frame\n');
    await failed;
    await assert.rejects(endStream(stream), /ENOSPC/);
  });

  it('arming then disarming at once, again and again, leaves no folder and no error', async () => {
    const camera = await bufferedCamera();
    for (let i = 0; i < 30; i++) {
      const directory = join(base, `quick${i}`, 'cam');
      const recording = new Recording(camera, params(`quick${i}`), directory, {});
      await recording.arm();
      const summary = await recording.stop();
      assert.equal(summary.reason, 'disarmed');
      assert.equal(summary.error, undefined);
      assert.equal(existsSync(directory), false);
    }
    await camera.disconnect();
  });

  it('an arm that fails after making the folder removes it and can be tried again', async () => {
    const camera = await bufferedCamera();
    const directory = join(base, 'bad', 'cam');
    // settings JSON cannot hold: metadata.json cannot be written, after the TIFF writer and
    // timestamps.csv were opened
    const settings = { exposure: 10n } as unknown as StartParams['settings'];
    const failing = new Recording(camera, params('bad', { settings }), directory, {});
    await assert.rejects(failing.arm(), /BigInt/);
    assert.equal(existsSync(directory), false, 'the failed arm left nothing');
    const again = new Recording(camera, params('bad'), directory, {});
    await again.arm();
    assert.equal((await again.stop()).reason, 'disarmed');
    await camera.disconnect();
  });

  for (const rate of [100, 1000])
    it(`at ${rate} Hz grabbing waits after the camera started (at most half a frame), the answer until the start settled`, async () => {
      // no frame buffer: a frame not grabbed within max(period, 5 ms) would never have been taken
      // (the dummy's frame clock restarts from the late grab). The yield stays within that; a
      // machine that stalls this process past it during the yield is not the yield's doing: such
      // an attempt (seen from when the grab ran) is tried again, at most 3 times.
      const limit = Math.max(1000 / rate, 5);
      const yieldMs = Math.min(START_YIELD_MS, 500 / rate);
      const stalls: string[] = [];
      for (let attempt = 0; attempt < 3; attempt++) {
        const camera = await Camera.create({ width: 16, height: 8, frameRate: q(rate, 'Hz'), simulate: false });
        const name = `yield${rate}-${attempt}`;
        const directory = join(base, name, 'cam');
        const recording = new Recording(camera, params(name, { frameRate: rate }), directory, {});
        await recording.arm();
        const at = preciseNow() + 30;
        const timing = await recording.start(at);
        const answeredAt = preciseNow();
        await recording.stop();
        await camera.disconnect();
        const [, row] = readFileSync(join(directory, 'timestamps.csv'), 'utf8').split('\n');
        const grabbedAfter = Number(row!.split(',')[3]) - timing.startedAt;
        if (grabbedAfter > limit) {
          stalls.push(`grabbed ${grabbedAfter.toFixed(2)} ms after the start`);
          continue;
        }
        const first = timing.firstFrameAt!;
        assert.ok(
          first <= timing.startedAt + 0.001,
          `first exposure ${(first - timing.startedAt).toFixed(3)} ms after the start`,
        );
        // libuv's timers count whole ms: one may end up to 1 ms before the precise clock says
        assert.ok(grabbedAfter >= yieldMs - 1, `grabbed ${grabbedAfter.toFixed(2)} ms after the start`);
        // the settle is a second timer after the first (each up to 1 ms early)
        assert.ok(
          answeredAt - timing.startedAt >= START_SETTLE_MS - 2,
          `answered ${(answeredAt - timing.startedAt).toFixed(2)} ms after`,
        );
        return;
      }
      assert.fail(`the machine stalled past ${limit} ms in each of 3 attempts: ${stalls.join('; ')}`);
    });

  it('stopped during the yield after the camera started, it arms no maxAcquisitionTime timer', async () => {
    const camera = await Camera.create({ width: 16, height: 8, frameRate: q(RATE, 'Hz'), simulate: false });
    const recording = new Recording(
      camera,
      params('yieldstop', { saveData: false, maxAcquisitionTime: 3600 }),
      join(base, 'yieldstop', 'cam'),
      {},
    );
    await recording.arm();
    const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timeouts();
    const at = preciseNow() + 30;
    const starting = recording.start(at);
    // runs once the wait ended and the camera started: the start is in its yield then (a stop
    // later than the yield finds the timer armed and clears it: this case then passes anyway)
    await delay(31);
    assert.equal(camera.state.current, 'recording', 'the camera started before the stop');
    const summary = await recording.stop();
    await starting.catch(() => undefined);
    assert.equal(summary.state, 'done');
    // as many as while armed (mocha's; the arm timer is unref'd, not counted)
    assert.equal(timeouts(), before, 'a timer is left behind');
    await camera.disconnect();
  });

  it('a start instant already past is reported late by as much', async () => {
    const camera = await Camera.create({ width: 16, height: 8, frameRate: q(RATE, 'Hz'), simulate: false });
    const recording = new Recording(camera, params('late'), join(base, 'late', 'cam'), {});
    await recording.arm();
    const at = preciseNow() - 40;
    const timing = await recording.start(at);
    assert.ok(timing.lateMs >= 40 && timing.lateMs <= timing.wokeAt! - at, `late ${timing.lateMs} ms`);
    await recording.stop();
    await camera.disconnect();
  });

  it('stopped right after its start, before storing began, it still stores every frame it took', async () => {
    const camera = await bufferedCamera();
    const directory = join(base, 'quick', 'cam');
    const recording = new Recording(camera, params('quick'), directory, {});
    await recording.arm();
    await recording.start();
    const summary = await recording.stop();
    assert.ok(summary.frames >= 1, `${summary.frames} frames`);
    assert.equal(summary.complete, true);
    const data = await readAcquisitionData(join(base, 'quick'));
    assert.ok(data.cameras.cam!.complete, data.cameras.cam!.problems.join('; '));
    assert.equal(data.cameras.cam!.storedFrames, summary.frames);
    await camera.disconnect();
  });

  it('keeps the host quiet from QUIET_BEFORE_MS before the instant until the start answered, failed or was stopped', async () => {
    const camera = await Camera.create({ width: 16, height: 8, frameRate: q(RATE, 'Hz'), simulate: false });
    const now = preciseNow;
    try {
      // answered: quiet from the window's start, through the first frame and the settle, then not
      const answered = new Recording(camera, params('quietAnswered'), join(base, 'qa', 'cam'), {});
      await answered.arm();
      assert.equal(answered.quiet(now()), false, 'armed, not starting');
      const at = now() + 150;
      const starting = answered.start(at);
      assert.equal(answered.quiet(at - QUIET_BEFORE_MS - 1), false, 'before the window');
      assert.equal(answered.quiet(at - QUIET_BEFORE_MS), true, 'the window opens');
      assert.equal(answered.quiet(at + 10_000), true, 'until the answer, however late');
      const timing = await starting;
      assert.ok(
        now() - timing.startedAt >= START_SETTLE_MS - 2,
        'answered after the settle (two timers, each up to 1 ms early)',
      );
      assert.equal(answered.quiet(at), false, 'answered: heartbeats again');
      await answered.stop();

      // a camera that refuses to start (already recording): quiet ends with the failure
      const refused = new Recording(camera, params('quietRefused'), join(base, 'qr', 'cam'), {});
      await refused.arm();
      await camera.startRecording();
      const refusedAt = now() + 30;
      await assert.rejects(refused.start(refusedAt), /recording/);
      assert.equal(refused.quiet(refusedAt), false, 'failed: heartbeats again');
      await camera.stopRecording();

      // stopped while it waits for the instant: quiet ends with the stop
      const stopped = new Recording(camera, params('quietStopped'), join(base, 'qs', 'cam'), {});
      await stopped.arm();
      const stoppedAt = now() + 400;
      const waiting = stopped.start(stoppedAt);
      await delay(20);
      assert.equal(stopped.quiet(stoppedAt), true, 'waiting for the instant');
      assert.equal((await stopped.stop()).reason, 'disarmed');
      await assert.rejects(waiting);
      assert.equal(stopped.quiet(stoppedAt), false, 'stopped: heartbeats again');
    } finally {
      await camera.disconnect();
    }
  });
});
