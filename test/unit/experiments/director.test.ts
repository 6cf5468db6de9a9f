import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFrame, q, sleep, toNumber, type Frame } from '../../../core/index.js';
import { DummyLinearMotor } from '../../../devices/motors/dummy.js';
import { Acquisition, Director, Experiment, gridPositions, XYScan } from '../../../experiments/index.js';
import { DirectoryWalker, DummyWalker } from '../../../walkers/index.js';
import { delay, within } from '../../support/async.js';

/** An experiment whose one acquisition yields `before` frames, allows the next sample, then yields `after` more, `periodMs` apart. */
async function experiment(
  events: string[],
  options: {
    walker?: DummyWalker | DirectoryWalker;
    before?: number;
    after?: number;
    periodMs?: number;
    onFrame?: () => void;
  } = {},
) {
  const { before = 1, after = 2, periodMs = 5 } = options;
  let exp!: Experiment; // eslint-disable-line prefer-const -- assigned after the producer that reads it is declared
  const acquisition = await Acquisition.create('radios', async function* (signal): AsyncGenerator<Frame> {
    events.push(`run ${await exp.iteration.get()} start`);
    for (let i = 0; i < before + after; i++) {
      if (i === before) {
        events.push('ready');
        exp.readyToPrepareNextSample.set();
      }
      await sleep(periodMs, signal);
      options.onFrame?.();
      yield makeFrame(new Uint16Array(4), [2, 2]);
    }
    events.push('run end');
  });
  exp = await Experiment.create([acquisition], { walker: options.walker ?? new DummyWalker() });
  return exp;
}

describe('experiments/director', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'concert-director-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('runs the experiment N times in iteration directories and prepares the next sample as soon as allowed', async () => {
    const events: string[] = [];
    const walker = await DirectoryWalker.create({ root });
    const exp = await experiment(events, { walker, after: 3, periodMs: 20 });
    const director = await Director.create(exp, {
      numberOfIterations: 3,
      prepareNextSample: async (i) => {
        events.push(`prepare ${i}`);
      },
    });
    assert.equal(await director.numberOfIterations.get(), 3);
    const result = await within(5000, director.run().done);
    assert.deepEqual(result.names, ['iteration_0000', 'iteration_0001', 'iteration_0002']);
    assert.deepEqual(events, [
      'prepare 0',
      'run 0 start',
      'ready',
      'prepare 1',
      'run end',
      'run 1 start',
      'ready',
      'prepare 2',
      'run end',
      'run 2 start',
      'ready',
      'run end',
    ]);
    const entries = (await readdir(root)).sort();
    assert.deepEqual(entries, ['director.log', 'iteration_0000', 'iteration_0001', 'iteration_0002']);
    assert.ok(
      (await readdir(join(root, 'iteration_0001'))).includes('experiment_start.json'),
      'no scan_ directory inside iterations',
    );
    assert.match(await readFile(join(root, 'director.log'), 'utf8'), /iteration 2 \(iteration_0002\) finished/);
    assert.equal(walker.current, walker.root);
    assert.equal(await exp.separateScans.get(), true, 'separateScans restored');
    assert.equal(await director.state.get(), 'standby');
    assert.equal(await director.currentIteration.get(), 2);
    assert.equal(await director.currentIterationName.get(), 'iteration_0002');
  });

  it('pauses before the next iteration and resumes', async () => {
    const events: string[] = [];
    const exp = await experiment(events, { periodMs: 5 });
    const director = await Director.create(exp, { numberOfIterations: 2 });
    const run = director.run();
    while (!events.includes('run 0 start')) await delay(2);
    run.pause();
    assert.equal(await director.state.get(), 'paused');
    while (!events.includes('run end')) await delay(5);
    await delay(50);
    // The running iteration finished; the next waits.
    assert.deepEqual(
      events.filter((e) => e.startsWith('run')),
      ['run 0 start', 'run end'],
    );
    assert.ok(director.running);
    run.resume();
    assert.equal(await director.state.get(), 'running');
    await within(3000, run.done);
    assert.deepEqual(
      events.filter((e) => e.startsWith('run')),
      ['run 0 start', 'run end', 'run 1 start', 'run end'],
    );
    assert.equal(await director.state.get(), 'standby');
  });

  it('cancels the running experiment and the preparation, and can run again', async () => {
    const events: string[] = [];
    const walker = new DummyWalker();
    const exp = await experiment(events, { walker, before: 1, after: 1000, periodMs: 5 });
    let aborted = false;
    const director = await Director.create(exp, {
      numberOfIterations: 5,
      prepareNextSample: async (i, signal) => {
        if (i === 0) return;
        try {
          await sleep(10_000, signal);
        } catch (error) {
          aborted = true;
          throw error;
        }
      },
    });
    const run = director.run();
    while (!events.includes('ready')) await delay(5);
    await within(3000, run.cancel());
    await assert.rejects(run.done, { name: 'AbortError' });
    assert.ok(aborted, 'the preparation was aborted');
    assert.equal(await director.state.get(), 'cancelled');
    assert.equal(await exp.state.get(), 'cancelled');
    assert.equal(walker.current, '/');
    assert.equal(await exp.separateScans.get(), true);
    await director.numberOfIterations.set(1);
    events.length = 0;
    const again = director.run();
    while (!events.includes('ready')) await delay(5);
    await again.cancel();
    assert.equal(await director.state.get(), 'cancelled');
  });

  it('fails with the error of a failed preparation and stops the experiment', async () => {
    const events: string[] = [];
    const exp = await experiment(events, { before: 1, after: 1000, periodMs: 5 });
    const director = await Director.create(exp, {
      numberOfIterations: 2,
      prepareNextSample: async (i) => {
        if (i === 1) throw new Error('sample changer jammed');
      },
    });
    await assert.rejects(within(3000, director.run().done), /sample changer jammed/);
    assert.equal(await director.state.get(), 'error');
    assert.equal(await exp.state.get(), 'cancelled');
  });

  it('XYScan visits the grid with y fastest, one iteration per point', async () => {
    const x = await DummyLinearMotor.create({ name: 'x', motionVelocity: q('1e5 mm/s') });
    const y = await DummyLinearMotor.create({ name: 'y', motionVelocity: q('1e5 mm/s') });
    const seen: Array<[number, number]> = [];
    const exp = await experiment([], {
      before: 1,
      after: 0,
      periodMs: 0,
      onFrame: () => seen.push([x.motion.position(), y.motion.position()]),
    });
    const scan = await XYScan.create(exp, {
      xMotor: x,
      yMotor: y,
      xMin: q('0 mm'),
      xMax: q('1 mm'),
      xStep: q('1 mm'),
      yMin: q('10 mm'),
      yMax: q('10.2 mm'),
      yStep: q('0.1 mm'),
    });
    assert.equal(await scan.numberOfIterations.get(), 6);
    assert.equal(await scan.xNum.get(), 2);
    assert.equal(await scan.yNum.get(), 3);
    assert.equal(scan.iterationName(4), 'iteration_0001_0001');
    await assert.rejects(scan.numberOfIterations.set(2), { name: 'ParameterError' });
    const result = await within(5000, scan.run().done);
    assert.deepEqual(result.names, [
      'iteration_0000_0000',
      'iteration_0000_0001',
      'iteration_0000_0002',
      'iteration_0001_0000',
      'iteration_0001_0001',
      'iteration_0001_0002',
    ]);
    const expected = [
      [0, 10],
      [0, 10.1],
      [0, 10.2],
      [1, 10],
      [1, 10.1],
      [1, 10.2],
    ];
    assert.equal(seen.length, 6);
    seen.forEach(([sx, sy], i) => {
      assert.ok(
        Math.abs(sx - expected[i]![0]!) < 1e-9 && Math.abs(sy - expected[i]![1]!) < 1e-9,
        `point ${i}: (${sx}, ${sy})`,
      );
    });
    assert.equal(toNumber(await x.getPosition(), 'mm'), 1);
    await x.disconnect();
    await y.disconnect();
  });

  it('gridPositions includes both ends and rejects bad ranges', () => {
    assert.deepEqual(gridPositions(0, 2, 1), [0, 1, 2]);
    assert.equal(gridPositions(10, 10.2, 0.1).length, 3);
    assert.deepEqual(gridPositions(5, 5, 1), [5]);
    assert.throws(() => gridPositions(0, 1, 0), { name: 'ParameterError' });
    assert.throws(() => gridPositions(1, 0, 1), { name: 'ParameterError' });
  });
});
