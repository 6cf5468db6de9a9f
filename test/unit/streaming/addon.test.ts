import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeFrame, OptionError, sleep, type Frame } from '../../../core/index.js';
import { Accumulator } from '../../../addons/local/index.js';
import { Acquisition, AcquisitionError, Experiment } from '../../../experiments/index.js';
import { OutputSet, StreamingAddon } from '../../../streaming/index.js';
import { rejectsWith, throwsWith } from '../../support/async.js';
import { useTempDir } from './helpers.js';

function frames(n: number, periodMs = 0) {
  return async function* (signal: AbortSignal): AsyncGenerator<Frame> {
    for (let i = 0; i < n; i++) {
      if (periodMs) await sleep(periodMs, signal);
      yield makeFrame(new Uint16Array(12).fill(i), [3, 4], { frameNumber: i });
    }
  };
}

const mean = (frame: Frame) => {
  let sum = 0;
  for (const v of frame.data) sum += v;
  return sum / frame.data.length;
};

describe('streaming/addon (a step on an acquisition)', function () {
  this.timeout(30_000);
  const tmp = useTempDir();

  it('processes every frame of each run into a set of its own that closes with the run', async () => {
    const exp = await Experiment.create([
      await Acquisition.create('darks', frames(3)),
      await Acquisition.create('radios', frames(20)),
    ]);
    const stats = await StreamingAddon.create(exp, {
      acquisitions: ['radios'],
      process: mean,
      concurrency: 2,
      directory: tmp.path,
    });
    await exp.run();
    const set = stats.output!;
    assert.equal(set.name, 'StreamingAddon:radios');
    assert.equal((await set.closed).reason, 'input-ended');
    assert.deepEqual(
      [...set.items].sort((a, b) => a.inputIndex - b.inputIndex).map((i) => i.value),
      Array.from({ length: 20 }, (_, i) => i),
    );
    await exp.run();
    assert.equal(stats.sets.length, 2);
    assert.ok(existsSync(join(tmp.path, 'radios-0000.sqlite')) && existsSync(join(tmp.path, 'radios-0001.sqlite')));
    const reopened = await OutputSet.open(join(tmp.path, 'radios-0001.sqlite'));
    assert.deepEqual([reopened.state, reopened.size], ['closed', 20]);
    assert.deepEqual(stats.summary(), {
      name: 'StreamingAddon',
      kind: 'local',
      attached: ['radios'],
      frames: 20,
      dropped: 0,
      sets: 2,
      items: 20,
      failed: 0,
      state: 'closed',
    });
  });

  it('runs a worker module on the frames; the producer waits for a slow step (lossless)', async () => {
    const exp = await Experiment.create([await Acquisition.create('radios', frames(10))]);
    const all = await Accumulator.create(exp);
    const flat = await StreamingAddon.create(exp, {
      name: 'flat',
      worker: new URL('./fixtures/flat-worker.ts', import.meta.url),
      workerConfig: { dark: new Float32Array(12), flat: new Float32Array(12).fill(10) },
      concurrency: 2,
      queueSize: 1,
    });
    await exp.run();
    const out = flat.output as OutputSet<Frame>;
    assert.equal(out.size, 10);
    assert.equal(out.failed, 0);
    for (const item of out.items) assert.equal(item.value!.data[0], Math.fround(item.inputIndex / 10));
    assert.equal(all.summary().frames, 10);
  });

  it('a stop criterion ends the set early while the other consumers get every frame', async () => {
    const exp = await Experiment.create([await Acquisition.create('radios', frames(50, 1))]);
    const all = await Accumulator.create(exp);
    const first = await StreamingAddon.create(exp, { process: mean, stop: { count: 5 } });
    await exp.run();
    assert.deepEqual([first.output!.size, first.output!.closeInfo!.reason], [5, 'count']);
    assert.equal(all.summary().frames, 50);
  });

  it("fails the run with onError 'fail', naming the step and the frame", async () => {
    const exp = await Experiment.create([await Acquisition.create('radios', frames(10))]);
    await StreamingAddon.create(exp, {
      onError: 'fail',
      process: (f: Frame) => {
        if (f.metadata.frameNumber === 4) throw new Error('saturated');
        return 1;
      },
    });
    await rejectsWith(
      exp.run(),
      AcquisitionError,
      /StreamingAddon:radios.*item 4 \(input 4\) failed after 1 attempt: saturated/,
    );
  });

  it('checks its options', async () => {
    const exp = await Experiment.create([await Acquisition.create('radios', frames(1))]);
    await rejectsWith(
      StreamingAddon.create(exp, { process: mean, concurency: 2 } as never),
      OptionError,
      /^StreamingAddon.create: unknown option 'concurency', did you mean 'concurrency'\? \(allowed: acquisitions, concurrency, directory,/,
    );
    throwsWith(() => new StreamingAddon(exp, {}), OptionError, /StreamingAddon: give exactly one of process/);
  });
});
