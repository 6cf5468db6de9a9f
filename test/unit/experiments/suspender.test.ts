import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Subject } from 'rxjs';
import { OptionError, q, sleep, type Frame, type Unit } from '../../../core/index.js';
import { Accumulator } from '../../../addons/local/index.js';
import {
  Acquisition,
  ContinuousTomography,
  Experiment,
  shutterExposure,
  SteppedTomography,
  type RadiographyOptions,
} from '../../../experiments/index.js';
import { DummyWalker } from '../../../walkers/index.js';
import { DummyRing } from './ring.js';
import { rig } from './rig.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

async function until(test: () => boolean, what: string, ms = 10_000): Promise<void> {
  const t0 = performance.now();
  while (!test()) {
    if (performance.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

function seen(acc: Accumulator, acquisition: string): number {
  try {
    return acc.getItems(acquisition).length;
  } catch {
    return 0;
  }
}

const below100 = (ring: DummyRing) => ({ parameter: ring.current, when: (c: Unit) => c.toNumber('mA') < 100 });

describe('experiments/suspender: a dummy ring current drops and recovers', function () {
  this.timeout(60_000);
  let r: Awaited<ReturnType<typeof rig>>;
  let ring: DummyRing;
  beforeEach(async () => {
    r = await rig({ frameRate: 200 });
    ring = await DummyRing.create({ name: 'ring' });
  });
  afterEach(async () => {
    await r.close();
    await ring.disconnect();
  });

  function base(walker: DummyWalker): RadiographyOptions {
    return {
      walker,
      camera: r.camera,
      exposure: shutterExposure(r.shutter),
      flatMotor: r.flatMotor,
      radioPosition: q('2 mm'),
      flatPosition: q('12 mm'),
      numDarks: 2,
      numFlats: 2,
      numProjections: 60,
    };
  }

  /** Every angle once, in order, every frame with the beam on, taken where it says. */
  function assertDataset(acc: Accumulator, tolerance: number) {
    const radios = acc.getItems('radios');
    assert.deepEqual(
      radios.map((f) => f.metadata.frameNumber),
      Array.from({ length: 60 }, (_, i) => i),
      'no frame twice, none missing',
    );
    assert.deepEqual(
      radios.map((f) => f.metadata.angle),
      Array.from({ length: 60 }, (_, i) => i * 3),
    );
    for (const f of radios) {
      const shot = r.shots[f.metadata.shot as number]!;
      assert.ok(Math.abs(shot.angle - (f.metadata.angle as number)) <= tolerance, `frame ${f.metadata.frameNumber}`);
      assert.equal(shot.shutter, 'open', `frame ${f.metadata.frameNumber} taken with the shutter open`);
    }
  }

  /** Drops the current after `after` radios, checks the safe state, restores it; returns when resumed. */
  async function beamLoss(exp: Experiment, acc: Accumulator, after: number, motorState: () => string) {
    await until(() => seen(acc, 'radios') >= after, `${after} radios`);
    await ring.setCurrent(20);
    await until(() => exp.state.current === 'paused' && exp.checkpoint !== undefined, 'the suspension');
    await until(() => r.shutter.state.current === 'closed', 'the safe state');
    assert.equal(r.camera.state.current, 'standby');
    assert.equal(motorState(), 'standby');
    const shots = r.shots.length;
    await sleep(100);
    assert.equal(r.shots.length, shots, 'no frames while suspended');
    await ring.setCurrent(200);
  }

  it('continuous tomography: suspended in the safe state, resumes after the hold-off, no frame twice or missing', async () => {
    const walker = new DummyWalker();
    const exp = await ContinuousTomography.create({ ...base(walker), tomographyMotor: r.tomographyMotor });
    const acc = await Accumulator.create(exp);
    exp.suspendWhen(below100(ring), {
      cause: 'ring current below 100 mA',
      interval: q('5 ms'),
      resumeAfter: q('150 ms'),
    });
    const run = exp.run();
    await beamLoss(exp, acc, 15, () => r.tomographyMotor.state.current);
    const cleared = performance.now();
    await until(() => exp.state.current === 'running', 'the resume');
    assert.ok(performance.now() - cleared >= 140, 'not before the hold-off');
    const result = await run;
    assertDataset(acc, 3 * 1.5);
    assert.equal(result.suspensions.length, 1);
    const [s] = result.suspensions;
    assert.equal(s!.cause, 'ring current below 100 mA');
    assert.equal(s!.outcome, 'resumed');
    assert.equal(s!.checkpoint?.acquisition, 'radios');
    assert.ok(s!.durationMs >= 250, `duration ${s!.durationMs}`);
    const finish = JSON.parse(walker.texts.get('/scan_0000/experiment_finish.json')!);
    assert.equal(finish.suspensions.length, 1);
    assert.equal(finish.suspensions[0].cause, 'ring current below 100 mA');
    const log = walker.texts.get('/scan_0000/experiment.log')!;
    assert.match(log, /suspended: ring current below 100 mA/);
    assert.match(log, /resumed after \d+\.\d s: ring current below 100 mA \(held in 'radios' after \d+ frames\)/);
  });

  it('stepped tomography: the beam drops twice; every angle once, none missing', async () => {
    r.use('stepped');
    const exp = await SteppedTomography.create({ ...base(new DummyWalker()), tomographyMotor: r.steppedMotor });
    const acc = await Accumulator.create(exp);
    exp.suspendWhen(below100(ring), { cause: 'beam lost', interval: q('5 ms'), resumeAfter: q('50 ms') });
    const run = exp.run();
    await beamLoss(exp, acc, 10, () => r.steppedMotor.state.current);
    await until(() => exp.state.current === 'running', 'the first resume');
    await beamLoss(exp, acc, 30, () => r.steppedMotor.state.current);
    const result = await run;
    assertDataset(acc, 1e-9);
    assert.equal(result.suspensions.length, 2);
  });

  it('a drop during the hold-off starts it again; beforeResume runs once, with the checkpoint, before the run goes on', async () => {
    const calls: string[] = [];
    const exp = await ContinuousTomography.create({ ...base(new DummyWalker()), tomographyMotor: r.tomographyMotor });
    const acc = await Accumulator.create(exp);
    exp.suspendWhen(below100(ring), {
      interval: q('5 ms'),
      resumeAfter: q('200 ms'),
      beforeResume: async (_signal, s) => {
        assert.equal(exp.state.current, 'paused');
        assert.equal(r.shutter.state.current, 'closed', 'still in the safe state');
        calls.push(`${s.checkpoint?.acquisition}@${s.checkpoint?.frames}`);
      },
    });
    const run = exp.run();
    await beamLoss(exp, acc, 10, () => r.tomographyMotor.state.current);
    await sleep(80);
    await ring.setCurrent(50);
    await sleep(50);
    assert.equal(exp.state.current, 'paused');
    await ring.setCurrent(200);
    await sleep(120);
    assert.equal(exp.state.current, 'paused', 'the hold-off started again when the current came back');
    const result = await run;
    assert.equal(calls.length, 1);
    assert.equal(calls[0], `radios@${result.suspensions[0]!.checkpoint!.frames}`);
    assert.equal(result.suspensions.length, 1);
    assertDataset(acc, 3 * 1.5);
  });

  it('a condition true at the start holds the run before its first acquisition', async () => {
    await ring.setCurrent(0);
    const exp = await ContinuousTomography.create({ ...base(new DummyWalker()), tomographyMotor: r.tomographyMotor });
    const acc = await Accumulator.create(exp);
    exp.suspendWhen(below100(ring), { interval: q('5 ms') });
    const run = exp.run();
    await until(() => exp.checkpoint !== undefined, 'the hold');
    assert.equal(exp.checkpoint?.acquisition, 'darks');
    assert.equal(exp.checkpoint?.frames, 0);
    assert.equal(r.shots.length, 0);
    await ring.setCurrent(150);
    const result = await run;
    assert.equal(seen(acc, 'radios'), 60);
    assert.equal(result.suspensions[0]!.checkpoint?.acquisition, 'darks');
  });

  it('never resumes a run the user paused; resume() while suspended waits for the condition', async () => {
    const exp = await ContinuousTomography.create({ ...base(new DummyWalker()), tomographyMotor: r.tomographyMotor });
    const acc = await Accumulator.create(exp);
    exp.suspendWhen(below100(ring), { interval: q('5 ms') });
    const run = exp.run();
    await until(() => seen(acc, 'radios') >= 5, '5 radios');
    await run.pause();
    await ring.setCurrent(10);
    await sleep(50);
    await ring.setCurrent(200);
    await sleep(100);
    assert.equal(exp.state.current, 'paused', 'the user paused it: the suspender does not resume it');
    await ring.setCurrent(10);
    await sleep(50);
    await run.resume();
    await sleep(50);
    assert.equal(exp.state.current, 'paused', 'still suspended');
    await ring.setCurrent(200);
    await run;
    assertDataset(acc, 3 * 1.5);
  });

  it('a failing beforeResume ends the run with its error, the hardware safe', async () => {
    const exp = await ContinuousTomography.create({ ...base(new DummyWalker()), tomographyMotor: r.tomographyMotor });
    const acc = await Accumulator.create(exp);
    exp.suspendWhen(below100(ring), {
      cause: 'beam lost',
      interval: q('5 ms'),
      beforeResume: () => Promise.reject(new Error('flats could not be taken')),
    });
    const run = exp.run();
    await beamLoss(exp, acc, 5, () => r.tomographyMotor.state.current);
    await assert.rejects(run, /beam lost: beforeResume failed: flats could not be taken/);
    assert.equal(exp.state.current, 'error');
    assert.equal(r.shutter.state.current, 'closed');
    assert.equal(r.tomographyMotor.motion.velocity, 0);
  });

  it('a condition that cannot be checked counts as true', async () => {
    let fail = false;
    const a = await Acquisition.create('a', frames(40), { restartable: true });
    const exp = await Experiment.create([a]);
    const acc = await Accumulator.create(exp);
    exp.suspendWhen(
      () => {
        if (fail) throw new Error('ring server gone');
        return false;
      },
      { cause: 'beam', interval: q('5 ms') },
    );
    const run = exp.run();
    await until(() => seen(acc, 'a') >= 5, '5 frames');
    fail = true;
    await until(() => exp.checkpoint !== undefined, 'the suspension');
    fail = false;
    const result = await run;
    assert.equal(result.suspensions.length, 1);
    assert.deepEqual(
      acc.getItems('a').map((f) => f.metadata.frameNumber),
      Array.from({ length: 40 }, (_, i) => i),
    );
  });

  it('refuses a condition of none of the kinds and unknown options', async () => {
    const exp = await Experiment.create([]);
    assert.throws(
      () => exp.suspendWhen(42 as never),
      (e: Error) => e instanceof OptionError && /got number/.test(e.message),
    );
    assert.throws(
      () => exp.suspendWhen(() => false, { holdOff: q('1 s') } as never),
      (e: Error) => e instanceof OptionError && /holdOff/.test(e.message),
    );
    assert.throws(() => exp.suspendWhen(() => false, { resumeAfter: q('-1 s') }), OptionError);
    const s = exp.suspendWhen(() => false);
    assert.equal(exp.suspenders.length, 1);
    s.remove();
    assert.equal(exp.suspenders.length, 0);
  });

  it('removing a suspender that holds the run lets it go on, recorded as removed', async () => {
    const a = await Acquisition.create('a', frames(40), { restartable: true });
    const exp = await Experiment.create([a]);
    const acc = await Accumulator.create(exp);
    const s = exp.suspendWhen(() => true, { cause: 'stuck interlock', interval: q('5 ms') });
    const run = exp.run();
    await until(() => exp.checkpoint !== undefined, 'the suspension');
    assert.ok(s.suspended);
    s.remove();
    const result = await run;
    assert.equal(acc.getItems('a').length, 40);
    assert.equal(result.suspensions[0]!.outcome, 'removed');
  });

  it('a stream of booleans (events) suspends and resumes', async () => {
    const events = new Subject<boolean>();
    const a = await Acquisition.create('a', frames(40), { restartable: true });
    const exp = await Experiment.create([a]);
    const acc = await Accumulator.create(exp);
    exp.suspendWhen(events, { cause: 'interlock' });
    const run = exp.run();
    await until(() => seen(acc, 'a') >= 5, '5 frames');
    events.next(true);
    await until(() => exp.checkpoint !== undefined, 'the suspension');
    events.next(false);
    const result = await run;
    assert.equal(result.suspensions[0]!.cause, 'interlock');
    assert.equal(acc.getItems('a').length, 40);
  });

  it('a script awaiting a suspended run waits for the resume (the hold-off keeps the process alive)', function () {
    // Once the producer is held, only the suspender's timers are pending: the process must stay.
    const core = pathToFileURL(join(root, 'core', 'index.ts')).href;
    const experiments = pathToFileURL(join(root, 'experiments', 'index.ts')).href;
    const script = [
      `const { Device, q, sleep, soft } = await import(${JSON.stringify(core)});`,
      `const { Acquisition, Experiment } = await import(${JSON.stringify(experiments)});`,
      `class Ring extends Device { current = this.quantity('current', { unit: 'mA', ...soft(200) }); }`,
      `const ring = await Ring.create({ name: 'ring' });`,
      `const a = await Acquisition.create('a', async function* (signal, { from }) {`,
      `  for (let i = from; i < 30; i++) { await sleep(2, signal); yield { data: new Uint16Array(1), shape: [1, 1], dtype: 'uint16', metadata: { frameNumber: i, timestamp: 0 } }; }`,
      `}, { restartable: true });`,
      `const exp = await Experiment.create([a]);`,
      `exp.suspendWhen({ parameter: ring.current, when: (c) => c.toNumber('mA') < 100 }, { interval: q('5 ms'), resumeAfter: q('300 ms') });`,
      `const run = exp.run();`,
      `await sleep(20); await ring.current.set(q('50 mA'));`,
      `await sleep(50); await ring.current.set(q('200 mA'));`,
      `const result = await run;`,
      `console.log(JSON.stringify({ frames: result.acquisitions.a.frames, outcome: result.suspensions[0]?.outcome }));`,
    ].join('\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 0, `exited ${r.status} (13: the await never settled)\n${r.stderr}`);
    assert.deepEqual(JSON.parse(r.stdout), { frames: 30, outcome: 'resumed' });
  });
});

/** A restartable producer of `n` frames, 2 ms apart. */
export function frames(n: number) {
  return async function* (signal: AbortSignal, start: { from: number }): AsyncGenerator<Frame> {
    for (let i = start.from; i < n; i++) {
      await sleep(2, signal);
      yield { data: new Uint16Array(1), shape: [1, 1], dtype: 'uint16', metadata: { frameNumber: i, timestamp: 0 } };
    }
  };
}
