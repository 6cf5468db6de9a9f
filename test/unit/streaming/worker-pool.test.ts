import assert from 'node:assert/strict';
import { makeFrame, type Frame } from '../../../core/frame.js';
import { StreamingError } from '../../../streaming/errors.js';
import { StreamingStep } from '../../../streaming/step.js';
import { rejectsWith, within } from '../../support/async.js';
import { flatFrame, numbers } from './helpers.js';

const fixture = (name: string) => new URL(`./fixtures/${name}.ts`, import.meta.url);

describe('streaming/worker-pool (worker steps)', function () {
  this.timeout(30_000);

  it('runs a worker module on worker threads with its setup config, results back as frames', async () => {
    const dark = new Float32Array(64).fill(100);
    const flat = new Float32Array(64).fill(1100);
    const frames = async function* () {
      for (let i = 0; i < 6; i++) yield flatFrame(100 + i * 100, 8, i);
    };
    const step = await StreamingStep.create<Frame, Frame>({
      name: 'flat',
      input: frames,
      worker: fixture('flat-worker'),
      workerConfig: { dark, flat },
      concurrency: 2,
    });
    await within(20_000, step.done, 'the worker step');
    const byKey = [...step.output.items].sort((a, b) => a.inputIndex - b.inputIndex);
    assert.deepEqual(
      byKey.map((i) => [i.status, i.value!.dtype, Math.round(i.value!.data[5]! * 1000) / 1000]),
      Array.from({ length: 6 }, (_, i) => ['done', 'float32', i / 10]),
    );
    assert.equal(byKey[3]!.value!.metadata.frameNumber, 3);
  });

  it('runs items on two workers at once', async () => {
    const input = async function* () {
      for (let n = 0; n < 4; n++) yield { n: n === 3 ? 4 : n, spin: 150 };
    };
    const step = await StreamingStep.create<{ n: number }, { thread: number }>({
      name: 'spin',
      input,
      worker: fixture('faulty-worker'),
      concurrency: 2,
    });
    await within(20_000, step.done, 'the worker step');
    const items = step.output.items;
    assert.equal(new Set(items.map((i) => i.value!.thread)).size, 2, 'two threads did the work');
    const [a, b] = items;
    assert.ok(b!.startedAt < a!.finishedAt, 'the second item started before the first finished');
  });

  it('records an error thrown in the worker with its message, and replaces a worker that dies', async () => {
    const step = await StreamingStep.create<{ n: number }, { doubled: number }>({
      name: 'faulty',
      input: async function* () {
        for (let n = 0; n < 8; n++) yield { n };
      },
      worker: fixture('faulty-worker'),
      concurrency: 2,
    });
    await within(20_000, step.done, 'the worker step');
    const byN = new Map(step.output.items.map((i) => [Number(i.inputKey), i]));
    assert.equal(step.output.size, 8);
    assert.equal(byN.get(3)!.error, 'three is not allowed');
    assert.match(byN.get(5)!.error!, /step 'faulty': a worker exited with code 7 while processing an item/);
    assert.deepEqual(
      [0, 1, 2, 4, 6, 7].map((n) => byN.get(n)!.value!.doubled),
      [0, 2, 4, 8, 12, 14],
      'the items after the crash ran on the replacement',
    );
  });

  it('rejects a module that exports no function, and one that does not exist', async () => {
    await rejectsWith(
      StreamingStep.create({ name: 'empty', input: numbers(1), worker: fixture('empty-worker') }),
      StreamingError,
      /step 'empty': worker module .*empty-worker\.ts failed to load: worker module .* exports no function: export default \(input, context\) => result/,
    );
    await rejectsWith(
      StreamingStep.create({ name: 'missing', input: numbers(1), worker: '/nonexistent/worker.ts' }),
      StreamingError,
      /step 'missing': worker module file:\/\/\/nonexistent\/worker\.ts failed to load: .*Cannot find module/,
    );
  });

  it('fails an item whose input cannot be copied to a worker', async () => {
    const step = await StreamingStep.create({
      name: 'clone',
      input: async function* () {
        yield { n: 1, callback: () => 1 };
      },
      worker: fixture('faulty-worker'),
    });
    await step.done;
    assert.match(step.output.get(0)!.error!, /could not be cloned/);
  });

  it('keeps the frame given to a worker intact for the other readers (inputs are copied)', async () => {
    const frame = makeFrame(new Uint16Array(64).fill(500), [8, 8]);
    const step = await StreamingStep.create<Frame, Frame>({
      name: 'flat',
      input: async function* () {
        yield frame;
      },
      worker: fixture('flat-worker'),
      workerConfig: { dark: new Float32Array(64), flat: new Float32Array(64).fill(1000) },
    });
    await step.done;
    assert.equal(frame.data.length, 64);
    assert.equal(frame.data[0], 500);
    assert.equal(step.output.get(0)!.value!.data[0], 0.5);
  });
});
