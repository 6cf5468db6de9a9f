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
      await new Promise((r) => setTimeout(r, 200));
      await client.request('acquisition.stop');
      assert.ok(answeredAt >= at + START_SETTLE_MS, `answered ${(answeredAt - at).toFixed(1)} ms after the instant`);
      // the widest gap between heartbeats holds the instant and lasts about the quiet window
      const gaps = beats.slice(1).map((t, i) => ({ from: beats[i]!, to: t }));
      const widest = gaps.reduce((a, b) => (b.to - b.from > a.to - a.from ? b : a));
      const ms = (t: number) => `${(t - at).toFixed(1)} ms`;
      assert.ok(
        widest.from < at && widest.to > at + START_SETTLE_MS,
        `widest gap ${ms(widest.from)} … ${ms(widest.to)} from the instant`,
      );
      assert.ok(widest.from <= at - QUIET_BEFORE_MS + 25, `last heartbeat before the start at ${ms(widest.from)}`);
      assert.ok(beats.filter((t) => t > at + 100).length >= 3, 'heartbeats resume after the start');
    } finally {
      client.close();
      events.close();
      await receiving;
      await server.stop();
      await camera.disconnect();
    }
  });
});
