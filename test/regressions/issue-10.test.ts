/**
 * Issue 10, "No data lost after a failure": the local items. Each test reproduces a case the issue
 * names and asserts the whole class of it.
 */
import assert from 'node:assert/strict';
import { q, sleep } from '../../core/index.js';
import * as cameras from '../../devices/cameras/dummy.js';
import * as remote from '../../devices/cameras/remote.js';
import { CameraServer } from '../../devices/cameras/server.js';
import * as motors from '../../devices/motors/dummy.js';
import {
  Acquisition,
  AcquisitionError,
  consumer,
  Experiment,
  remoteAcquisition,
  type FrameConsumer,
} from '../../experiments/index.js';
import { freePort, tcpEndpoint, ZmqReceiver } from '../../transport/zmq/index.js';

/** A lossless consumer that fails with `message` after `after` frames. */
function failingAfter(after: number, message = 'disk full'): FrameConsumer {
  return consumer('writer', async (frames) => {
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
      radios.attach(consumer('ok', async (frames) => void (await countInto(frames, got))));
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
        next.attach(consumer('ok', (f) => countInto(f, frames)));
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

async function countInto(frames: AsyncIterable<{ metadata: { frameNumber: number } }>, into: number[]) {
  for await (const f of frames) into.push(f.metadata.frameNumber);
}
