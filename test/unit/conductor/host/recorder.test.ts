/**
 * The conductor's commands on a camera server, in process: a camera server with its recorder
 * installed, attached to an event socket of the test's, keeps its heartbeats still around a start
 * instant (a heartbeat then wakes the server and the conductor as the host's servers wake).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { q } from '../../../../core/index.js';
import { AcquisitionRecorder } from '../../../../conductor/host/recorder.js';
import { QUIET_BEFORE_MS, START_SETTLE_MS } from '../../../../conductor/host/recording.js';
import { Camera } from '../../../../devices/cameras/dummy.js';
import { CameraServer } from '../../../../devices/cameras/server.js';
import { ControlClient, EventSubscriber } from '../../../../transport/zmq/index.js';
import { preciseNow } from '../../../../walkers/formats/index.js';
import { delay } from '../../../support/async.js';

describe('AcquisitionRecorder (conductor/host)', function () {
  this.timeout(20_000);
  let base = '';
  beforeEach(() => (base = mkdtempSync(join(tmpdir(), 'concert-recorder-'))));
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('sends no heartbeat from QUIET_BEFORE_MS before the start instant until the start settled', async () => {
    const camera = await Camera.create({ width: 16, height: 8, frameRate: q(90, 'Hz'), simulate: false });
    const server = await new CameraServer(camera, { control: 'tcp://127.0.0.1:*' }).start();
    new AcquisitionRecorder(server, { root: base }).install();
    const events = await EventSubscriber.create({ bind: 'tcp://127.0.0.1:*', topics: ['status'] });
    const client = await ControlClient.create({ connect: server.endpoint, timeoutMs: 5000 });
    const beats: number[] = [];
    const receiving = (async () => {
      for await (const _ of events) beats.push(preciseNow());
    })();
    try {
      await client.request('conductor.attach', { name: 'cam', events: events.endpoint, heartbeatMs: 20 });
      await client.request('acquisition.arm', {
        camera: 'cam',
        acquisitionName: 'quiet',
        group: '',
        dataPath: 'data',
        saveData: false,
        format: 'tiff',
        maxAcquisitionTime: 60,
        frameRate: 90,
        triggerSource: 'AUTO',
        settings: {},
      });
      const at = preciseNow() + 400;
      await client.request('acquisition.start', { startAt: at });
      const answeredAt = preciseNow();
      // heartbeats resume: wait for 3 after the answer (a loaded machine delays timers; bounded)
      const resumed = () => beats.filter((t) => t > answeredAt).length >= 3;
      for (const until = preciseNow() + 5000; !resumed() && preciseNow() < until;) await delay(20);
      await client.request('acquisition.stop');
      // the settle counts from the camera's start, after the instant; its timers may end 1 ms early
      assert.ok(
        answeredAt >= at + START_SETTLE_MS - 2,
        `answered ${(answeredAt - at).toFixed(1)} ms after the instant`,
      );
      // none sent in the window: a beat received well inside it (30 ms from its edges, for the
      // delivery of one sent just before) was sent in it
      const from = at - QUIET_BEFORE_MS + 30;
      const to = at + START_SETTLE_MS - 5;
      const inside = beats.filter((t) => t > from && t < to).map((t) => `${(t - at).toFixed(1)} ms`);
      assert.deepEqual(inside, [], 'heartbeats received inside the quiet window (from the instant)');
      assert.ok(beats.filter((t) => t < from).length >= 3, 'heartbeats came before the window');
      assert.ok(resumed(), `heartbeats resume after the start (${beats.filter((t) => t > answeredAt).length} in 5 s)`);
    } finally {
      client.close();
      events.close();
      await receiving;
      await server.stop();
      await camera.disconnect();
    }
  });
});
