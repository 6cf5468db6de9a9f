/**
 * Backprojection throughput and live lag: `npx tsx bench/reco.ts [sizes…]` (default 512 1024).
 *
 * For an N² slice from N projections over 180° (GUPS = N² × N / s / 10⁹), in one run:
 * (a) the single-threaded plain loop (`accumulatePlain`), the reference;
 * (b) the single-threaded fast JavaScript kernel and the single-threaded WebAssembly SIMD kernel;
 * (c) the parallel backprojector on worker threads (wasm and js kernels), all N projections;
 * (d) the whole streaming `Reconstructor` (flat-field, filter with oversampling, backprojection):
 *     a first scan with fresh workers, and warm (`rereconstruct` from the cache);
 * live lag: time from the last projection queued to the slices complete, when projections arrive
 * as fast as possible (burst) and when they arrive at half the measured throughput (paced).
 * Single-threaded rates are measured on a subset of the angles (the rate does not depend on it).
 * The machine is shared: medians of several repetitions are printed, with the GUPS per
 * CPU-second of all threads (less sensitive to other load) and the load average.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { makeFrame } from '../core/frame.js';
import {
  ParallelBackprojector,
  Reconstructor,
  accumulatePlain,
  sliceGeometry,
  wasmSimdSupported,
} from '../reco/index.js';
import type { KernelName, SliceGeometry } from '../reco/index.js';
import { arenaLayout, arenaViews, runBatch } from '../reco/batch.js';
import { padRow, paddedLayout } from '../reco/geometry.js';
import { instantiateKernel, sharedMemory } from '../reco/wasm-kernel.js';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const gups = (pixels: number, projections: number, ms: number): number => (pixels * projections) / (ms / 1000) / 1e9;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function rows(n: number, width: number): Float32Array[] {
  let s = 12345;
  return Array.from({ length: n }, () =>
    Float32Array.from({ length: width }, () => (s = (s * 16807) % 2147483647) / 2147483647 - 0.5),
  );
}

/** CPU ms (all threads of this process) of the last {@link time} call's median run. */
let lastCpuMs = 0;

/** Median wall ms of `reps` runs of `fn`; also sets {@link lastCpuMs}. */
async function time(reps: number, fn: () => void | Promise<void>): Promise<number> {
  const runs: { ms: number; cpu: number }[] = [];
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    runs.push({ ms, cpu: (c.user + c.system) / 1000 });
  }
  runs.sort((a, b) => a.ms - b.ms);
  const mid = runs[Math.floor(runs.length / 2)]!;
  lastCpuMs = mid.cpu;
  return mid.ms;
}

function singleThreadWasm(
  g: SliceGeometry,
  data: Float32Array[],
  angles: number[],
  kernelName: KernelName,
): () => void {
  const padded = paddedLayout(g);
  const a = arenaLayout(g, padded, 1, data.length);
  const memory = kernelName === 'wasm' ? sharedMemory(a.bytes) : undefined;
  const v = arenaViews(memory?.buffer ?? new SharedArrayBuffer(a.bytes), a);
  const kernel = memory && instantiateKernel(memory);
  data.forEach((row, k) => {
    padRow(row, padded, v.f32, a.rowsByte / 4 + k * padded.length);
    v.angles[k] = angles[k]!;
  });
  return () => runBatch(a, v, kernel, 0, data.length, 0, g.height);
}

async function bench(n: number): Promise<Record<string, number>> {
  const g = sliceGeometry({ detectorWidth: n });
  const pixels = n * n;
  const angles = Array.from({ length: n }, (_, i) => (i * Math.PI) / n);
  const data = rows(n, n);
  const out: Record<string, number> = {};
  const subset = Math.min(n, 64);

  const slice = new Float32Array(pixels);
  out.plain = gups(
    pixels,
    subset,
    await time(3, () => {
      for (let i = 0; i < subset; i++) accumulatePlain([slice], [data[i]!], angles[i]!, g);
    }),
  );
  out.plainCpu = gups(pixels, subset, lastCpuMs);
  out.jsSingle = gups(pixels, 4 * subset, await time(3, singleThreadWasm(g, data.slice(0, 4 * subset), angles, 'js')));
  out.jsSingleCpu = gups(pixels, 4 * subset, lastCpuMs);
  if (wasmSimdSupported()) {
    out.wasmSingle = gups(
      pixels,
      4 * subset,
      await time(3, singleThreadWasm(g, data.slice(0, 4 * subset), angles, 'wasm')),
    );
    out.wasmSingleCpu = gups(pixels, 4 * subset, lastCpuMs);
  }

  for (const kernel of (wasmSimdSupported() ? ['wasm', 'js'] : ['js']) as KernelName[]) {
    const bp = await ParallelBackprojector.create({ geometry: g, kernel });
    await sleep(300);
    const burstLag: number[] = [];
    const ms = await time(5, async () => {
      await bp.reset();
      for (let i = 0; i < n; i++) await bp.accumulate([data[i]!], angles[i]!);
      const last = performance.now();
      await bp.flush();
      burstLag.push(performance.now() - last);
    });
    out[`${kernel}Parallel`] = gups(pixels, n, ms);
    out[`${kernel}ParallelCpu`] = gups(pixels, n, lastCpuMs);
    out[`${kernel}BurstLagMs`] = median(burstLag);
    if (kernel === 'wasm') {
      // Paced: projections arrive at half the measured rate (as during a real scan).
      const interval = (ms / n) * 2;
      const pacedLag: number[] = [];
      for (let r = 0; r < 3; r++) {
        await bp.reset();
        const start = performance.now();
        for (let i = 0; i < n; i++) {
          const due = start + i * interval;
          const wait = due - performance.now();
          if (wait > 1) await sleep(wait);
          await bp.accumulate([data[i]!], angles[i]!);
        }
        const last = performance.now();
        await bp.flush();
        pacedLag.push(performance.now() - last);
      }
      out.pacedIntervalMs = interval;
      out.wasmPacedLagMs = median(pacedLag);
    }
    await bp.close();
  }

  // The whole pipeline: uint16 frames of one row, flat-field, filter (oversample 2), backprojection.
  const frames = data.map((row) =>
    makeFrame(
      Uint16Array.from(row, (v) => 1000 + 500 * v),
      [1, n],
    ),
  );
  const reco = await Reconstructor.create({ width: n, height: 1, number: n, region: [0, 1, 1] });
  reco.addDark(makeFrame(new Uint16Array(n).fill(10), [1, n]));
  reco.addFlat(makeFrame(new Uint16Array(n).fill(2000), [1, n]));
  await sleep(300); // let the new workers finish start-up (module compilation, GC) as before a scan
  let lag = 0;
  out.reconstructorFirst = gups(
    pixels,
    n,
    await time(1, async () => {
      for (let i = 0; i < n; i++) await reco.addProjection(frames[i]!, i);
      const last = performance.now();
      await reco.slices();
      lag = performance.now() - last;
    }),
  );
  out.reconstructorFirstCpu = gups(pixels, n, lastCpuMs);
  out.reconstructorBurstLagMs = lag;
  // Warm: the same pipeline again from the cached projections (JIT-compiled, workers warm).
  out.reconstructor = gups(pixels, n, await time(3, async () => void (await reco.rereconstruct({}))));
  out.reconstructorCpu = gups(pixels, n, lastCpuMs);
  await reco.close();
  // Paced scan: a fresh reconstructor fed at half the warm throughput; lag after the last frame.
  const paced = await Reconstructor.create({ width: n, height: 1, number: n, region: [0, 1, 1] });
  await sleep(300);
  const interval = (pixels / (out.reconstructor * 1e9)) * 1000 * 2;
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const wait = start + i * interval - performance.now();
    if (wait > 1) await sleep(wait);
    await paced.addProjection(frames[i]!, i);
  }
  const last = performance.now();
  await paced.slices();
  out.reconstructorPacedLagMs = performance.now() - last;
  out.reconstructorPacedIntervalMs = interval;
  await paced.close();
  return out;
}

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((x) => x > 0);
console.log(
  `reco bench: ${cpus()[0]?.model ?? '?'}, ${availableParallelism()} cores, node ${process.version}, wasm SIMD ${wasmSimdSupported()}`,
);
console.log(
  'anchor: scikit-image iradon 1 thread: 0.064 GUPS at 512², 0.052 GUPS at 1024²; target ≥ 1.2 GUPS on 2 cores',
);
for (const n of sizes.length > 0 ? sizes : [512, 1024]) {
  const r = await bench(n);
  const f = (x: number | undefined): string => (x === undefined ? '—' : x.toFixed(3));
  const load = loadavg()[0]!.toFixed(1);
  console.log(
    `\n${n}² slice, ${n} projections — GUPS by wall time (and per CPU-second of all threads; load average ${load}):`,
  );
  const line = (name: string, wall: number | undefined, cpu: number | undefined, extra = ''): void =>
    console.log(`  ${name.padEnd(34)} ${f(wall).padStart(6)}   (cpu ${f(cpu)})${extra}`);
  line('(a) plain loop, 1 thread', r.plain, r.plainCpu);
  line('    fast JS kernel, 1 thread', r.jsSingle, r.jsSingleCpu, `  ${f(r.jsSingle! / r.plain!)}× plain`);
  line('    wasm SIMD kernel, 1 thread', r.wasmSingle, r.wasmSingleCpu, `  ${f(r.wasmSingle! / r.plain!)}× plain`);
  line('(b) 2 workers, JS kernel', r.jsParallel, r.jsParallelCpu, `  ${f(r.jsParallel! / r.plain!)}× plain`);
  line(
    '    2 workers, wasm SIMD kernel',
    r.wasmParallel,
    r.wasmParallelCpu,
    `  ${f(r.wasmParallel! / r.plain!)}× plain, ${f(r.wasmParallel! / r.wasmSingle!)}× wasm 1 thread`,
  );
  line(
    '    Reconstructor, first scan',
    r.reconstructorFirst,
    r.reconstructorFirstCpu,
    '  (flat-field + filter + backprojection, fresh workers)',
  );
  line('    Reconstructor, warm', r.reconstructor, r.reconstructorCpu, '  (rereconstruct from the cache)');
  console.log('  live lag (last projection → slices complete):');
  console.log(
    `    burst: ${f(r.wasmBurstLagMs)} ms wasm workers, ${f(r.jsBurstLagMs)} ms JS workers, ${f(r.reconstructorBurstLagMs)} ms ` +
      `Reconstructor`,
  );
  console.log(
    `    paced: ${f(r.wasmPacedLagMs)} ms wasm workers (one projection per ${f(r.pacedIntervalMs)} ms), ` +
      `${f(r.reconstructorPacedLagMs)} ms Reconstructor (one frame per ${f(r.reconstructorPacedIntervalMs)} ms)`,
  );
  console.log(`  json ${JSON.stringify({ n, ...r })}`);
}
