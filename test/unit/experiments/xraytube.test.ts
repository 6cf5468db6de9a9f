import assert from 'node:assert/strict';
import { q, toNumber } from '../../../core/index.js';
import { xraytube } from '../../../experiments/index.js';
import { DummyWalker } from '../../../walkers/index.js';
import { within } from '../../support/async.js';
import { rig } from './rig.js';

describe('experiments/xraytube', () => {
  let r: Awaited<ReturnType<typeof rig>>;
  beforeEach(async () => {
    r = await rig();
  });
  afterEach(async () => {
    await r.close();
  });

  it('takes darks with the tube off, flats and projections with it on, and switches it off at the end', async () => {
    r.use('stepped');
    const exp = await xraytube.SteppedTomography.create({
      walker: new DummyWalker(),
      camera: r.camera,
      xrayTube: r.xrayTube,
      flatMotor: r.flatMotor,
      tomographyMotor: r.steppedMotor,
      radioPosition: q('1 mm'),
      flatPosition: q('10 mm'),
      numDarks: 2,
      numFlats: 2,
      numProjections: 3,
    });
    await within(5000, exp.run().done);
    assert.deepEqual(
      r.shots.map((s) => s.tube),
      ['off', 'off', 'on', 'on', 'on', 'on', 'on'],
    );
    assert.deepEqual(
      r.shots.map((s) => s.shutter),
      Array(7).fill('open'),
      'the shutter is not touched',
    );
    assert.equal(await r.xrayTube.getState(), 'off');
  });

  it('switches the tube off after cancel, and a second run works', async () => {
    const exp = await xraytube.ContinuousTomography.create({
      walker: new DummyWalker(),
      camera: r.camera,
      xrayTube: r.xrayTube,
      flatMotor: r.flatMotor,
      tomographyMotor: r.tomographyMotor,
      radioPosition: q('1 mm'),
      flatPosition: q('10 mm'),
      numDarks: 0,
      numFlats: 0,
      numProjections: 100000,
    });
    const run = exp.run();
    while (r.shots.length < 5) await new Promise((res) => setTimeout(res, 2));
    assert.equal(await r.xrayTube.getState(), 'on');
    await within(3000, run.cancel());
    assert.equal(await exp.state.get(), 'cancelled');
    assert.equal(await r.xrayTube.getState(), 'off');
    assert.equal(await r.tomographyMotor.getState(), 'standby');
    assert.equal(toNumber(await r.tomographyMotor.getPosition(), 'deg'), 0);
    await exp.numProjections.set(3);
    r.shots.length = 0;
    await within(5000, exp.run().done);
    assert.deepEqual(
      r.shots.map((s) => s.tube),
      ['on', 'on', 'on'],
    );
    assert.equal(await r.xrayTube.getState(), 'off');
  });

  it('has every imaging experiment for a tube and requires the tube', async () => {
    for (const name of [
      'Radiography',
      'SteppedTomography',
      'ContinuousTomography',
      'SteppedSpiralTomography',
      'ContinuousSpiralTomography',
      'GratingInterferometryStepping',
    ])
      assert.equal(typeof (xraytube as Record<string, unknown>)[name], 'function', name);
    await assert.rejects(
      xraytube.Radiography.create({
        camera: r.camera,
        flatMotor: r.flatMotor,
        radioPosition: q('0 mm'),
        flatPosition: q('1 mm'),
      } as never),
      { name: 'OptionError', message: /'xrayTube' is required/ },
    );
    const exp = await xraytube.Radiography.create({
      camera: r.camera,
      xrayTube: r.xrayTube,
      flatMotor: r.flatMotor,
      radioPosition: q('0 mm'),
      flatPosition: q('1 mm'),
      numDarks: 1,
      numFlats: 1,
      numProjections: 1,
    });
    await within(5000, exp.run().done);
    assert.deepEqual(
      r.shots.map((s) => s.tube),
      ['off', 'on', 'on'],
    );
  });
});
