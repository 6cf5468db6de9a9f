/**
 * The remote camera passes the same conformance suite as the dummy camera, against a camera
 * server (in this process, over tcp loopback) serving a dummy camera.
 */
import assert from 'node:assert/strict';
import { q } from '../../../../core/index.js';
import * as dummy from '../../../../devices/cameras/dummy.js';
import * as remote from '../../../../devices/cameras/remote.js';
import { CameraServer } from '../../../../devices/cameras/server.js';
import { freePort, tcpEndpoint, ZmqReceiver } from '../../../../transport/zmq/index.js';
import { describeCamera } from '../../../conformance/camera.case.js';

describe('devices/cameras/remote', function () {
  this.timeout(20_000);
  const servers: CameraServer[] = [];

  after(async () => {
    for (const s of servers.splice(0)) await s.stop();
  });

  /** A fresh camera server with a dummy camera, and a remote camera controlling it. */
  async function make(): Promise<remote.RemoteCamera> {
    const camera = await dummy.DummyCamera.create({ width: 64, height: 48, frameRate: q('1000 Hz') });
    const server = await new CameraServer(camera, { control: tcpEndpoint() }).start();
    servers.push(server);
    return remote.RemoteCamera.create({ endpoint: server.endpoint });
  }

  describeCamera(make);

  it('a server stopped while recording stops the camera normally: no emergency stop', async () => {
    const camera = await dummy.Camera.create({ width: 16, height: 8, frameRate: q('1000 Hz') });
    const server = await new CameraServer(camera, { control: tcpEndpoint() }).start();
    const client = await remote.Camera.create({ endpoint: server.endpoint });
    await client.startRecording();
    const warned: string[] = [];
    const warn = camera.log.warn.bind(camera.log);
    camera.log.warn = (message: string, ...rest: unknown[]) => {
      warned.push(message);
      warn(message, ...(rest as []));
    };
    await server.stop();
    assert.equal(await camera.getState(), 'standby');
    assert.deepEqual(warned, []);
    await client.disconnect().catch(() => undefined);
  });

  it("estimateFrames asks the server: its camera's settings, dtype and metadata, frames sent directly", async () => {
    const camera = await dummy.DummyCamera.create({ name: 'serverCam', width: 40, height: 20, frameRate: q('250 Hz') });
    const server = await new CameraServer(camera, { control: tcpEndpoint() }).start();
    servers.push(server);
    const client = await remote.RemoteCamera.create({ name: 'mine', endpoint: server.endpoint });
    try {
      await client.setRoiWidth(q('32 px'));
      const e = await client.estimateFrames();
      assert.deepEqual(e.shape, [20, 32]);
      assert.equal(e.dtype, 'uint16');
      assert.equal(e.periodMs, 4);
      assert.equal(e.direct, true);
      const m = e.metadata(7);
      assert.deepEqual(Object.keys(m), ['frameNumber', 'timestamp', 'timestampUs', 'camera', 'stream']);
      assert.equal(m.frameNumber, 7);
      assert.equal(m.camera, 'serverCam', "the server's camera names the frames");
    } finally {
      await client.disconnect();
    }
  });

  it('grabSend sends frames straight to a registered endpoint, then the end marker', async () => {
    const camera = await make();
    const data = tcpEndpoint(await freePort());
    await camera.registerEndpoint(data, { mode: 'push' });
    const receiver = await ZmqReceiver.create({ mode: 'pull', connect: data });
    try {
      const got: number[] = [];
      const reading = (async () => {
        for await (const f of receiver.stream({ idleTimeoutMs: 5000 })) got.push(f.metadata.frameNumber);
      })();
      const sent = await camera.recording(() => camera.grabSend(7));
      await reading;
      assert.equal(sent, 7);
      assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6]);
      assert.equal(camera.sentFrames, 7);
      await camera.unregisterEndpoint(data);
      await assert.rejects(camera.unregisterEndpoint(data), /no registered endpoint/);
    } finally {
      receiver.close();
      await camera.disconnect();
    }
  });

  it('grabSend outside recording is refused; a server that is gone fails within the timeout', async () => {
    const camera = await make();
    await assert.rejects(camera.grabSend(1), /not allowed in state 'standby'/);
    await servers.pop()!.stop();
    const t = performance.now();
    await assert.rejects(camera.getExposureTime(), /no reply within 3000 ms/);
    assert.ok(performance.now() - t < 4000);
    await camera.disconnect();
  });
});
