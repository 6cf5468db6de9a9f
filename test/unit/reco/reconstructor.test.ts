import assert from 'node:assert/strict';
import { Reconstructor, phantomSinogram, sheppLogan } from '../../../reco/index.js';
import type { ReconstructorOptions } from '../../../reco/index.js';
import { makeFrame } from '../../../core/frame.js';
import type { Frame } from '../../../core/frame.js';
import { ParameterError } from '../../../core/errors.js';
import { within } from '../../support/async.js';

/**
 * scikit-image 0.19.3 `iradon(filter_name='ramp', interpolation='linear', circle=True)` on the same
 * analytic sinograms (phantom centered at its N/2 convention, 4× supersampled phantom and detector
 * bins), RMSE against the same 4× area-sampled phantom; measured on the dev machine with
 * `/usr/bin/python3` (see docs/reconstruction.md). Not computed here: tests must not need Python.
 */
const SKIMAGE_RMSE: Record<number, number> = { 256: 0.01873, 512: 0.01371 };

const angles = (n: number): number[] => Array.from({ length: n }, (_, i) => (i * Math.PI) / n);

/** A one-row frame per sinogram row. */
function rowFrames(sino: Float32Array, width: number): Frame[] {
  return Array.from({ length: sino.length / width }, (_, i) =>
    makeFrame(sino.subarray(i * width, (i + 1) * width), [1, width]),
  );
}

async function reconstruct(
  frames: readonly Frame[],
  options: Omit<ReconstructorOptions, 'number'>,
): Promise<Float32Array[]> {
  const reco = await Reconstructor.create({ number: frames.length, ...options });
  try {
    for (const [i, f] of frames.entries()) await reco.addProjection(f, i);
    return await reco.slices();
  } finally {
    await reco.close();
  }
}

function rmse(a: Float32Array, b: Float32Array): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) e += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(e / a.length);
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('reco/reconstructor', () => {
  for (const n of [256, 512])
    it(`reconstructs the Shepp-Logan phantom at ${n}² from ${n} analytic projections with RMSE ≤ scikit-image's`, async () => {
      const phantom = sheppLogan(n, n, { supersample: 4 });
      const frames = rowFrames(phantomSinogram(angles(n), { width: n, supersample: 4 }), n);
      const reco = await Reconstructor.create({ width: n, height: 1, number: n, region: [0, 1, 1], circleMask: true });
      let slice: Float32Array, plain: Float32Array;
      const t0 = performance.now();
      try {
        for (const [i, f] of frames.entries()) await reco.addProjection(f, i);
        [slice] = (await reco.slices()) as [Float32Array];
        // Without oversampling the algorithm is scikit-image's: checked at 256² only (time).
        plain = n === 256 ? (await reco.rereconstruct({ oversample: 1 }))[0]! : slice;
      } finally {
        await reco.close();
      }
      const ms = performance.now() - t0;
      const error = rmse(slice, phantom);
      const errorPlain = rmse(plain, phantom);
      const plainNote = n === 256 ? `, oversample 1: ${errorPlain.toFixed(5)}` : '';
      console.log(
        `      ${n}²: RMSE ${error.toFixed(5)} (scikit-image ${SKIMAGE_RMSE[n]}${plainNote}), ${ms.toFixed(0)} ms`,
      );
      assert.ok(error <= SKIMAGE_RMSE[n]!, `RMSE ${error} > scikit-image's ${SKIMAGE_RMSE[n]}`);
      assert.ok(errorPlain <= SKIMAGE_RMSE[n]! * 1.01, `RMSE without oversampling ${errorPlain}`);
    });

  it('corrects with averaged darks and flats and −log, in several slices at once', async () => {
    const n = 64;
    const number = 64;
    const height = 5;
    const sino = phantomSinogram(angles(number), { width: n });
    const mu = 0.02;
    const dark = (i: number, k: number): number => 100 + ((i * 7) % 5) + k - 1; // mean over k = 0…2: k = 1
    const gain = (i: number): number => 3000 + (i % n) * 10;
    const darks = [0, 1, 2].map((k) =>
      makeFrame(
        Uint16Array.from({ length: n * height }, (_, i) => dark(i, k)),
        [height, n],
      ),
    );
    const flats = [0, 1].map((k) =>
      makeFrame(
        Uint16Array.from(
          { length: n * height },
          (_, i) => dark(i, 1) + gain(i) + (k === 0 ? -200 : 200) * ((i % 3) - 1),
        ),
        [height, n],
      ),
    );
    // Projections: mean dark + gain · exp(−µ p), as float32 so the comparison is exact up to rounding.
    const projections = Array.from({ length: number }, (_, a) =>
      makeFrame(
        Float32Array.from(
          { length: n * height },
          (_, i) => dark(i, 1) + gain(i) * Math.exp(-mu * sino[a * n + (i % n)]!),
        ),
        [height, n],
      ),
    );
    const reco = await Reconstructor.create({
      width: n,
      height,
      number,
      region: [1, 5, 2],
      absorptivity: true,
      fixNanAndInf: true,
      workers: 0,
    });
    try {
      for (const d of darks) reco.addDark(d);
      for (const f of flats) reco.addFlat(f);
      for (const p of projections) await reco.addProjection(p);
      assert.equal(reco.count, number);
      assert.deepEqual(reco.rows, [1, 3]);
      const slices = await reco.slices();
      const [clean] = await reconstruct(
        rowFrames(
          sino.map((v) => mu * v),
          n,
        ),
        { width: n, height: 1, region: [0, 1, 1], workers: 0 },
      );
      for (const s of slices) assert.ok(maxDiff(s, clean!) < 1e-3, `slice vs clean: ${maxDiff(s, clean!)}`);
      // With the last dark/flat only (the flat off by ±200 in a column pattern), the result must differ.
      const [last] = await reco.rereconstruct({ averageNormalization: false });
      assert.ok(maxDiff(last!, clean!) > 1e-3, `last: ${maxDiff(last!, clean!)}`);
      assert.throws(() => reco.addDark(makeFrame(new Uint16Array(n), [1, n])), /dark frame is 1 × 64, expected 5 × 64/);
      await assert.rejects(reco.addProjection(projections[0]!, number), ParameterError);
      await assert.rejects(reco.addProjection(projections[0]!, 0), /projection 0 was already added/);
    } finally {
      await reco.close();
    }
  });

  it('rereconstructs from cached projections like a fresh reconstruction with the new parameters', async () => {
    const n = 96;
    const frames = rowFrames(phantomSinogram(angles(90), { width: n, center: 50 }), n);
    // Two-row frames (the row twice); only row 0 is reconstructed and cached.
    const tall = frames.map((f) =>
      makeFrame(
        Float32Array.from({ length: 2 * n }, (_, i) => f.data[i % n]!),
        [2, n],
      ),
    );
    const reco = await Reconstructor.create({
      width: n,
      height: 2,
      number: 90,
      region: [0, 1, 1],
      centerPositionX: 47,
      workers: 0,
    });
    try {
      for (const [i, f] of tall.entries()) await reco.addProjection(f, i);
      const changed = { centerPositionX: 50, filter: 'shepp-logan', roi: { x: [10, 80], y: [5, 90] } } as const;
      const [again] = await reco.rereconstruct(changed);
      const [fresh] = await reconstruct(frames, { width: n, height: 1, region: [0, 1, 1], workers: 0, ...changed });
      assert.equal(again!.length, 70 * 85);
      assert.ok(maxDiff(again!, fresh!) < 1e-5);
      assert.equal(reco.parameters.centerPositionX, 50);
      await assert.rejects(reco.rereconstruct({ region: [0, 2, 1] }), /rows 1 were not cached/);
    } finally {
      await reco.close();
    }
  });

  it('gives the same slices on the calling thread and on workers (projections not awaited one by one)', async () => {
    const n = 80;
    const frames = rowFrames(phantomSinogram(angles(75), { width: n }), n);
    const [serial] = await reconstruct(frames, { width: n, height: 1, region: [0, 1, 1], workers: 0 });
    // On workers, with projections added without awaiting each one (as from a subscription).
    const reco = await Reconstructor.create({
      width: n,
      height: 1,
      number: frames.length,
      region: [0, 1, 1],
      workers: 2,
    });
    try {
      const added = frames.map((f) => reco.addProjection(f));
      const [eager] = await reco.slices();
      await Promise.all(added);
      assert.ok(maxDiff(serial!, eager!) < 1e-4, `workers: ${maxDiff(serial!, eager!)}`);
    } finally {
      await reco.close();
    }
  });

  for (const [region, oversample] of [
    [[0, 3, 1], 2], // odd: two projections per transform on the workers, as on the calling thread
    [[1, 5, 2], 4], // even: rows pair up within a projection
    [[2, 3, 1], 1], // one row
  ] as const)
    it(`filters on the workers as on the calling thread, bit for bit: rows [${region.join(', ')}], oversample ${oversample}`, async () => {
      const n = 70;
      const number = 61;
      const height = 5;
      const sino = phantomSinogram(angles(number), { width: n, center: 35.2 });
      // Each detector row its own multiple of the sinogram, so slices differ and mix-ups show.
      const frames = Array.from({ length: number }, (_, a) =>
        makeFrame(
          Float32Array.from({ length: n * height }, (_, i) => sino[a * n + (i % n)]! * (1 + Math.floor(i / n))),
          [height, n],
        ),
      );
      const run = async (workers: number): Promise<Float32Array[][]> => {
        const reco = await Reconstructor.create({ width: n, height, number, region, oversample, workers });
        try {
          // Out of order and not awaited one by one (as from a subscription).
          const order = [...frames.keys()].map((i) => (i * 17) % number);
          const added = order.map((i) => reco.addProjection(frames[i]!, i));
          const first = await reco.slices();
          await Promise.all(added);
          const again = await reco.rereconstruct({ centerPositionX: 36.1, filter: 'cosine' });
          return [first, again];
        } finally {
          await reco.close();
        }
      };
      const [serial, workers] = [await run(0), await run(2)];
      for (const [k, what] of ['first scan', 'rereconstruct'].entries())
        for (let s = 0; s < serial[k]!.length; s++)
          assert.deepEqual(workers[k]![s], serial[k]![s], `${what}, slice ${s}`);
    });

  it('close() while projections are still queued (a scan aborted) finishes them, stops the workers, and later calls reject', async () => {
    const n = 512;
    const frames = rowFrames(phantomSinogram(angles(64), { width: n }), n);
    const reco = await Reconstructor.create({ width: n, height: 1, number: 256, region: [0, 1, 1], workers: 2 });
    const added = frames.map((f, i) => reco.addProjection(f, i));
    await within(10_000, reco.close(), 'close with queued projections');
    await within(1000, Promise.all(added), 'the queued projections');
    await assert.rejects(reco.addProjection(frames[0]!, 100), /backproject: closed/);
  });

  for (const [shift, workers, metric] of [
    [3.3, 0, 'negativity'],
    [-6.8, 2, 'entropy'],
  ] as const)
    it(`findAxis finds a center shifted by ${shift} px within 0.5 px (${metric}, ${workers} workers)`, async () => {
      const n = 96;
      const trueCenter = (n - 1) / 2 + shift;
      const frames = rowFrames(
        phantomSinogram(angles(n), { width: n, center: trueCenter, scale: 0.8 * n, supersample: 2 }),
        n,
      );
      const reco = await Reconstructor.create({ width: n, height: 1, number: n, region: [0, 1, 1], workers });
      try {
        for (const [i, f] of frames.entries()) await reco.addProjection(f, i);
        const before = await reco.slices();
        // Coarse: every 2 px over ±9 px; fine: every 0.2 px within 2 px of the best.
        const found = await reco.findAxis({ centers: [(n - 1) / 2 - 9, (n - 1) / 2 + 9, 2], metric });
        console.log(
          `      true ${trueCenter}, found ${found.center.toFixed(2)}, error ${(found.center - trueCenter).toFixed(3)} px ` +
            `(${found.candidates.length} candidates)`,
        );
        assert.ok(Math.abs(found.center - trueCenter) <= 0.5);
        // The reconstructor's own slices and parameters are back as they were.
        assert.equal(reco.parameters.centerPositionX, (n - 1) / 2);
        assert.ok(maxDiff((await reco.slices())[0]!, before[0]!) < 1e-5);
      } finally {
        await reco.close();
      }
    });

  it('weights a 360° scan like a 180° one and honours angleOffset', async () => {
    const n = 64;
    const half = rowFrames(phantomSinogram(angles(n), { width: n }), n);
    const fullAngles = Array.from({ length: 2 * n }, (_, i) => 0.3 + (i * Math.PI) / n);
    const full = rowFrames(phantomSinogram(fullAngles, { width: n }), n);
    const [a] = await reconstruct(half, { width: n, height: 1, region: [0, 1, 1], workers: 0 });
    const [b] = await reconstruct(full, {
      width: n,
      height: 1,
      region: [0, 1, 1],
      workers: 0,
      overallAngle: 2 * Math.PI,
      angleOffset: 0.3,
    });
    assert.ok(rmse(a!, b!) < 0.02, `360° vs 180°: ${rmse(a!, b!)}`);
  });

  it('validates its options', async () => {
    await assert.rejects(Reconstructor.create({ width: 0, height: 1, number: 1 }), /width must be a positive integer/);
    await assert.rejects(
      Reconstructor.create({ width: 8, height: 4, number: 1, region: [2, 9, 1], workers: 0 }),
      /region/,
    );
    await assert.rejects(
      Reconstructor.create({ width: 8, height: 4, number: 1, roi: { x: [0, 9] }, workers: 0 }),
      /roi/,
    );
    const reco = await Reconstructor.create({ width: 8, height: 4, number: 2, workers: 0 });
    await assert.rejects(reco.findAxis({ centers: [0, 8, 1] }), /needs projections/);
    assert.deepEqual(reco.rows, [2]);
    await reco.close();
  });
});
