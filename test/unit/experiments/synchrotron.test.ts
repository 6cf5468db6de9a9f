import assert from 'node:assert/strict';
import { LockError, q, toNumber, type Frame } from '../../../core/index.js';
import { Accumulator } from '../../../addons/local/index.js';
import { synchrotron } from '../../../experiments/index.js';
import { DummyWalker } from '../../../walkers/index.js';
import { within } from '../../support/async.js';
import { rig } from './rig.js';

type Rig = Awaited<ReturnType<typeof rig>>;

function keys(frames: Frame[], key: string): unknown[] {
  return frames.map((f) => f.metadata[key]);
}

describe('experiments/synchrotron', () => {
  let r: Rig;
  beforeEach(async () => {
    r = await rig();
  });
  afterEach(async () => {
    await r.close();
  });

  function radiography(extra: Partial<Parameters<typeof synchrotron.Radiography.create>[0]> = {}) {
    return synchrotron.Radiography.create({
      walker: new DummyWalker(),
      camera: r.camera,
      shutter: r.shutter,
      flatMotor: r.flatMotor,
      radioPosition: q('1 mm'),
      flatPosition: q('10 mm'),
      numDarks: 3,
      numFlats: 4,
      numProjections: 5,
      ...extra,
    });
  }

  it('takes darks with the shutter closed, flats at the flat position and radios at the radio position with it open', async () => {
    const exp = await radiography();
    const acc = await Accumulator.create(exp);
    await within(5000, exp.run().done);
    assert.deepEqual(
      r.shots.map((s) => s.shutter),
      [...Array(3).fill('closed'), ...Array(9).fill('open')],
    );
    assert.deepEqual(
      r.shots.slice(3, 7).map((s) => s.flat),
      [10, 10, 10, 10],
    );
    assert.deepEqual(
      r.shots.slice(7).map((s) => s.flat),
      [1, 1, 1, 1, 1],
    );
    assert.deepEqual(keys(acc.getItems('darks'), 'image_key'), [2, 2, 2]);
    assert.deepEqual(keys(acc.getItems('flats'), 'image_key'), [1, 1, 1, 1]);
    assert.deepEqual(keys(acc.getItems('radios'), 'image_key'), [0, 0, 0, 0, 0]);
    // After the run: shutter closed, flat motor back where it was, camera in standby with its trigger source.
    assert.equal(await r.shutter.getState(), 'closed');
    assert.equal(toNumber(await r.flatMotor.getPosition(), 'mm'), 0);
    assert.equal(await r.camera.getState(), 'standby');
    assert.equal(await r.camera.getTriggerSource(), 'AUTO');
    assert.equal(await exp.state.get(), 'standby');
  });

  it('locks its settings while running and unlocks them afterwards', async () => {
    const exp = await radiography({ numProjections: 200 });
    const run = exp.run();
    while (r.shots.length < 8) await new Promise((res) => setTimeout(res, 2));
    assert.ok(exp.numProjections.locked);
    await assert.rejects(exp.numDarks.set(1), LockError);
    await assert.rejects(exp.flatPosition.set(q('2 mm')), LockError);
    await run.cancel();
    assert.ok(!exp.numProjections.locked);
    await exp.numDarks.set(1);
    assert.equal(await exp.numDarks.get(), 1);
  });

  it('closes the shutter, stops and restores the motors after cancel, and runs again', async () => {
    const exp = await synchrotron.ContinuousTomography.create({
      walker: new DummyWalker(),
      camera: r.camera,
      shutter: r.shutter,
      flatMotor: r.flatMotor,
      tomographyMotor: r.tomographyMotor,
      radioPosition: q('1 mm'),
      flatPosition: q('10 mm'),
      numDarks: 2,
      numFlats: 2,
      numProjections: 100000,
    });
    await r.tomographyMotor.setPosition(q('5 deg'));
    const run = exp.run();
    while (r.shots.length < 20) await new Promise((res) => setTimeout(res, 2));
    assert.equal(await r.tomographyMotor.getState(), 'moving');
    await within(3000, run.cancel());
    await assert.rejects(run.done, { name: 'AbortError' });
    assert.equal(await exp.state.get(), 'cancelled');
    assert.equal(await r.shutter.getState(), 'closed');
    assert.equal(await r.tomographyMotor.getState(), 'standby');
    assert.equal(toNumber(await r.tomographyMotor.getVelocity(), 'deg/s'), 0);
    assert.equal(toNumber(await r.tomographyMotor.getPosition(), 'deg'), 5);
    assert.equal(toNumber(await r.flatMotor.getPosition(), 'mm'), 0);
    assert.equal(await r.camera.getState(), 'standby');
    assert.ok(exp.readyToPrepareNextSample.isSet);

    await exp.numProjections.set(10);
    r.shots.length = 0;
    const result = await within(5000, exp.run().done);
    assert.equal(result.acquisitions.radios!.frames, 10);
    assert.equal(await exp.state.get(), 'standby');
    assert.equal(await r.shutter.getState(), 'closed');
  });

  it('has every imaging experiment for a shutter', async () => {
    for (const name of [
      'Radiography',
      'SteppedTomography',
      'ContinuousTomography',
      'SteppedSpiralTomography',
      'ContinuousSpiralTomography',
      'GratingInterferometryStepping',
    ])
      assert.equal(typeof (synchrotron as Record<string, unknown>)[name], 'function', name);
    await assert.rejects(
      synchrotron.Radiography.create({
        camera: r.camera,
        flatMotor: r.flatMotor,
        radioPosition: q('0 mm'),
        flatPosition: q('1 mm'),
      } as never),
      { name: 'OptionError', message: /'shutter' is required/ },
    );
  });

  it('grating stepping: darks closed, reference stepping at the flat position, object stepping at the radio position', async () => {
    const exp = await synchrotron.GratingInterferometryStepping.create({
      walker: new DummyWalker(),
      camera: r.camera,
      shutter: r.shutter,
      flatMotor: r.flatMotor,
      steppingMotor: r.steppingMotor,
      radioPosition: q('1 mm'),
      flatPosition: q('10 mm'),
      gratingPeriod: q('2.4 um'),
      steppingStartPosition: q('0.001 mm'),
      numDarks: 2,
      numPeriods: 2,
      numStepsPerPeriod: 3,
    });
    assert.deepEqual(
      exp.acquisitions.map((a) => a.name),
      ['darks', 'reference_stepping', 'object_stepping'],
    );
    const acc = await Accumulator.create(exp);
    await within(5000, exp.run().done);
    assert.deepEqual(
      r.shots.map((s) => s.shutter),
      ['closed', 'closed', ...Array(12).fill('open')],
    );
    assert.deepEqual(
      r.shots.slice(2, 8).map((s) => s.flat),
      Array(6).fill(10),
    );
    assert.deepEqual(
      r.shots.slice(8).map((s) => s.flat),
      Array(6).fill(1),
    );
    const expected = [0, 1, 2, 3, 4, 5].map((i) => 0.001 + i * 0.0008);
    for (const [i, s] of r.shots.slice(2, 8).entries())
      assert.ok(Math.abs(s.stepping - expected[i]!) < 1e-12, `step ${i}: ${s.stepping}`);
    assert.deepEqual(keys(acc.getItems('reference_stepping'), 'image_key'), Array(6).fill(1));
    assert.deepEqual(keys(acc.getItems('object_stepping'), 'step'), [0, 1, 2, 3, 4, 5]);
    assert.equal(await r.shutter.getState(), 'closed');
    assert.equal(toNumber(await r.steppingMotor.getPosition(), 'mm'), 0);
    await assert.rejects(exp.numFlats.set(3), LockError);
  });
});
