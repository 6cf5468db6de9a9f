import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { makeFrame, q, type Selection } from '../../../../core/index.js';
import { Accumulator } from '../../../../addons/local/index.js';
import { Camera } from '../../../../devices/cameras/dummy.js';
import { LinearMotor } from '../../../../devices/motors/dummy.js';
import { Acquisition, Experiment } from '../../../../experiments/index.js';
import { ddoc, deviceDocs } from '../../../../session/helpers.js';
import { installQuantityInspection, PENDING_PROMISE } from '../../../../session/repl/inspection.js';
import { DirectoryWalker } from '../../../../walkers/index.js';
import { TestRepl } from './support.js';

describe('session/repl/inspection', () => {
  it('prints quantities as 2 mm, also inside objects and arrays', async () => {
    installQuantityInspection();
    assert.equal(inspect(q('2 mm')), '2 mm');
    assert.equal(inspect({ at: [q('1.5 deg'), q(3, 'um')] }), '{ at: [ 1.5 deg, 3 um ] }');
    const t = new TestRepl({ inspQ: q });
    try {
      assert.equal(await t.run('inspQ("10 mm/s")'), '10 mm / s');
    } finally {
      await t.close();
    }
  });
});

describe('printed forms of Concert objects', () => {
  let root: string;
  beforeEach(async () => (root = await mkdtemp(join(tmpdir(), 'concert-inspect-'))));
  afterEach(async () => rm(root, { recursive: true, force: true }));

  it('a device: kind, name, state and last known values; never internals', async () => {
    const motor = await LinearMotor.create({ name: 'inspMotor', lower: q('0 mm'), upper: q('10 mm') });
    assert.equal(inspect(motor), 'LinearMotor inspMotor (standby)');
    await motor.setPosition(q('2 mm'));
    await motor.snapshot();
    const text = inspect(motor);
    assert.match(text, /^LinearMotor inspMotor \(standby\) \{ .*position: 2 mm.* \}$/);
    assert.doesNotMatch(text, /#|Mutex|Logger|\[Circular/);
    assert.equal(inspect({ m: motor }), `{ m: ${text} }`, 'also inside objects');
  });

  it('parameters: kind, full name, last value, limits or allowed values, access', async () => {
    const motor = await LinearMotor.create({ name: 'inspMotor2', lower: q('0 mm'), upper: q('10 mm') });
    assert.equal(inspect(motor.position), 'Quantity inspMotor2.position in [0 mm, 10 mm]');
    await motor.position.get();
    assert.equal(inspect(motor.position), 'Quantity inspMotor2.position: 0 mm in [0 mm, 10 mm]');
    assert.equal(inspect(motor.state), 'State inspMotor2.state: standby (read-only)');
    const camera = await Camera.create({ name: 'inspCamera' });
    const trigger = camera.param('triggerSource') as Selection<string>;
    await trigger.get();
    assert.match(inspect(trigger), /^Selection inspCamera\.triggerSource: \w+ \(one of '\w+'( \| '\w+')+\)$/);
  });

  it('experiments, acquisitions, addons, walkers and frames', async () => {
    const walker = await DirectoryWalker.create({ root });
    const darks = await Acquisition.create('darks', async function* () {}, { frames: 3 });
    const exp = await Experiment.create([darks], { name: 'inspExp', walker });
    const sums = await Accumulator.create(exp, { name: 'sums' });
    await exp.iteration.get();
    assert.equal(inspect(exp), 'Experiment inspExp (standby) { iteration: 0, acquisitions: darks (3), addons: sums }');
    assert.equal(inspect(darks), 'Acquisition darks (3 frames, 1 consumer)');
    assert.equal(inspect(sums), 'Accumulator sums (attached: darks)');
    assert.equal(inspect(walker), `DirectoryWalker ${root}`);
    const frame = makeFrame(new Uint16Array(6), [2, 3], { frameNumber: 4, timestamp: 5, angle: 0.5 });
    assert.equal(inspect(frame), 'Frame 2×3 uint16 { frameNumber: 4, timestamp: 5, angle: 0.5 }');
    assert.deepEqual({ ...frame }, { data: frame.data, shape: [2, 3], dtype: 'uint16', metadata: frame.metadata });
  });

  it('ddoc(device) documents only that device, with limits and Selection values', async () => {
    const motor = await LinearMotor.create({ name: 'inspMotor3', lower: q('0 mm'), upper: q('10 mm') });
    const camera = await Camera.create({ name: 'inspCamera2' });
    const text = deviceDocs([motor, camera]);
    assert.match(text, /inspMotor3 \(LinearMotor\)\n[\s\S]*position\s+mm\s+rw\s+\[0 mm, 10 mm\]/);
    assert.match(text, /triggerSource\s+rw\s+'\w+' \| '\w+'/);
    assert.throws(() => ddoc(42 as never), /ddoc\(\): argument 1 is not a device or an experiment \(got 42\)/);
  });

  it('at the prompt: a device is printed with fresh values; a pending promise says to add await', async () => {
    const motor = await LinearMotor.create({ name: 'inspMotor4' });
    const t = new TestRepl({ inspMotor4: motor, inspNever: () => new Promise(() => {}) });
    try {
      assert.match(await t.run('inspMotor4'), /^LinearMotor inspMotor4 \(standby\) \{ .*position: 0 mm/);
      assert.equal(await t.run('inspMotor4.getPosition()'), PENDING_PROMISE);
      assert.equal(await t.run('inspNever()'), PENDING_PROMISE);
      assert.equal(await t.run('await inspMotor4.getPosition()'), '0 mm');
      assert.equal(await t.run('Promise.resolve(3)'), 'Promise { 3 }');
    } finally {
      await t.close();
    }
  });
});
