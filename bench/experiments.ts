/**
 * Experiment wiring benchmarks (issue 3), each against a baseline measured in the same run:
 *  1. 2048×2048 uint16 frames through an acquisition with 0, 1 and 3 lossless no-op consumers
 *     vs a bare `for await` over the same generator (target ≥ 0.95);
 *  2. per-frame overhead with 3 consumers, tiny frames (Python Concert: +12.7 µs; target ≤ 2.5 µs);
 *  3. producer throughput with a latest-wins consumer taking 50 ms per frame vs without (≥ 0.95);
 *  4. fixed cost of one Experiment.run() (Python Concert: 2.04 ms; target ≤ 0.5 ms).
 * Run: `npx tsx bench/experiments.ts`.
 */
import { makeFrame, sleep, type Frame } from '../core/index.js';
import { Acquisition, Experiment, frameConsumer } from '../experiments/index.js';

const SIZE = 2048;

/**
 * A camera-like generator: a ring of 16 frame buffers (as a camera's DMA ring), each filled with
 * a value before it is yielded: the same work for the bare loop and the acquisition.
 */
const ring = Array.from({ length: 16 }, () => new Uint16Array(SIZE * SIZE));
function camera(n: number) {
  return async function* (): AsyncGenerator<Frame> {
    for (let i = 0; i < n; i++) {
      const data = ring[i % ring.length]!;
      data.fill(i);
      yield makeFrame(data, [SIZE, SIZE], { frameNumber: i });
    }
  };
}

function tiny(n: number) {
  const frame = makeFrame(new Uint16Array(4), [2, 2]);
  return async function* (): AsyncGenerator<Frame> {
    for (let i = 0; i < n; i++) yield frame;
  };
}

async function bare(gen: () => AsyncGenerator<Frame>): Promise<number> {
  const t = performance.now();
  for await (const _ of gen());
  return performance.now() - t;
}

/** Time of a whole run, or (`producerOnly`) until the last frame was handed to the consumers. */
async function through(
  gen: () => AsyncGenerator<Frame>,
  consumers: number,
  extra?: (acq: Acquisition) => void,
  producerOnly = false,
): Promise<number> {
  const acq = await Acquisition.create('bench', gen);
  for (let i = 0; i < consumers; i++)
    acq.attach(
      frameConsumer(`noop${i}`, async (frames) => {
        for await (const _ of frames);
      }),
    );
  extra?.(acq);
  const t = performance.now();
  let last = t;
  await acq.run({ onFrame: () => void (last = performance.now()) });
  return (producerOnly ? last : performance.now()) - t;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function repeat(k: number, fn: () => Promise<number>): Promise<number> {
  const out: number[] = [];
  for (let i = 0; i < k; i++) out.push(await fn());
  return median(out);
}

const rows: Array<[string, string, string, string]> = [];
const row = (name: string, value: string, baseline: string, ratio: string) => {
  rows.push([name, value, baseline, ratio]);
  console.log(`${name.padEnd(58)} ${value.padStart(16)} ${baseline.padStart(16)} ${ratio.padStart(8)}`);
};

console.log(`${'benchmark'.padEnd(58)} ${'value'.padStart(16)} ${'baseline'.padStart(16)} ${'ratio'.padStart(8)}`);
const N = 100;
for (const k of [0, 1, 3]) {
  // Alternate baseline and measurement so both see the same machine load.
  const pairs: Array<[number, number]> = [];
  for (let r = 0; r < 5; r++) pairs.push([await bare(camera(N)), await through(camera(N), k)]);
  const bareFps = (N * 1000) / median(pairs.map((p) => p[0]));
  const fps = (N * 1000) / median(pairs.map((p) => p[1]));
  row(
    `2048² u16 through acquisition, ${k} lossless consumer(s)`,
    `${fps.toFixed(1)} fps`,
    `${bareFps.toFixed(1)} fps`,
    (fps / bareFps).toFixed(3),
  );
}

const T = 200_000;
const tinyBare = await repeat(5, () => bare(tiny(T)));
const tinyThree = await repeat(5, () => through(tiny(T), 3));
row(
  'per-frame overhead, 3 consumers (Python Concert +12.7 µs)',
  `${(((tinyThree - tinyBare) * 1000) / T).toFixed(2)} µs`,
  `${((tinyBare * 1000) / T).toFixed(2)} µs bare`,
  '',
);

// A paced producer (as a camera at 100 fps) with and without a slow live view.
const paced = (n: number) =>
  async function* (signal: AbortSignal): AsyncGenerator<Frame> {
    const frame = makeFrame(new Uint16Array(SIZE * SIZE), [SIZE, SIZE]);
    for (let i = 0; i < n; i++) {
      await sleep(10, signal);
      yield frame;
    }
  };
const P = 50;
const withoutRuns: number[] = [];
const withRuns: number[] = [];
for (let r = 0; r < 3; r++) {
  withoutRuns.push(await through(paced(P) as never, 1, undefined, true));
  withRuns.push(
    await through(
      paced(P) as never,
      1,
      (acq) =>
        acq.attach(
          frameConsumer(
            'slow view',
            async (frames) => {
              for await (const _ of frames) await sleep(50);
            },
            { policy: 'latest' },
          ),
        ),
      true,
    ),
  );
}
const without = median(withoutRuns);
const withView = median(withRuns);
row(
  'producer fps with a 50 ms/frame latest-wins viewer',
  `${((P * 1000) / withView).toFixed(1)} fps`,
  `${((P * 1000) / without).toFixed(1)} fps`,
  (without / withView).toFixed(3),
);

const exp = await Experiment.create([await Acquisition.create('empty', async function* () {})]);
for (let i = 0; i < 50; i++) await exp.run();
const runs: number[] = [];
for (let i = 0; i < 300; i++) {
  const t = performance.now();
  await exp.run();
  runs.push(performance.now() - t);
}
row(
  'fixed cost of Experiment.run() (Python Concert 2.04 ms)',
  `${median(runs).toFixed(3)} ms`,
  '2.04 ms',
  (2.04 / median(runs)).toFixed(1) + '×',
);
