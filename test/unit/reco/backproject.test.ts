import assert from 'node:assert/strict';
import {
  ParallelBackprojector,
  SerialBackprojector,
  accumulate,
  accumulatePlain,
  sliceGeometry,
  wasmSimdSupported,
} from '../../../reco/index.js';
import type { SliceGeometry } from '../../../reco/index.js';
import { BATCH, CTRL, arenaLayout, arenaViews, batchCount, putRow, runBatch } from '../../../reco/batch.js';
import { paddedLayout } from '../../../reco/geometry.js';
import { instantiateKernel, sharedMemory } from '../../../reco/wasm-kernel.js';
import { within } from '../../support/async.js';

function randomRows(n: number, width: number, seed = 1): Float32Array[] {
  let s = seed;
  const rand = (): number => (s = (s * 16807) % 2147483647) / 2147483647 - 0.5;
  return Array.from({ length: n }, () => Float32Array.from({ length: width }, rand));
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const geometries: [string, SliceGeometry][] = [
  ['centered square', sliceGeometry({ detectorWidth: 64 })],
  [
    'odd ROI, shifted axis, half-pixel step',
    sliceGeometry({ detectorWidth: 70, centerPositionX: 31.3, width: 61, height: 47, x0: -20.5, y0: 18, step: 0.5 }),
  ],
  ['slice larger than the detector', sliceGeometry({ detectorWidth: 40, width: 90 })],
];

describe('reco/backproject', () => {
  for (const [name, g] of geometries)
    it(`fast kernels equal the plain loop: ${name}`, async () => {
      const n = 23;
      const rows = randomRows(n, g.detectorWidth);
      const angles = Array.from({ length: n }, (_, i) => (i * Math.PI) / n + 0.01);
      const plain = new Float32Array(g.width * g.height);
      const fast = new Float32Array(g.width * g.height);
      const serial = new SerialBackprojector(g);
      for (let i = 0; i < n; i++) {
        accumulatePlain([plain], [rows[i]!], angles[i]!, g);
        accumulate([fast], [rows[i]!], angles[i]!, g);
        await serial.accumulate([rows[i]!], angles[i]!);
      }
      await serial.flush();
      assert.ok(maxDiff(plain, fast) < 1e-4, `accumulate ${maxDiff(plain, fast)}`);
      assert.ok(maxDiff(plain, serial.slices()[0]!) < 1e-4, 'serial');
    });

  it('the WebAssembly SIMD kernel equals the JavaScript one', function () {
    if (!wasmSimdSupported()) this.skip();
    const g = geometries[1]![1];
    const padded = paddedLayout(g);
    const a = arenaLayout(g, padded, 2, 16, 'wasm');
    const aJs = arenaLayout(g, padded, 2, 16, 'js');
    const memory = sharedMemory(a.bytes);
    const views = arenaViews(memory.buffer, a);
    const js = arenaViews(new SharedArrayBuffer(aJs.bytes), aJs);
    // 15 projections: the kernel runs bp8, bp4 and bp1 (8 + 4 + 1 + 1 + 1).
    const rows = randomRows(2 * 15, g.detectorWidth, 7);
    for (const [layout, v] of [
      [a, views],
      [aJs, js],
    ] as const) {
      for (let k = 0; k < 15; k++) {
        v.angles[k] = 0.3 * k;
        for (let s = 0; s < 2; s++) putRow(layout, v.f32, k, s, rows[2 * k + s]!);
      }
    }
    runBatch(a, views, instantiateKernel(memory), 0, 15, 0, g.height);
    runBatch(aJs, js, undefined, 0, 15, 0, g.height);
    const size = g.width * g.height;
    for (let s = 0; s < 2; s++) {
      const w = views.f32.subarray(a.slicesByte / 4 + s * size, a.slicesByte / 4 + (s + 1) * size);
      const j = js.f32.subarray(aJs.slicesByte / 4 + s * size, aJs.slicesByte / 4 + (s + 1) * size);
      assert.ok(maxDiff(w, j) < 1e-3, `slice ${s}: ${maxDiff(w, j)}`);
    }
    assert.equal(CTRL.head, 0);
  });

  for (const kernel of ['wasm', 'js'] as const)
    it(`worker threads (${kernel}) give the single-thread result, across ring wrap-around and reconfiguration`, async function () {
      if (kernel === 'wasm' && !wasmSimdSupported()) this.skip();
      const g = geometries[1]![1];
      const n = 45;
      const rows = randomRows(2 * n, g.detectorWidth, 3);
      const angles = Array.from({ length: n }, (_, i) => (i * Math.PI) / n);
      const serial = new SerialBackprojector(g, 2);
      const bp = await ParallelBackprojector.create({ geometry: g, slices: 2, workers: 2, kernel, ring: 8 });
      try {
        assert.equal(bp.kernel, kernel);
        assert.equal(bp.workers, 2);
        for (let round = 0; round < 2; round++) {
          for (let i = 0; i < n; i++) {
            const pair = [rows[2 * i]!, rows[2 * i + 1]!];
            await bp.accumulate(pair, angles[i]!);
            if (round === 0) await serial.accumulate(pair, angles[i]!);
          }
          await bp.flush();
          await serial.flush();
          const got = bp.slices();
          const want = serial.slices();
          for (let s = 0; s < 2; s++)
            assert.ok(maxDiff(got[s]!, want[s]!) < 1e-3, `round ${round} slice ${s}: ${maxDiff(got[s]!, want[s]!)}`);
          await bp.reset();
          assert.equal(
            bp.slices()[0]!.reduce((m, v) => Math.max(m, Math.abs(v)), 0),
            0,
          );
        }
        const small = sliceGeometry({ detectorWidth: 30 });
        await bp.configure(small, 1);
        const one = new SerialBackprojector(small);
        const row = randomRows(1, 30, 9)[0]!;
        await bp.accumulate([row], 0.4);
        await one.accumulate([row], 0.4);
        await bp.flush();
        await one.flush();
        assert.ok(maxDiff(bp.slices()[0]!, one.slices()[0]!) < 1e-4);
        await assert.rejects(bp.accumulate([row, row], 0), /2 rows for 1 slices/);
      } finally {
        await bp.close();
      }
    });

  it('does not stall when a flush leaves the workers off the group boundary of a small ring', async () => {
    const g = sliceGeometry({ detectorWidth: 24 });
    const bp = await ParallelBackprojector.create({ geometry: g, ring: 8 });
    const serial = new SerialBackprojector(g);
    const rows = randomRows(40, 24, 5);
    try {
      await within(
        5000,
        (async () => {
          for (const [from, to] of [
            [0, 13],
            [13, 40],
          ] as const) {
            for (let i = from; i < to; i++) {
              await bp.accumulate([rows[i]!], i * 0.1);
              await serial.accumulate([rows[i]!], i * 0.1);
            }
            await bp.flush();
          }
        })(),
        'streaming through a ring of 8',
      );
      await serial.flush();
      assert.ok(maxDiff(bp.slices()[0]!, serial.slices()[0]!) < 1e-4);
      await assert.rejects(ParallelBackprojector.create({ geometry: g, ring: 4 }), /ring must be an integer ≥ 8/);
    } finally {
      await bp.close();
    }
  });

  it('workers take whole groups of at most half the ring, so a full ring is refilled while they work', () => {
    // (head, seq, ring, flushing) → projections of the next pass.
    assert.equal(batchCount(16, 0, 16, false), 8); // a full ring of 16: eight, the caller refills 0–7 meanwhile
    assert.equal(batchCount(40, 8, 32, false), 16); // 32 queued in a ring of 32: half (before: 24, all of it)
    assert.equal(batchCount(7, 0, 16, false), 0); // less than a group: wait
    assert.equal(batchCount(5, 0, 16, true), 5); // flushing: the rest
    assert.equal(batchCount(21, 12, 16, true), 4); // flushing: not past the end of the ring
    assert.equal(batchCount(13, 0, 16, true), 8); // flushing: still at most half the ring
    assert.equal(batchCount(100, 0, 128, false), BATCH); // never more than BATCH
    assert.equal(batchCount(30, 0, 8, false), 8); // ring of 8: one group
    assert.equal(batchCount(8, 8, 16, false), 0); // nothing queued
  });
});
