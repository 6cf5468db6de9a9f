import assert from 'node:assert/strict';
import { ParallelBackprojector, RowFilter, SerialBackprojector, sliceGeometry } from '../../../reco/index.js';
import type { FilterName, SliceGeometry } from '../../../reco/index.js';
import type { FilterSpec } from '../../../reco/filter-stage.js';
import { scaled } from '../../../reco/parameters.js';
import { ConcertError, ParameterError } from '../../../core/errors.js';
import { rejectsWith, within } from '../../support/async.js';

/** `count` projections of `slices` corrected rows of `width` pixels each (row-major). */
function projections(count: number, slices: number, width: number, seed = 1): Float32Array[] {
  let s = seed;
  return Array.from({ length: count }, () =>
    Float32Array.from({ length: slices * width }, () => (s = (s * 16807) % 2147483647) / 2147483647 - 0.3),
  );
}

/**
 * The calling-thread path the workers replace: filter on this thread (two consecutive projections
 * per transform when `spec.pairs`, the last one alone at each flush in `flushAt`), then backproject.
 */
async function reference(
  g: SliceGeometry,
  spec: FilterSpec,
  data: Float32Array[],
  angles: number[],
  flushAt: number[] = [],
): Promise<Float32Array[]> {
  const slices = data[0]!.length / spec.width;
  const filter = new RowFilter(spec.width, { filter: spec.filter, oversample: spec.oversample });
  const ow = filter.outputWidth;
  const bp = new SerialBackprojector(g, slices);
  const run = async (unit: number[]): Promise<void> => {
    const input = new Float32Array(unit.length * slices * spec.width);
    unit.forEach((p, k) => input.set(data[p]!, k * slices * spec.width));
    const out = new Float32Array(unit.length * slices * ow);
    filter.apply(input, out, unit.length * slices, spec.scale);
    for (const [k, p] of unit.entries())
      await bp.accumulate(
        Array.from({ length: slices }, (_, s) => out.subarray((k * slices + s) * ow, (k * slices + s + 1) * ow)),
        angles[p]!,
      );
  };
  let unit: number[] = [];
  for (let p = 0; p < data.length; p++) {
    unit.push(p);
    if (!spec.pairs || unit.length === 2 || flushAt.includes(p + 1)) {
      await run(unit);
      unit = [];
    }
  }
  if (unit.length > 0) await run(unit);
  await bp.flush();
  return bp.slices();
}

async function onWorkers(
  g: SliceGeometry,
  spec: FilterSpec,
  data: Float32Array[],
  angles: number[],
  flushAt: number[] = [],
): Promise<Float32Array[]> {
  const slices = data[0]!.length / spec.width;
  const bp = await ParallelBackprojector.create({ geometry: g, slices, filter: spec });
  try {
    const queued: Promise<void>[] = [];
    for (let p = 0; p < data.length; p++) {
      queued.push(bp.queue((rows) => rows.set(data[p]!), angles[p]!));
      if (flushAt.includes(p + 1)) await bp.flush();
    }
    await Promise.all(queued);
    await bp.flush();
    return bp.slices();
  } finally {
    await bp.close();
  }
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('reco/filter-stage', () => {
  const width = 45;
  const count = 41; // odd, and more than twice the ring of 16: slots wrap around, pairs straddle the wrap
  const angles = Array.from({ length: count }, (_, i) => (i * Math.PI) / count + 0.05);
  const cases: [number, number, FilterName][] = [
    [1, 2, 'ramp'], // one slice: projections pair up
    [3, 1, 'shepp-logan'], // odd: pairs of projections, rows paired across them
    [2, 4, 'hann'], // even: rows pair up within a projection
  ];
  for (const [slices, oversample, filter] of cases)
    it(`workers filter bit-identically to the calling thread: ${slices} slice(s), oversample ${oversample}, ${filter}`, async () => {
      const spec: FilterSpec = { width, filter, oversample, scale: Math.PI / count, pairs: slices % 2 === 1 };
      const g = scaled(
        sliceGeometry({ detectorWidth: width, centerPositionX: 21.7, width: 38, height: 33 }),
        oversample,
      );
      const data = projections(count, slices, width, slices);
      const want = await reference(g, spec, data, angles);
      const got = await within(10_000, onWorkers(g, spec, data, angles), 'the filtering workers');
      for (let s = 0; s < slices; s++) assert.deepEqual(got[s], want[s], `slice ${s}`);
    });

  it('a flush mid-stream filters a waiting first of a pair alone, as the calling thread does', async () => {
    const spec: FilterSpec = { width, filter: 'ramp', oversample: 2, scale: Math.PI / count, pairs: true };
    const g = scaled(sliceGeometry({ detectorWidth: width }), 2);
    const data = projections(count, 1, width, 9);
    const flushAt = [13, 14, 30];
    const want = await reference(g, spec, data, angles, flushAt);
    const got = await within(10_000, onWorkers(g, spec, data, angles, flushAt), 'the filtering workers');
    // The filtered rows are identical; where a flush leaves the workers off a group of eight the
    // summation groups may differ by timing, so compare to float rounding.
    assert.ok(maxDiff(got[0]!, want[0]!) < 1e-5, `${maxDiff(got[0]!, want[0]!)}`);
  });

  it('keeps filtered and corrected feeding apart, and needs a ring of two groups', async () => {
    const g = sliceGeometry({ detectorWidth: 16 });
    const spec: FilterSpec = { width: 16, filter: 'ramp', oversample: 1, scale: 0.1, pairs: true };
    await rejectsWith(
      ParallelBackprojector.create({ geometry: g, ring: 8, filter: spec }),
      ParameterError,
      /filtering on the workers needs a ring ≥ 16, got 8/,
    );
    const bp = await ParallelBackprojector.create({ geometry: g, filter: spec });
    try {
      await rejectsWith(bp.accumulate([new Float32Array(16)], 0), ConcertError, /queue corrected rows/);
      await bp.configure(g, 1);
      await rejectsWith(
        bp.queue(() => undefined, 0),
        ConcertError,
        /not configured to filter/,
      );
    } finally {
      await bp.close();
    }
  });

  it('a worker that fails while setting up its filter fails the call, close() still returns, the next run works', async () => {
    const g = sliceGeometry({ detectorWidth: 16 });
    // Unchecked on the calling thread: the worker's RowFilter throws, and the worker dies.
    const spec: FilterSpec = { width: 16, filter: 'ramp', oversample: 3, scale: 0.1, pairs: true };
    await within(
      10_000,
      rejectsWith(
        ParallelBackprojector.create({ geometry: g, filter: spec }),
        ConcertError,
        /backproject: worker failed: filter: oversample must be 1, 2 or 4, got 3/,
      ),
      'create with a failing worker',
    );
    const bp = await ParallelBackprojector.create({ geometry: g, filter: { ...spec, oversample: 1 } });
    try {
      await within(
        10_000,
        rejectsWith(bp.configure(g, 1, spec), ConcertError, /worker failed: filter: oversample must be 1, 2 or 4/),
        'configure with a failing worker',
      );
      await within(
        10_000,
        rejectsWith(
          bp.queue(() => undefined, 0),
          ConcertError,
          /backproject: worker/,
        ),
        'queue after the failure',
      );
    } finally {
      await within(10_000, bp.close(), 'close after a worker failure');
    }
    // The run after the failure: new workers filter as the calling thread does.
    const good: FilterSpec = { ...spec, oversample: 1 };
    const data = projections(count, 1, 16, 5);
    const want = await reference(g, good, data, angles);
    const got = await within(10_000, onWorkers(g, good, data, angles), 'the run after the failure');
    assert.deepEqual(got[0], want[0]);
  });
});
