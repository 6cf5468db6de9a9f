/**
 * Issue 10, "No data lost after a failure": the local items. Each test reproduces a case the issue
 * names and asserts the whole class of it.
 */
import assert from 'node:assert/strict';
import { makeFrame, OptionError, q, sleep, type Frame } from '../../core/index.js';
import * as cameras from '../../devices/cameras/dummy.js';
import * as remote from '../../devices/cameras/remote.js';
import { CameraServer } from '../../devices/cameras/server.js';
import * as motors from '../../devices/motors/dummy.js';
import {
  Acquisition,
  AcquisitionError,
  frameConsumer,
  Experiment,
  remoteAcquisition,
  type FrameConsumer,
} from '../../experiments/index.js';
import { ControlClient, freePort, tcpEndpoint, ZmqReceiver, ZmqSender } from '../../transport/zmq/index.js';
import { Accumulator, ImageWriter, FunctionAddon } from '../../addons/local/index.js';
import * as shutters from '../../devices/shutters/dummy.js';
import { StopWatch } from '../../streaming/stop.js';
import {
  ContinuousTomography,
  ExperimentError,
  Radiography,
  shutterExposure,
  SteppedTomography,
  type RadiographyOptions,
} from '../../experiments/index.js';
import { DummyWalker } from '../../walkers/index.js';
import { rig } from '../unit/experiments/rig.js';

/** A lossless consumer that fails with `message` after `after` frames. */
function failingAfter(after: number, message = 'disk full'): FrameConsumer {
  return frameConsumer('writer', async (frames) => {
    let n = 0;
    for await (const _ of frames) if (++n >= after) throw new Error(message);
  });
}

describe('issue 10: no data lost after a failure (local items)', function () {
  this.timeout(30_000);

  describe("item 5: a consumer's failure is not a camera fault", () => {
    it('a failing consumer fails the run, the camera stays healthy and the next run works', async () => {
      const camera = await cameras.Camera.create({ width: 8, height: 4, frameRate: q('1000 Hz') });
      const radios = await Acquisition.create('radios', (signal) => camera.stream({ signal, count: 50 }));
      const failing = failingAfter(5);
      radios.attach(failing);
      await assert.rejects(radios.run(), (e: Error) => {
        assert.ok(e instanceof AcquisitionError);
        assert.match(e.message, /consumer 'writer' of acquisition 'radios' failed: disk full/);
        return true;
      });
      assert.equal(camera.state.current, 'standby');
      await radios.detach(failing);
      const got: number[] = [];
      radios.attach(frameConsumer('ok', async (frames) => void (await countInto(frames, got))));
      const result = await radios.run();
      assert.equal(result.frames, 50);
      assert.equal(got.length, 50);
    });

    it('also while the producer is moving a motor: the motor is not put into error', async () => {
      const motor = await motors.LinearMotor.create({ motionVelocity: q('10 mm/s') });
      const camera = await cameras.Camera.create({ width: 8, height: 4, frameRate: q('1000 Hz') });
      const stepped = await Acquisition.create('stepped', async function* (signal) {
        for (let i = 0; ; i++) {
          yield* camera.stream({ signal, count: 1 });
          await motor.move(q('1 mm'), { signal }); // 100 ms: the consumer fails meanwhile
        }
      });
      stepped.attach(failingAfter(1));
      await assert.rejects(stepped.run(), /consumer 'writer' of acquisition 'stepped' failed: disk full/);
      assert.equal(motor.state.current, 'standby');
      assert.equal(camera.state.current, 'standby');
      await motor.setPosition(q('0 mm'));
    });

    it('an operation aborted with any reason is a cancellation of the device, not a fault', async () => {
      const camera = await cameras.Camera.create({ width: 8, height: 4, frameRate: q('10 Hz') });
      const controller = new AbortController();
      await camera.startRecording();
      const grab = camera.grab({ signal: controller.signal });
      controller.abort(new Error('beam lost'));
      await assert.rejects(grab, (e: Error) => e.name === 'AbortError' && /beam lost/.test(e.message));
      assert.equal(camera.state.current, 'recording');
      await camera.stopRecording();
    });

    describe('remote camera', () => {
      const closers: Array<() => unknown> = [];
      afterEach(async () => {
        for (const c of closers.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
      });

      async function remoteRig() {
        const dummy = await cameras.Camera.create({ width: 16, height: 8, frameRate: q('500 Hz') });
        const server = await new CameraServer(dummy, { control: tcpEndpoint() }).start();
        closers.push(() => server.stop());
        const camera = await remote.Camera.create({ endpoint: server.endpoint });
        closers.push(() => camera.disconnect());
        const data = tcpEndpoint(await freePort());
        await camera.registerEndpoint(data, { mode: 'push' });
        return { camera, dummy, data };
      }

      /** A remote consumer reading the camera's data endpoint that fails after `after` frames. */
      async function receiving(data: string, after: number): Promise<FrameConsumer & { got: number[] }> {
        const got: number[] = [];
        const receiver = await ZmqReceiver.create({ mode: 'pull', connect: data });
        closers.push(() => receiver.close());
        return {
          name: 'writer server',
          policy: 'lossless',
          kind: 'remote',
          got,
          async consume() {
            for await (const f of receiver.stream({ idleTimeoutMs: 5000 })) {
              got.push(f.metadata.frameNumber);
              if (after > 0 && got.length >= after) throw new Error('the writer server failed');
            }
          },
        };
      }

      it("the receiving side failing during grabSend leaves the remote camera (and the server's) healthy", async () => {
        const { camera, dummy, data } = await remoteRig();
        const radios = await remoteAcquisition('radios', camera, 400);
        const failing = await receiving(data, 10);
        radios.attach(failing);
        await assert.rejects(radios.run(), /consumer 'writer server' of acquisition 'radios' failed/);
        assert.equal(camera.state.current, 'standby');
        assert.equal(await camera.getState(), 'standby');
        assert.equal(dummy.state.current, 'standby');
        // The next run works at once, without camera.reset().
        await radios.detach(failing);
        const next = await Acquisition.create('next', (signal) => camera.stream({ signal, count: 3 }));
        const frames: number[] = [];
        next.attach(frameConsumer('ok', (f) => countInto(f, frames)));
        await next.run();
        assert.equal(frames.length, 3);
      });

      it("a server-side send that fails (nobody takes the frames) is a delivery failure, not the camera's", async function () {
        this.timeout(30_000);
        const { camera, dummy } = await remoteRig();
        // Nobody connects to the data endpoint: the server's lossless send times out (10 s).
        const t0 = performance.now();
        await assert.rejects(
          camera.recording(() => camera.grabSend(5)),
          (e: Error) =>
            e instanceof remote.DeliveryError && /grabSend could not deliver .* no consumer took/.test(e.message),
        );
        assert.ok(performance.now() - t0 < 15_000);
        assert.equal(camera.state.current, 'standby');
        assert.equal(dummy.state.current, 'standby');
        // The server still tries the end marker for up to 500 ms after reporting the failure.
        await sleep(600);
        await camera.recording(() => camera.grabSend(0, { end: false }));
      });
    });

    it('an experiment after a failed run starts at once (no reset needed)', async () => {
      const camera = await cameras.Camera.create({ width: 8, height: 4, frameRate: q('1000 Hz') });
      const radios = await Acquisition.create('radios', (signal) => camera.stream({ signal, count: 20 }));
      const exp = await Experiment.create([radios]);
      const failing = failingAfter(3);
      radios.attach(failing);
      await assert.rejects(exp.run(), /disk full/);
      assert.equal(exp.state.current, 'error');
      assert.equal(camera.state.current, 'standby');
      await radios.detach(failing);
      const result = await exp.run();
      assert.equal(result.acquisitions.radios!.frames, 20);
      await sleep(0);
    });
  });
});

describe('issue 10, item 7: pause brings the hardware to a safe, resumable state', function () {
  this.timeout(30_000);
  let r: Awaited<ReturnType<typeof rig>>;
  beforeEach(async () => {
    r = await rig({ frameRate: 200 });
  });
  afterEach(async () => {
    await r.close();
  });

  function base(extra: Partial<RadiographyOptions> = {}): RadiographyOptions {
    return {
      walker: new DummyWalker(),
      camera: r.camera,
      exposure: shutterExposure(r.shutter),
      flatMotor: r.flatMotor,
      radioPosition: q('2 mm'),
      flatPosition: q('12 mm'),
      numDarks: 2,
      numFlats: 2,
      numProjections: 60,
      ...extra,
    };
  }

  /** Frames `acc` holds of `acquisition` (0 before the first). */
  function seen(acc: Accumulator, acquisition: string): number {
    try {
      return acc.getItems(acquisition).length;
    } catch {
      return 0;
    }
  }

  async function until(test: () => boolean, what: string, ms = 5000): Promise<void> {
    const t0 = performance.now();
    while (!test()) {
      if (performance.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
      await sleep(2);
    }
  }

  /** Every radio was taken where its metadata says, and the angles are start + i·step exactly once each. */
  function assertGeometry(acc: Accumulator, step: number, tolerance: number) {
    const radios = acc.getItems('radios');
    assert.deepEqual(
      radios.map((f) => f.metadata.angle),
      Array.from({ length: 60 }, (_, i) => i * step),
      'every angle once, in order',
    );
    assert.deepEqual(
      radios.map((f) => f.metadata.frameNumber),
      Array.from({ length: 60 }, (_, i) => i),
    );
    for (const f of radios) {
      const shot = r.shots[f.metadata.shot as number]!;
      const nominal = f.metadata.angle as number;
      assert.ok(
        Math.abs(shot.angle - nominal) <= tolerance,
        `frame ${f.metadata.frameNumber}: taken at ${shot.angle.toFixed(2)}°, labelled ${nominal}°`,
      );
      assert.equal(shot.shutter, 'open', `frame ${f.metadata.frameNumber} taken with the shutter open`);
    }
  }

  it('continuous tomography: shutter closed, motor and camera stopped while paused; true angles after resume', async () => {
    const exp = await ContinuousTomography.create({ ...base(), tomographyMotor: r.tomographyMotor });
    const acc = await Accumulator.create(exp);
    const run = exp.run();
    await until(() => seen(acc, 'radios') >= 15, '15 radios');
    const checkpoint = await run.pause();
    assert.equal(exp.state.current, 'paused');
    assert.ok(checkpoint && checkpoint.acquisition === 'radios' && checkpoint.restarts);
    assert.ok(checkpoint.frames >= 15 && checkpoint.frames < 60);
    assert.deepEqual(exp.checkpoint, checkpoint);
    // The safe state.
    assert.equal(r.shutter.state.current, 'closed');
    assert.equal(r.camera.state.current, 'standby');
    assert.equal(r.tomographyMotor.state.current, 'standby');
    assert.equal(r.tomographyMotor.motion.velocity, 0);
    const angle = r.tomographyMotor.motion.position();
    const shots = r.shots.length;
    await sleep(150);
    assert.equal(r.tomographyMotor.motion.position(), angle, 'the motor does not turn while paused');
    assert.equal(r.shots.length, shots, 'no frames taken while paused');
    await until(() => seen(acc, 'radios') === checkpoint.frames, 'the queued frames');
    await run.resume();
    assert.equal(exp.state.current, 'running');
    await run;
    assertGeometry(acc, 3, 3 * 1.5);
    assert.equal(r.shutter.state.current, 'closed');
    assert.equal(r.tomographyMotor.motion.velocity, 0);
  });

  it('stepped tomography: paused between two steps, goes on at the next angle', async () => {
    r.use('stepped');
    const exp = await SteppedTomography.create({ ...base(), tomographyMotor: r.steppedMotor });
    const acc = await Accumulator.create(exp);
    const run = exp.run();
    await until(() => seen(acc, 'radios') >= 10, '10 radios');
    const checkpoint = await run.pause();
    assert.ok(checkpoint?.restarts);
    assert.equal(r.shutter.state.current, 'closed');
    assert.equal(r.camera.state.current, 'standby');
    assert.equal(r.steppedMotor.state.current, 'standby');
    await sleep(50);
    await run.resume();
    await run;
    assertGeometry(acc, 3, 1e-9);
  });

  it('radiography paused in the flats: the flats go on with the shutter open again, none missing', async () => {
    const exp = await Radiography.create(base({ numFlats: 40, numProjections: 5 }));
    const acc = await Accumulator.create(exp);
    const run = exp.run();
    await until(() => seen(acc, 'flats') >= 5, '5 flats');
    const checkpoint = await run.pause();
    assert.equal(checkpoint?.acquisition, 'flats');
    assert.equal(r.shutter.state.current, 'closed');
    await run.resume();
    await run;
    const flats = acc.getItems('flats');
    assert.deepEqual(
      flats.map((f) => f.metadata.frameNumber),
      Array.from({ length: 40 }, (_, i) => i),
    );
    for (const f of flats) assert.equal(r.shots[f.metadata.shot as number]!.shutter, 'open');
    assert.equal(acc.getItems('radios').length, 5);
  });

  it('cancel() while paused ends cancelled with the hardware safe and the motors restored', async () => {
    const exp = await ContinuousTomography.create({ ...base(), tomographyMotor: r.tomographyMotor });
    await r.tomographyMotor.setPosition(q('7 deg'));
    const acc = await Accumulator.create(exp);
    const run = exp.run();
    await until(() => seen(acc, 'radios') >= 5, '5 radios');
    await run.pause();
    await run.cancel();
    await assert.rejects(run, { name: 'AbortError' });
    assert.equal(exp.state.current, 'cancelled');
    assert.equal(r.shutter.state.current, 'closed');
    assert.equal(r.camera.state.current, 'standby');
    assert.equal(r.tomographyMotor.motion.velocity, 0);
    assert.equal(r.tomographyMotor.motion.position(), 7);
  });

  it('pausing is refused, saying why, where the hardware cannot be held safely', async () => {
    const exp = await Radiography.create(base({ numDarks: 0, numFlats: 0, numProjections: 0 }));
    // An acquisition of the user's that cannot restart from a checkpoint.
    exp.add(await Acquisition.create('extra', (signal) => r.camera.stream({ signal, count: 400 })));
    const run = exp.run();
    await until(() => r.camera.state.current === 'recording', 'the extra acquisition');
    assert.throws(
      () => run.pause(),
      (e: Error) =>
        e instanceof ExperimentError &&
        /radiography cannot be paused now: acquisition 'extra' cannot restart from a checkpoint \(create it with \{ restartable: true \}\)/.test(
          e.message,
        ),
    );
    assert.equal(exp.state.current, 'running');
    await run.cancel();
  });

  it('a plain experiment holds between frames and calls its enterSafeState / leaveSafeState options', async () => {
    const calls: string[] = [];
    const starts: number[] = [];
    const a = await Acquisition.create(
      'a',
      async function* (signal, start) {
        starts.push(start.from);
        for (let i = start.from; i < 30; i++) {
          await sleep(2, signal);
          yield {
            data: new Uint16Array(1),
            shape: [1, 1],
            dtype: 'uint16',
            metadata: { frameNumber: i, timestamp: 0 },
          };
        }
      },
      { restartable: true },
    );
    const exp = await Experiment.create([a], {
      enterSafeState: async (_signal, checkpoint) =>
        void calls.push(`enter ${checkpoint.acquisition}@${checkpoint.frames}`),
      leaveSafeState: async (_signal, checkpoint) =>
        void calls.push(`leave ${checkpoint.acquisition}@${checkpoint.frames}`),
    });
    const acc = await Accumulator.create(exp);
    const run = exp.run();
    await until(() => seen(acc, 'a') >= 5, '5 frames');
    const checkpoint = await run.pause();
    await run.resume();
    await run;
    assert.deepEqual(calls, [`enter a@${checkpoint!.frames}`, `leave a@${checkpoint!.frames}`]);
    assert.deepEqual(starts, [0, checkpoint!.frames]);
    assert.deepEqual(
      acc.getItems('a').map((f) => f.metadata.frameNumber),
      Array.from({ length: 30 }, (_, i) => i),
    );
    // A pause requested when the run is over resolves with nothing to report.
    assert.equal(await run.pause(), undefined);
  });
});

describe('issue 10, item 10: timers longer than 2³¹−1 ms do not fire early', function () {
  this.timeout(10_000);

  it("a default dummy motor takes its time for q('1e9 mm') (about 116 days), and stops when asked", async () => {
    const motor = await motors.LinearMotor.create({});
    const move = motor.setPosition(q('1e9 mm'));
    await sleep(60);
    assert.equal(motor.state.current, 'moving');
    const at = (await motor.getPosition()).toNumber('mm');
    assert.ok(at > 0 && at < 100, `still near the start: ${at} mm`);
    await motor.stop();
    await assert.rejects(move, { name: 'AbortError' });
    assert.equal(motor.state.current, 'standby');
  });

  it('a continuous motor turning toward a far hard limit does not stop at once', async () => {
    const motor = await motors.ContinuousRotationMotor.create({ hardUpper: q('1e12 deg') });
    await motor.setVelocity(q('1 deg/s'));
    await sleep(40);
    assert.equal(motor.state.current, 'moving');
    await motor.stop();
  });

  it('a camera at 1e-7 Hz gives no frame within 100 ms', async () => {
    const camera = await cameras.Camera.create({ width: 4, height: 4, frameRate: q('1e-7 Hz') });
    const c = new AbortController();
    const got: number[] = [];
    const reading = countInto(camera.stream({ signal: c.signal, count: 3 }), got);
    await sleep(100);
    c.abort();
    await assert.rejects(reading, { name: 'AbortError' });
    assert.ok(got.length <= 1, `${got.length} frames in 100 ms`);
    assert.equal(camera.state.current, 'standby');
  });

  it('wait({ intervalMs: 1e12 }) polls once, not hundreds of times', async () => {
    const motor = await motors.LinearMotor.create({});
    let reads = 0;
    const position = motor.position;
    const original = position.get.bind(position);
    position.get = ((...args: Parameters<typeof original>) => (reads++, original(...args))) as typeof position.get;
    const c = new AbortController();
    const waiting = position.wait(q('5 mm'), { intervalMs: 1e12, signal: c.signal });
    await sleep(100);
    c.abort();
    await assert.rejects(waiting, { name: 'AbortError' });
    assert.equal(reads, 1);
  });

  it('a receiver stream({ idleTimeoutMs: 3e9 }) waits instead of failing after 2 ms', async () => {
    const receiver = await ZmqReceiver.create({ mode: 'pull', bind: tcpEndpoint() });
    try {
      const c = new AbortController();
      const reading = (async () => {
        for await (const _ of receiver.stream({ idleTimeoutMs: 3e9, signal: c.signal }));
      })();
      await sleep(60);
      c.abort();
      await assert.rejects(reading, { name: 'AbortError' });
    } finally {
      receiver.close();
    }
  });

  it('a streaming step stopping after durationMs / idleMs of 3e9 does not stop at once', async () => {
    const stops: string[] = [];
    const watch = new StopWatch({ durationMs: 3e9, idleMs: 3e9 }, undefined, (reason) => stops.push(reason));
    watch.start();
    await sleep(60);
    watch.itemReceived();
    await sleep(30);
    watch.dispose();
    assert.deepEqual(stops, []);
  });

  it('socket options beyond their 32-bit limit are refused with the option named', async () => {
    await assert.rejects(
      ControlClient.create({ connect: tcpEndpoint(await freePort()), timeoutMs: 1e12 }),
      (e: Error) =>
        e instanceof OptionError &&
        /ControlClient\.create: option 'timeoutMs' must be a number of milliseconds in \[1, 2147483647\] \(a ZeroMQ socket option is a 32-bit integer\), got 1000000000000/.test(
          e.message,
        ),
    );
    await assert.rejects(
      ZmqSender.create({ mode: 'push', bind: tcpEndpoint(), sendTimeoutMs: 3e9 }),
      /ZmqSender\(push\): option 'sendTimeoutMs' must be a number of milliseconds in \[0, 2147483647\]/,
    );
    await assert.rejects(
      remote.Camera.create({ endpoint: tcpEndpoint(await freePort()), timeoutMs: 1e12 }),
      /Camera\.create: option 'timeoutMs' must be a finite number in \[1, 2147483647\], got 1000000000000/,
    );
    // A request's own timeout is not a socket option: any length works.
    const client = await ControlClient.create({ connect: tcpEndpoint(await freePort()), timeoutMs: 50 });
    try {
      const c = new AbortController();
      const request = client.request('status', undefined, { timeoutMs: 1e12, signal: c.signal });
      await sleep(100);
      c.abort();
      await assert.rejects(request, { name: 'AbortError' });
    } finally {
      client.close();
    }
  });
});

describe('issue 10, item 11: inputs are checked, never silently accepted', function () {
  this.timeout(10_000);

  /** Asserts an OptionError whose message matches `message`. */
  async function refused(call: () => unknown, message: RegExp): Promise<void> {
    await assert.rejects(
      async () => call(),
      (e: Error) => {
        assert.ok(e instanceof OptionError, `${e.name}: ${e.message}`);
        assert.match(e.message, message);
        return true;
      },
    );
  }

  it('creating a camera runs the checks of its setters', async () => {
    await refused(
      () => cameras.Camera.create({ name: 'cam', frameRate: q('0 Hz') }),
      /^DummyCamera\.create: option 'frameRate' is refused: cam\.frameRate must be > 0 Hz, got 0 Hz$/,
    );
    await refused(
      () => cameras.Camera.create({ name: 'cam', exposureTime: q('-1 s') }),
      /^DummyCamera\.create: option 'exposureTime' is refused: cam\.exposureTime: -1 s is out of range \[0 s, ∞\]$/,
    );
  });

  it('a motor cannot be created outside its limits', async () => {
    await refused(
      () => motors.LinearMotor.create({ name: 'm', position: q('20 mm'), upper: q('10 mm') }),
      /^DummyLinearMotor\.create: option 'position' is refused: m\.position: 20 mm is out of range \[-∞, 10 mm\]$/,
    );
    await refused(
      () => motors.RotationMotor.create({ name: 'r', position: q('-5 deg'), lower: q('0 deg') }),
      /option 'position' is refused: r\.position: -5 deg is out of range \[0 deg, ∞\]/,
    );
  });

  it("camera.stream() checks its count and options (-1, NaN, 1.5, '3', null, unknown keys)", async () => {
    const camera = await cameras.Camera.create({ name: 'cam', width: 4, height: 4 });
    const first = (options: unknown) => camera.stream(options as never).next();
    for (const [count, shown] of [
      [-1, '-1'],
      [Number.NaN, 'NaN'],
      [1.5, '1.5'],
      ['3', '"3"'],
    ] as const)
      await refused(
        () => first({ count }),
        new RegExp(
          `^cam\\.stream: option 'count' must be an integer in \\[0, Infinity\\], got ${shown.replace('.', '\\.')}$`,
        ),
      );
    await refused(() => first(null), /^cam\.stream: options must be an object, got null$/);
    await refused(() => first({ cont: 3 }), /^cam\.stream: unknown option 'cont', did you mean 'count'\?/);
    assert.equal(camera.state.current, 'standby');
  });

  it('unknown keys and bad values of call options are refused, and the device is left as it was', async () => {
    const motor = await motors.LinearMotor.create({ name: 'm' });
    await refused(
      () => motor.setPosition(q('1 mm'), { bogus: 1 } as never),
      /^m\.position\.set: unknown option 'bogus' \(allowed: signal\)$/,
    );
    await refused(
      () => motor.move(q('1 mm'), { signal: 'x' } as never),
      /^m\.move: option 'signal' must be an AbortSignal, got "x"$/,
    );
    await refused(() => motor.home({ bogus: 1 } as never), /^m\.home: unknown option 'bogus'/);
    await refused(
      () => motor.position.wait(q('0 mm'), { timeout: 5 } as never),
      /^m\.position\.wait: unknown option 'timeout', did you mean 'timeoutMs'\?/,
    );
    await refused(
      () => motor.position.wait(q('0 mm'), { intervalMs: 0 }),
      /option 'intervalMs' must be a finite number in \(0, Infinity\]/,
    );
    assert.equal((await motor.getPosition()).toNumber('mm'), 0, 'the motor did not move');
    assert.equal(motor.state.current, 'standby');
    const camera = await cameras.Camera.create({ name: 'cam', width: 4, height: 4 });
    await camera.startRecording();
    await refused(
      () => camera.grab({ sgnal: undefined } as never),
      /^cam\.grab: unknown option 'sgnal', did you mean 'signal'\?/,
    );
    assert.equal(camera.state.current, 'recording', 'a refused call is not a camera fault');
    await camera.stopRecording();
    const shutter = await shutters.Shutter.create({ name: 's' });
    const before = shutter.state.current;
    await refused(
      () => (before === 'open' ? shutter.close : shutter.open).call(shutter, { signal: 42 } as never),
      /^s\.(open|close): option 'signal' must be an AbortSignal, got 42$/,
    );
    assert.equal(shutter.state.current, before);
    const exp = await Experiment.create([]);
    assert.throws(
      () => exp.run({ sigal: undefined } as never),
      /^OptionError: experiment\.run: unknown option 'sigal'/,
    );
  });

  it('Acquisition: frames, policy and queueSize are checked (queueSize 0 would deadlock the run)', async () => {
    const producer = async function* (): AsyncGenerator<Frame> {};
    await refused(
      () => Acquisition.create('a', producer, { frames: -5 }),
      /option 'frames' must be an integer in \[0, Infinity\] or a function, got -5/,
    );
    await refused(() => Acquisition.create('a', producer, { frames: Number.NaN }), /option 'frames' .* got NaN/);
    const a = await Acquisition.create('a', producer);
    await refused(
      () => frameConsumer('c', async () => undefined, { policy: 'fast' as never }),
      /^frameConsumer\('c'\): option 'policy' must be one of "lossless", "latest", got "fast"$/,
    );
    for (const queueSize of [0, -1, 1.5])
      await refused(
        () => frameConsumer('c', async () => undefined, { queueSize }),
        /^frameConsumer\('c'\): option 'queueSize' must be an integer in \[1, 65536\]/,
      );
    // Consumers written as objects are checked when attached.
    await refused(
      () => a.attach({ name: 'c', policy: 'lossless', queueSize: 0, consume: async () => undefined }),
      /^acquisition 'a': attach\(consumer 'c'\): option 'queueSize' must be an integer in \[1, 65536\], got 0$/,
    );
    await refused(
      () => a.attach({ name: 'c', policy: 'fast', consume: async () => undefined } as never),
      /option 'policy' must be one of "lossless", "latest", got "fast"/,
    );
    await refused(
      () => a.attach({ name: 'c', policy: 'latest' } as never),
      /option 'consume' is required \(a function\)/,
    );
    assert.equal(a.consumers.length, 0);
    const exp = await Experiment.create([a]);
    await refused(
      () => FunctionAddon.create(exp, { each: () => undefined, policy: 'fast' as never }),
      /FunctionAddon\.create: option 'policy' must be one of/,
    );
  });

  it('a producer yielding null, 42 or a Float32Array labelled uint16 fails the run saying what is wrong', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [
        null,
        /the producer yielded a bad frame \(frame 1\): null is not a frame \(make one with makeFrame\(data, \[height, width\]\)\)/,
      ],
      [42, /frame 1\): number 42 is not a frame/],
      [
        { data: new Float32Array(4), shape: [2, 2], dtype: 'uint16', metadata: {} },
        /frame 1\): it is labelled uint16 but its data is a Float32Array \(a uint16 frame holds a Uint16Array\)/,
      ],
      [
        { data: new Uint16Array(3), shape: [2, 2], dtype: 'uint16', metadata: {} },
        /its shape \[2, 2\] needs 4 pixels but its data has 3/,
      ],
      [
        { data: new Uint16Array(0), shape: [0, 0], dtype: 'uint16', metadata: {} },
        /its shape must be \[height, width\] with positive integers, got \[0,0\]/,
      ],
      [
        { data: [1, 2], shape: [1, 2], dtype: 'uint16', metadata: {} },
        /its data is \[object Array\], not a typed array/,
      ],
    ];
    for (const [bad, message] of cases) {
      const a = await Acquisition.create('radios', async function* () {
        yield makeFrame(new Uint16Array(4), [2, 2]);
        yield bad as Frame;
        yield makeFrame(new Uint16Array(4), [2, 2]);
      });
      const got: number[] = [];
      a.attach(frameConsumer('w', (frames) => countInto(frames, got)));
      await assert.rejects(a.run(), (e: Error) => {
        assert.ok(e instanceof AcquisitionError);
        assert.match(e.message, /^acquisition 'radios': /);
        assert.match(e.message, message);
        return true;
      });
      assert.equal(got.length, 1, 'no frame after the bad one reaches a consumer');
    }
  });

  it('addons refuse a missing experiment clearly', async () => {
    await refused(
      () => Accumulator.create(undefined as never),
      /^Accumulator\.create: the first argument must be the Experiment to attach to \(await Accumulator\.create\(experiment, \{ … \}\)\), got undefined$/,
    );
    await refused(
      () => ImageWriter.create(null as never),
      /^ImageWriter\.create: the first argument must be the Experiment .*, got null$/,
    );
    await refused(
      async () => ImageWriter.create(await Experiment.create([]), null as never),
      /^ImageWriter\.create: options must be an object, got null$/,
    );
  });

  it('attach() right after an un-awaited detach() leaves the addon attached, idle and during a run', async () => {
    const a = await Acquisition.create('a', async function* (signal) {
      for (let i = 0; i < 30; i++) {
        await sleep(2, signal);
        yield makeFrame(new Uint16Array(1), [1, 1], { frameNumber: i });
      }
    });
    const exp = await Experiment.create([a]);
    const acc = await Accumulator.create(exp);
    for (const detach of [() => acc.detach(), () => exp.detach(acc)]) {
      const detaching = detach();
      await exp.attach(acc);
      await detaching;
      assert.ok(acc.attached && exp.addons.includes(acc) && a.consumers.length === 1);
      const run = exp.run();
      await sleep(15);
      const again = detach();
      await exp.attach(acc);
      await again;
      await run;
      assert.ok(acc.attached && exp.addons.includes(acc) && a.consumers.length === 1);
      await exp.run();
      assert.equal(acc.getItems('a').length, 30, 'the next run is consumed in full');
    }
  });
});

async function countInto(frames: AsyncIterable<{ metadata: { frameNumber: number } }>, into: number[]) {
  for await (const f of frames) into.push(f.metadata.frameNumber);
}
