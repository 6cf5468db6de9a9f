import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFrame, q, sleep, withAbortScope, type Frame } from '../../../core/index.js';
import { DummyLinearMotor } from '../../../devices/motors/dummy.js';
import { Acquisition, Experiment, ExperimentError, frameConsumer } from '../../../experiments/index.js';
import { Accumulator, ImageWriter } from '../../../addons/local/index.js';
import { DirectoryWalker, DummyWalker } from '../../../walkers/index.js';

function frames(n: number, periodMs = 0) {
  return async function* (signal: AbortSignal): AsyncGenerator<Frame> {
    for (let i = 0; i < n; i++) {
      if (periodMs) await sleep(periodMs, signal);
      yield makeFrame(new Uint16Array(16).fill(i), [4, 4], { frameNumber: i });
    }
  };
}

describe('experiments/experiment', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'concert-exp-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('runs acquisitions in order into scan directories with a log and device snapshots', async () => {
    const motor = await DummyLinearMotor.create({ name: 'sampleMotor' });
    await motor.setPosition(q('3 mm'));
    const walker = await DirectoryWalker.create({ root });
    const order: string[] = [];
    const mk = async (name: string) =>
      Acquisition.create(name, async function* (signal) {
        order.push(name);
        yield* frames(3)(signal);
      });
    const exp = await Experiment.create([await mk('darks'), await mk('flats'), await mk('radios')], { walker });
    await ImageWriter.create(exp);
    const result = await exp.run();
    assert.deepEqual(order, ['darks', 'flats', 'radios']);
    assert.equal(result.iteration, 0);
    assert.equal(await exp.iteration.get(), 1);
    assert.equal(await exp.state.get(), 'standby');
    const scan = join(root, 'scan_0000');
    assert.deepEqual((await readdir(scan)).sort(), [
      'darks',
      'experiment.log',
      'experiment_finish.json',
      'experiment_start.json',
      'flats',
      'radios',
    ]);
    assert.deepEqual((await readdir(join(scan, 'radios'))).sort(), [
      'frame_000000.tif',
      'frame_000001.tif',
      'frame_000002.tif',
    ]);
    const start = JSON.parse(await readFile(join(scan, 'experiment_start.json'), 'utf8'));
    assert.equal(start.devices.sampleMotor.position.value, '3 mm');
    assert.equal(start.devices.sampleMotor.position.unit, 'mm');
    assert.ok('target' in start.devices.sampleMotor.position);
    const finish = JSON.parse(await readFile(join(scan, 'experiment_finish.json'), 'utf8'));
    assert.equal(finish.outcome, 'complete');
    assert.equal(finish.error, undefined);
    const log = await readFile(join(scan, 'experiment.log'), 'utf8');
    assert.match(log, /acquisition 'radios' finished: 3 frames/);
    assert.ok(exp.readyToPrepareNextSample.isSet);
  });

  it('skips existing scan directories when choosing the iteration', async () => {
    await mkdir(join(root, 'scan_0000'));
    await mkdir(join(root, 'scan_0001'));
    const exp = await Experiment.create([await Acquisition.create('a', frames(1))], {
      walker: await DirectoryWalker.create({ root }),
    });
    const result = await exp.run();
    assert.equal(result.iteration, 2);
    assert.equal(result.directory, 'scan_0002');
  });

  it('with separateScans false, writes into the walker directory; nameFmt is used otherwise', async () => {
    const walker = new DummyWalker();
    const exp = await Experiment.create([await Acquisition.create('a', frames(1))], { walker, nameFmt: 'run-{:02}' });
    await exp.run();
    assert.ok(walker.directories.has('/run-00'));
    await exp.separateScans.set(false);
    await exp.run();
    assert.ok(walker.texts.has('/experiment_start.json'));
  });

  it('cancel() stops the producer, lets the writer close its files, ends cancelled and can run again', async () => {
    const walker = await DirectoryWalker.create({ root });
    let closed = false;
    const acq = await Acquisition.create('radios', async function* (signal) {
      try {
        yield* frames(10_000, 2)(signal);
      } finally {
        closed = true;
      }
    });
    const exp = await Experiment.create([acq], { walker });
    await ImageWriter.create(exp);
    const run = exp.run();
    await sleep(60);
    const t = performance.now();
    await run.cancel();
    assert.ok(performance.now() - t < 1000, 'cancel completes within a second');
    assert.ok(closed);
    assert.equal(await exp.state.get(), 'cancelled');
    await assert.rejects(run, { name: 'AbortError' });
    const files = await readdir(join(root, 'scan_0000', 'radios'));
    assert.ok(files.length > 0);
    assert.ok(
      files.every((f) => f.endsWith('.tif')),
      'no partial files left',
    );
    const finish = JSON.parse(await readFile(join(root, 'scan_0000', 'experiment_finish.json'), 'utf8'));
    assert.equal(finish.outcome, 'cancelled');
    // It runs again.
    exp.remove('radios');
    exp.add(await Acquisition.create('radios', frames(2)));
    const again = await exp.run();
    assert.equal(again.directory, 'scan_0001');
    assert.equal(await exp.state.get(), 'standby');
  });

  it('Ctrl-C (the ambient abort scope) cancels a run started in it', async () => {
    const exp = await Experiment.create([await Acquisition.create('a', frames(10_000, 2))]);
    const scope = new AbortController();
    const run = withAbortScope(scope.signal, () => exp.run());
    await sleep(30);
    scope.abort();
    await assert.rejects(run, { name: 'AbortError' });
    assert.equal(await exp.state.get(), 'cancelled');
  });

  it('pause() holds the producer between frames; resume() goes on', async () => {
    const exp = await Experiment.create([await Acquisition.create('a', frames(40, 2))]);
    const acc = await Accumulator.create(exp);
    const run = exp.run();
    await sleep(20);
    run.pause();
    assert.equal(await exp.state.get(), 'paused');
    await sleep(10);
    const n = acc.getItems('a').length;
    await sleep(50);
    assert.ok(acc.getItems('a').length <= n + 1, 'no progress while paused');
    run.resume();
    assert.equal(await exp.state.get(), 'running');
    await run;
    assert.equal(acc.getItems('a').length, 40);
  });

  it('a failing acquisition ends in error and finish() still runs', async () => {
    let finished = false;
    const exp = await Experiment.create(
      [
        await Acquisition.create('a', async function* (): AsyncGenerator<Frame> {
          yield* [];
          throw new Error('detector unplugged');
        }),
      ],
      { finish: async () => void (finished = true) },
    );
    await assert.rejects(exp.run(), /detector unplugged/);
    assert.equal(await exp.state.get(), 'error');
    assert.ok(finished);
    assert.ok(exp.readyToPrepareNextSample.isSet);
  });

  it('experiment_finish.json records the outcome: complete, cancelled, or error with the message', async () => {
    const walker = await DirectoryWalker.create({ root });
    let fail = true;
    const exp = await Experiment.create(
      [
        await Acquisition.create('a', async function* (signal): AsyncGenerator<Frame> {
          yield* frames(1)(signal);
          if (fail) throw new Error('detector unplugged');
        }),
      ],
      { walker },
    );
    await assert.rejects(exp.run(), /detector unplugged/);
    const failed = JSON.parse(await readFile(join(root, 'scan_0000', 'experiment_finish.json'), 'utf8'));
    assert.equal(failed.outcome, 'error');
    assert.match(failed.error, /detector unplugged/);
    assert.match(await readFile(join(root, 'scan_0000', 'experiment.log'), 'utf8'), /run 0 ended: error \(/);
    fail = false;
    await exp.run();
    const done = JSON.parse(await readFile(join(root, 'scan_0001', 'experiment_finish.json'), 'utf8'));
    assert.equal(done.outcome, 'complete');
    assert.match(await readFile(join(root, 'scan_0001', 'experiment.log'), 'utf8'), /run 1 ended: complete/);
  });

  it('add, remove, swap and getAcquisition; a missing name is a clear error', async () => {
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((n) => Acquisition.create(n, frames(1))));
    const exp = await Experiment.create([a!, b!]);
    exp.add(c!);
    exp.swap('a', 'c');
    assert.deepEqual(
      exp.acquisitions.map((x) => x.name),
      ['c', 'b', 'a'],
    );
    exp.remove(b!);
    assert.deepEqual(
      exp.acquisitions.map((x) => x.name),
      ['c', 'a'],
    );
    assert.throws(
      () => exp.getAcquisition('b'),
      (e: unknown) => e instanceof ExperimentError && /has no acquisition 'b' \(it has: c, a\)/.test(e.message),
    );
    assert.throws(() => exp.add(a!), /already has an acquisition named 'a'/);
    await assert.rejects(Experiment.create([], { walkr: 1 } as never), /unknown option 'walkr'/);
  });

  it('an addon attached before add() also gets acquisitions added later; attach twice is a no-op', async () => {
    const exp = await Experiment.create([await Acquisition.create('a', frames(2))]);
    const acc = await Accumulator.create(exp);
    await exp.attach(acc);
    exp.add(await Acquisition.create('b', frames(3)));
    await exp.run();
    assert.equal(acc.getItems('a').length, 2);
    assert.equal(acc.getItems('b').length, 3);
    assert.equal(exp.addons.length, 1);
  });

  it('attaches one way: experiment.attach(addon) → addon.attach(acquisitions), add() → attach([added])', async () => {
    const calls: string[] = [];
    const addon = {
      name: 'probe',
      attached: false,
      attach(acquisitions: readonly Acquisition[]) {
        this.attached = true;
        calls.push(`attach ${acquisitions.map((a) => a.name).join(',')}`);
      },
      async detach() {
        this.attached = false;
        calls.push('detach');
      },
      async runFinished() {
        calls.push('runFinished');
      },
    };
    const exp = await Experiment.create([await Acquisition.create('a', frames(1))]);
    await exp.attach(addon);
    await exp.attach(addon);
    exp.add(await Acquisition.create('b', frames(1)));
    await exp.run();
    assert.deepEqual(exp.addons, [addon]);
    await exp.detach(addon);
    await exp.detach(addon);
    assert.deepEqual(calls, ['attach a', 'attach b', 'runFinished', 'detach']);
    assert.deepEqual(exp.addons, []);
  });

  it('forgets an addon that detached itself and attaches it again on request', async () => {
    const exp = await Experiment.create([await Acquisition.create('a', frames(2))]);
    const acc = await Accumulator.create(exp);
    await acc.detach();
    assert.deepEqual(exp.addons, []);
    exp.add(await Acquisition.create('b', frames(1)));
    assert.deepEqual(acc.acquisitions, [], 'a detached addon is not attached to acquisitions added later');
    await exp.attach(acc);
    await exp.run();
    assert.equal(acc.getItems('a').length, 2);
    assert.equal(acc.getItems('b').length, 1);
  });

  it('an addon for a missing acquisition is refused; detach stops consuming', async () => {
    const exp = await Experiment.create([await Acquisition.create('a', frames(2))]);
    await assert.rejects(Accumulator.create(exp, { acquisitions: ['nope'] }), /no acquisition 'nope' \(it has: a\)/);
    const acc = await Accumulator.create(exp);
    await acc.detach();
    await exp.run();
    assert.throws(() => acc.getItems('a'), /has no frames/);
  });

  it('a writer that fails (unwritable walker directory) fails the run with a clear error', async () => {
    const walker = await DirectoryWalker.create({ root });
    const exp = await Experiment.create([await Acquisition.create('radios', frames(3))], {
      walker,
      separateScans: false,
    });
    await ImageWriter.create(exp);
    // A file where the dataset directory should be: the writer cannot create it.
    await (await import('node:fs/promises')).writeFile(join(root, 'radios'), 'in the way');
    await assert.rejects(exp.run(), /radios/);
    assert.equal(await exp.state.get(), 'error');
  });

  it('a second run while running is refused', async () => {
    const exp = await Experiment.create([await Acquisition.create('a', frames(5, 5))]);
    const run = exp.run();
    assert.throws(() => exp.run(), /not allowed while it is running/);
    await run;
  });

  it('a consumer added through frameConsumer() sees the frames of every run', async () => {
    const acq = await Acquisition.create('a', frames(4));
    let total = 0;
    acq.attach(
      frameConsumer('count', async (fs) => {
        for await (const _ of fs) total++;
      }),
    );
    const exp = await Experiment.create([acq]);
    await exp.run();
    await exp.run();
    assert.equal(total, 8);
  });
});
