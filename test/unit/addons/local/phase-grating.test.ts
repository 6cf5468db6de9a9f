import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFrame, q, type Frame } from '../../../../core/index.js';
import { analyzeStepping, PhaseGratingSteppingFourierProcessing, wrapPhase } from '../../../../addons/local/index.js';
import * as cameras from '../../../../devices/cameras/dummy.js';
import * as motors from '../../../../devices/motors/dummy.js';
import * as shutters from '../../../../devices/shutters/dummy.js';
import { Acquisition, Experiment, synchrotron } from '../../../../experiments/index.js';
import { DirectoryWalker, DummyWalker, readTiff } from '../../../../walkers/index.js';
import { within } from '../../../support/async.js';

const H = 3;
const W = 4;
const SIZE = H * W;
const pixels = Array.from({ length: SIZE }, (_, i) => i);
const dark = pixels.map((i) => 50 + i);
const reference = {
  a: pixels.map((i) => 1000 + 10 * i),
  v: pixels.map(() => 0.3),
  phi: pixels.map((i) => -2 + 0.37 * i),
};
const shift = pixels.map((i) => -2.5 + 0.45 * i);
const object = {
  a: reference.a.map((a) => 0.6 * a),
  v: pixels.map((i) => 0.3 * (0.4 + 0.02 * i)),
  phi: reference.phi.map((p, i) => p + shift[i]!),
};

/** Step k of N over `periods` periods: dark + a·(1 + v·cos(2π·periods·k/N + φ)). */
function stepping(s: { a: number[]; v: number[]; phi: number[] }, n: number, periods = 1): Frame[] {
  return Array.from({ length: n }, (_, k) =>
    makeFrame(
      Float32Array.from(
        pixels,
        (i) => dark[i]! + s.a[i]! * (1 + s.v[i]! * Math.cos((2 * Math.PI * periods * k) / n + s.phi[i]!)),
      ),
      [H, W],
    ),
  );
}

function near(actual: ArrayLike<number>, expected: ArrayLike<number>, eps: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++)
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= eps, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
}

async function syntheticExperiment(
  walker: DirectoryWalker | DummyWalker,
  n: number,
  periods: number,
): Promise<Experiment> {
  const source = (frames: () => Frame[]) =>
    async function* () {
      yield* frames();
    };
  return Experiment.create(
    [
      await Acquisition.create(
        'darks',
        source(() => [0, 1].map(() => makeFrame(Float32Array.from(dark), [H, W]))),
      ),
      await Acquisition.create(
        'reference_stepping',
        source(() => stepping(reference, n, periods)),
      ),
      await Acquisition.create(
        'object_stepping',
        source(() => stepping(object, n, periods)),
      ),
    ],
    { walker },
  );
}

describe('addons/local/phase-grating', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'concert-phase-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('wraps phases to (−π, π]', () => {
    assert.equal(wrapPhase(0), 0);
    assert.equal(wrapPhase(Math.PI), Math.PI);
    assert.equal(wrapPhase(-Math.PI), Math.PI);
    assert.ok(Math.abs(wrapPhase((3 * Math.PI) / 2) + Math.PI / 2) < 1e-12);
    assert.ok(Math.abs(wrapPhase(-7) - (-7 + 2 * Math.PI)) < 1e-12);
  });

  it('recovers intensity, phase and visibility of one stepping', () => {
    const r = analyzeStepping(stepping(reference, 8), Float32Array.from(dark));
    near(r.intensity.data, reference.a, 1e-2, 'intensity');
    near(r.phase.data, reference.phi.map(wrapPhase), 1e-5, 'phase');
    near(r.visibility.data, reference.v, 1e-5, 'visibility');
    assert.equal(r.phase.dtype, 'float32');
    assert.throws(() => analyzeStepping(stepping(reference, 1), undefined), { name: 'AddonError' });
  });

  it('computes the contrasts of synthetic stepping data, writes float32 TIFFs and keeps the arrays', async () => {
    const walker = await DirectoryWalker.create({ root });
    const exp = await syntheticExperiment(walker, 8, 1);
    const processing = await PhaseGratingSteppingFourierProcessing.create(exp);
    await within(5000, exp.run().done);
    near(processing.dark!.data, dark, 1e-6, 'dark');
    near(processing.referenceVisibility!.data, reference.v, 1e-5, 'reference visibility');
    near(processing.objectIntensity!.data, object.a, 1e-2, 'object intensity');
    near(
      processing.intensity!.data,
      pixels.map(() => 0.6),
      1e-5,
      'intensity contrast',
    );
    near(processing.diffPhase!.data, shift.map(wrapPhase), 1e-5, 'differential phase');
    near(
      processing.visibilityContrast!.data,
      object.v.map((v, i) => v / reference.v[i]!),
      1e-5,
      'visibility contrast',
    );
    assert.ok(processing.diffPhase!.data.every((v) => v > -Math.PI && v <= Math.PI));
    assert.equal(processing.diffPhaseInRad, undefined, 'no propagation distance: no angle');
    const out = join(root, 'scan_0000', 'phase-stepping');
    for (const name of [
      'reference_intensity',
      'reference_phase',
      'reference_visibility',
      'object_intensity',
      'object_phase',
      'object_visibility',
      'intensity_contrast',
      'differential_phase',
      'visibility_contrast',
    ]) {
      const [page] = await readTiff(join(out, name, 'frame_000000.tif'));
      assert.equal(page!.frame.dtype, 'float32', name);
      assert.deepEqual(page!.frame.shape, [H, W], name);
    }
    const [phase] = await readTiff(join(out, 'differential_phase', 'frame_000000.tif'));
    assert.deepEqual([...phase!.frame.data], [...processing.diffPhase!.data]);
    assert.equal(processing.summary().imagesWritten, 9);
  });

  it('analyses the first harmonic of several periods', async () => {
    const exp = await syntheticExperiment(new DummyWalker(), 12, 2);
    const processing = await PhaseGratingSteppingFourierProcessing.create(exp, { numPeriods: 2 });
    await within(5000, exp.run().done);
    near(processing.diffPhase!.data, shift.map(wrapPhase), 1e-5, 'differential phase');
    near(
      processing.visibilityContrast!.data,
      object.v.map((v, i) => v / reference.v[i]!),
      1e-5,
      'visibility contrast',
    );
  });

  it('refuses an experiment without steppings', async () => {
    const exp = await Experiment.create([await Acquisition.create('radios', async function* () {})]);
    await assert.rejects(PhaseGratingSteppingFourierProcessing.create(exp), {
      name: 'AddonError',
      message: /reference_stepping/,
    });
  });

  it('processes a GratingInterferometryStepping with dummy devices end to end', async () => {
    // A camera behind a stepped grating: the fringe phase follows the stepping motor; the sample adds `shift`.
    const periodMm = 0.0024;
    const flatMotor = await motors.DummyLinearMotor.create({ motionVelocity: q('1e5 mm/s') });
    const steppingMotor = await motors.DummyLinearMotor.create({ motionVelocity: q('1e5 mm/s') });
    const shutter = await shutters.DummyShutter.create();
    const camera = await cameras.DummyCamera.create({
      width: W,
      height: H,
      render: () => {
        const inBeam = Math.abs(flatMotor.motion.position()) < 1;
        const x = steppingMotor.motion.position();
        const data = new Uint16Array(SIZE);
        for (const i of pixels) {
          const s = inBeam ? object : reference;
          const phi = s.phi[i]! + (2 * Math.PI * x) / periodMm;
          data[i] =
            shutter.state.current === 'closed'
              ? dark[i]!
              : Math.round(dark[i]! + 40 * s.a[i]! * (1 + s.v[i]! * Math.cos(phi)));
        }
        return makeFrame(data, [H, W]);
      },
    });
    const exp = await synchrotron.GratingInterferometryStepping.create({
      walker: new DummyWalker(),
      camera,
      shutter,
      flatMotor,
      steppingMotor,
      radioPosition: q('0 mm'),
      flatPosition: q('10 mm'),
      gratingPeriod: q(periodMm * 1000, 'um'),
      steppingStartPosition: q('0 mm'),
      numDarks: 3,
      numPeriods: 2,
      numStepsPerPeriod: 5,
      propagationDistance: q('100 mm'),
    });
    const processing = await PhaseGratingSteppingFourierProcessing.create(exp);
    await within(5000, exp.run().done);
    near(processing.diffPhase!.data, shift.map(wrapPhase), 2e-3, 'differential phase');
    near(
      processing.visibilityContrast!.data,
      object.v.map((v, i) => v / reference.v[i]!),
      2e-3,
      'visibility contrast',
    );
    near(
      processing.intensity!.data,
      pixels.map(() => 0.6),
      1e-3,
      'transmission',
    );
    near(
      processing.diffPhaseInRad!.data,
      shift.map((d) => (wrapPhase(d) * periodMm) / (2 * Math.PI * 100)),
      1e-8,
      'refraction angle',
    );
    for (const d of [flatMotor, steppingMotor, shutter, camera]) await d.disconnect();
  });
});
