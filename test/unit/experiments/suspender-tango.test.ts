import assert from 'node:assert/strict';
import { map } from 'rxjs';
import { q, sleep } from '../../../core/index.js';
import { Accumulator } from '../../../addons/local/index.js';
import { ContinuousTomography, shutterExposure } from '../../../experiments/index.js';
import { DummyWalker } from '../../../walkers/index.js';
import { useTangoDevice } from '../tango/device-fixture.js';
import { pyTangoAvailable, RingServer } from '../tango/pytango-server.js';
import { rig } from './rig.js';

/** Calls `step` every 200 ms until `test()` holds (a pushed event may go out before the SUB socket joined). */
async function repeatUntil(step: () => Promise<unknown>, test: () => boolean, what: string, ms = 15_000) {
  const t0 = performance.now();
  while (!test()) {
    if (performance.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await step();
    for (let i = 0; i < 100 && !test(); i++) await sleep(2);
  }
}

describe('experiments/suspender: a Tango ring current through change events (PyTango server)', function () {
  this.timeout(60_000);
  const t = useTangoDevice(pyTangoAvailable, () => RingServer.start());

  it('a continuous tomography is suspended while the current is low and goes on, every angle once', async () => {
    const r = await rig({ frameRate: 200 });
    try {
      const walker = new DummyWalker();
      const exp = await ContinuousTomography.create({
        walker,
        camera: r.camera,
        exposure: shutterExposure(r.shutter),
        flatMotor: r.flatMotor,
        tomographyMotor: r.tomographyMotor,
        radioPosition: q('2 mm'),
        flatPosition: q('12 mm'),
        numDarks: 2,
        numFlats: 2,
        numProjections: 200,
      });
      const acc = await Accumulator.create(exp);
      let events = 0;
      exp.suspendWhen(
        t.dev.subscribe('current', 'change', { mode: 'zmq' }).pipe(
          map((reading) => {
            events++;
            return Number(reading.value) < 100;
          }),
        ),
        { cause: 'ring current below 100 mA (Tango)', resumeAfter: q('100 ms') },
      );
      const run = exp.run();
      const radios = () => (acc.attached ? safeCount(acc) : 0);
      await repeatUntil(
        async () => undefined,
        () => radios() >= 10,
        '10 radios',
      );
      await repeatUntil(
        () => t.dev.command('SetCurrent', 20),
        () => exp.checkpoint !== undefined,
        'the suspension',
      );
      assert.equal(exp.state.current, 'paused');
      await repeatUntil(
        async () => undefined,
        () => r.shutter.state.current === 'closed',
        'the safe state',
      );
      assert.equal(r.tomographyMotor.motion.velocity, 0);
      await repeatUntil(
        () => t.dev.command('SetCurrent', 180),
        () => exp.state.current === 'running',
        'the resume',
      );
      const result = await run;
      assert.ok(events >= 3, `change events received: ${events}`);
      assert.equal(result.suspensions.length, 1);
      assert.equal(result.suspensions[0]!.cause, 'ring current below 100 mA (Tango)');
      const got = acc.getItems('radios');
      assert.deepEqual(
        got.map((f) => f.metadata.frameNumber),
        Array.from({ length: 200 }, (_, i) => i),
      );
      for (const f of got) assert.equal(r.shots[f.metadata.shot as number]!.shutter, 'open');
      assert.match(walker.texts.get('/scan_0000/experiment.log')!, /suspended: ring current below 100 mA \(Tango\)/);
    } finally {
      await r.close();
    }
  });
});

function safeCount(acc: Accumulator): number {
  try {
    return acc.getItems('radios').length;
  } catch {
    return 0;
  }
}
