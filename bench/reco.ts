/**
 * Backprojection throughput and live lag: `npx tsx bench/reco.ts [sizes…]` (default 512 1024).
 *
 * For an N² slice from N projections over 180° (GUPS = N² × N / s / 10⁹), in one run:
 * (a) the single-threaded plain loop (`accumulatePlain`), the reference;
 * (b) the single-threaded fast JavaScript kernel and the single-threaded WebAssembly SIMD kernel;
 * (c) the parallel backprojector on worker threads (wasm and js kernels), all N projections;
 * (d) the whole streaming `Reconstructor` (flat-field, filter with oversampling, backprojection):
 *     a first scan with fresh workers (median of three fresh reconstructors), and warm
 *     (`rereconstruct` from the cache);
 * (e) where the time goes: the clock (a calibrated wasm loop), the single-threaded kernel's cycles
 *     per update and those of its index arithmetic alone and with the gathered loads, and the CPU
 *     the machine gave the 2-worker runs (Linux schedstat: running, and ready but waiting);
 * live lag: time from the last projection queued to the slices complete, when projections arrive
 * as fast as possible (burst) and when they arrive at half the measured throughput (paced).
 * Single-threaded rates are measured on a subset of the angles (the rate does not depend on it).
 * The machine is shared: medians of several repetitions are printed, with the GUPS per
 * CPU-second of all threads (less sensitive to other load) and the load average.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { makeFrame } from '../core/frame.js';
import {
  ParallelBackprojector,
  Reconstructor,
  RowFilter,
  accumulatePlain,
  correctRows,
  sliceGeometry,
  wasmSimdSupported,
} from '../reco/index.js';
import type { KernelName, SliceGeometry } from '../reco/index.js';
import { arenaLayout, arenaViews, putRow, runBatch } from '../reco/batch.js';
import { paddedLayout } from '../reco/geometry.js';
import { scaled } from '../reco/parameters.js';
import { instantiateKernel, sharedMemory } from '../reco/wasm-kernel.js';
import type { KernelVariant } from '../reco/wasm-kernel.js';
import { runAnchor } from './anchors.js';
import { printResult } from './result.js';

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

/** Run and runnable-but-waiting time [ms] summed over this process's threads (Linux schedstat), or undefined. */
function schedTotals(): { run: number; waiting: number } | undefined {
  try {
    let run = 0;
    let waiting = 0;
    for (const task of readdirSync('/proc/self/task')) {
      try {
        const [r, w] = readFileSync(`/proc/self/task/${task}/schedstat`, 'utf8').trim().split(' ').map(Number);
        run += r! / 1e6;
        waiting += w! / 1e6;
      } catch {
        // the thread ended between the listing and the read
      }
    }
    return { run, waiting };
  } catch {
    return undefined;
  }
}

/**
 * The clock in GHz, measured: a wasm loop of 16 dependent one-cycle integer operations per
 * iteration (`x = (x + y) ^ z`, eight times), timed by CPU time. Cycles per update = GHz / GUPS per CPU-second.
 */
function clockGHz(): number {
  const leb = (n: number): number[] => (n < 128 ? [n] : [(n & 0x7f) | 0x80, ...leb(n >>> 7)]);
  const chain = Array.from({ length: 8 }, () => [0x20, 3, 0x20, 1, 0x6a, 0x20, 2, 0x73, 0x21, 3]).flat();
  // (func (param n y z) (local x) (loop … (br_if (tee n (n - 1)))) (i32.store 0 x))
  const code = [1, 1, 0x7f, 0x03, 0x40, ...chain, 0x20, 0, 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0, 0x0b];
  code.push(0x41, 0, 0x20, 3, 0x36, 2, 0, 0x0b);
  const sec = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body];
  const bytes = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0];
  bytes.push(...sec(1, [1, 0x60, 3, 0x7f, 0x7f, 0x7f, 0]), ...sec(3, [1, 0]), ...sec(5, [1, 0, 1]));
  bytes.push(...sec(7, [1, 4, ...[...'spin'].map((c) => c.charCodeAt(0)), 0, 0]));
  bytes.push(...sec(10, [1, ...leb(code.length), ...code]));
  const spin = new WebAssembly.Instance(new WebAssembly.Module(Uint8Array.from(bytes))).exports.spin as (
    n: number,
    y: number,
    z: number,
  ) => void;
  spin(1e6, 3, 5);
  const iterations = 2e7;
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const c0 = process.cpuUsage();
    spin(iterations, 3, 5);
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1e6);
  }
  return (iterations * 16) / best / 1e9;
}

/**
 * Cycles per update of the single-threaded wasm kernel on an `n`² slice (64 projections, best of
 * 7 runs by CPU time), and of the two stripped variants: index arithmetic only, and index
 * arithmetic plus the gathered lane loads (see `KernelVariant`).
 */
function kernelCycles(n: number, ghz: number): Record<KernelVariant, number> {
  const g = sliceGeometry({ detectorWidth: n });
  const projections = 64;
  const a = arenaLayout(g, paddedLayout(g), 1, projections, 'wasm');
  const memory = sharedMemory(a.bytes);
  const v = arenaViews(memory.buffer, a);
  rows(projections, n).forEach((row, k) => {
    putRow(a, v.f32, k, 0, row);
    v.angles[k] = (k * Math.PI) / projections;
  });
  const out = {} as Record<KernelVariant, number>;
  for (const variant of ['kernel', 'gather', 'index'] as const) {
    const kernel = instantiateKernel(memory, variant);
    const run = (): void => runBatch(a, v, kernel, 0, projections, 0, g.height);
    for (let w = 0; w < 4; w++) run();
    let best = Infinity;
    for (let r = 0; r < 7; r++) {
      const c0 = process.cpuUsage();
      run();
      const c = process.cpuUsage(c0);
      best = Math.min(best, (c.user + c.system) / 1e6);
    }
    out[variant] = (ghz * 1e9 * best) / (n * n * projections);
  }
  return out;
}

/**
 * CPU µs per projection of the Reconstructor's work besides the kernel on one `n`-wide row (flat-field
 * correction on the calling thread; the filter with oversampling 2 — two projections per FFT —, and
 * `putRow` of the oversampled row into the ring, on the workers), best of 5 by CPU time: what the
 * first scan adds to the kernel. (The keys keep their `calling…` names: the filter ran there before.)
 */
function callingThreadMicros(n: number): { correct: number; filter: number; putRow: number } {
  let s = 3;
  const raw = Float32Array.from({ length: 2 * n }, () => 1000 + ((s = (s * 16807) % 2147483647) % 500));
  const dark = new Float32Array(2 * n).fill(10);
  const flat = new Float32Array(2 * n).fill(2000);
  const filter = new RowFilter(n, { oversample: 2 });
  const corrected = new Float32Array(2 * n);
  const filtered = new Float32Array(4 * n);
  const g = scaled(sliceGeometry({ detectorWidth: n }), 2);
  const a = arenaLayout(g, paddedLayout(g), 1, 16, 'wasm');
  const f32 = arenaViews(new SharedArrayBuffer(a.bytes), a).f32;
  const row = filtered.subarray(0, 2 * n);
  const micros = (fn: () => void, reps: number): number => {
    for (let i = 0; i < 100; i++) fn();
    let best = Infinity;
    for (let r = 0; r < 5; r++) {
      const c0 = process.cpuUsage();
      for (let i = 0; i < reps; i++) fn();
      const c = process.cpuUsage(c0);
      best = Math.min(best, (c.user + c.system) / reps);
    }
    return best;
  };
  return {
    correct: micros(() => correctRows(raw, n, [0], corrected, dark, flat, { absorptivity: false }), 2000),
    filter: micros(() => filter.apply(corrected, filtered, 2, 0.01), 400) / 2,
    putRow: micros(() => putRow(a, f32, 3, 0, row), 2000),
  };
}

function singleThreadWasm(
  g: SliceGeometry,
  data: Float32Array[],
  angles: number[],
  kernelName: KernelName,
): () => void {
  const padded = paddedLayout(g);
  const a = arenaLayout(g, padded, 1, data.length, kernelName);
  const memory = kernelName === 'wasm' ? sharedMemory(a.bytes) : undefined;
  const v = arenaViews(memory?.buffer ?? new SharedArrayBuffer(a.bytes), a);
  const kernel = memory && instantiateKernel(memory);
  data.forEach((row, k) => {
    putRow(a, v.f32, k, 0, row);
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
  if (wasmSimdSupported()) {
    out.clockGHz = clockGHz();
    const cycles = kernelCycles(n, out.clockGHz);
    out.cyclesPerUpdate = cycles.kernel;
    out.cyclesPerUpdateGather = cycles.gather;
    out.cyclesPerUpdateIndex = cycles.index;
  }
  const calling = callingThreadMicros(n);
  out.callingCorrectUs = calling.correct;
  out.callingFilterUs = calling.filter;
  out.callingPutRowUs = calling.putRow;

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
    const sched0 = schedTotals();
    const wall0 = performance.now();
    const ms = await time(5, async () => {
      await bp.reset();
      for (let i = 0; i < n; i++) await bp.accumulate([data[i]!], angles[i]!);
      const last = performance.now();
      await bp.flush();
      burstLag.push(performance.now() - last);
    });
    const sched1 = schedTotals();
    if (kernel === 'wasm' && sched0 && sched1) {
      // What the machine gave the process during these runs: cores' worth of CPU time per wall
      // second, and how long its threads were ready to run but waited for a CPU.
      const wall = performance.now() - wall0;
      out.wasmParallelCores = (sched1.run - sched0.run) / wall;
      out.wasmParallelRunnableWaitingCores = (sched1.waiting - sched0.waiting) / wall;
    }
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
  // First scans: fresh reconstructors (new workers), median of three.
  const firsts: { ms: number; cpu: number; lag: number }[] = [];
  let reco: Reconstructor | undefined;
  for (let r = 0; r < 3; r++) {
    await reco?.close();
    reco = await Reconstructor.create({ width: n, height: 1, number: n, region: [0, 1, 1] });
    reco.addDark(makeFrame(new Uint16Array(n).fill(10), [1, n]));
    reco.addFlat(makeFrame(new Uint16Array(n).fill(2000), [1, n]));
    await sleep(300); // let the new workers finish start-up (module compilation, GC) as before a scan
    const fresh = reco;
    let lag = 0;
    const ms = await time(1, async () => {
      for (let i = 0; i < n; i++) await fresh.addProjection(frames[i]!, i);
      const last = performance.now();
      await fresh.slices();
      lag = performance.now() - last;
    });
    firsts.push({ ms, cpu: lastCpuMs, lag });
  }
  firsts.sort((x, y) => x.ms - y.ms);
  const first = firsts[1]!;
  out.reconstructorFirst = gups(pixels, n, first.ms);
  out.reconstructorFirstCpu = gups(pixels, n, first.cpu);
  out.reconstructorBurstLagMs = first.lag;
  const warm = reco!;
  // Warm: the same pipeline again from the cached projections (JIT-compiled, workers warm).
  out.reconstructor = gups(pixels, n, await time(3, async () => void (await warm.rereconstruct({}))));
  out.reconstructorCpu = gups(pixels, n, lastCpuMs);
  await warm.close();
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

/**
 * A one-shot reconstruction as a user would run it in a fresh process: Reconstructor.create, a
 * dark, a flat, `angles` projections of one `n`-wide row, slices(), close (seconds, modules loaded).
 */
async function cold(n: number, angles: number): Promise<number> {
  let s = 7;
  const frames = Array.from({ length: angles }, () =>
    makeFrame(
      Uint16Array.from({ length: n }, () => 1000 + ((s = (s * 16807) % 2147483647) % 500)),
      [1, n],
    ),
  );
  const t0 = performance.now();
  const reco = await Reconstructor.create({ width: n, height: 1, number: angles, region: [0, 1, 1] });
  reco.addDark(makeFrame(new Uint16Array(n).fill(10), [1, n]));
  reco.addFlat(makeFrame(new Uint16Array(n).fill(2000), [1, n]));
  for (let i = 0; i < angles; i++) await reco.addProjection(frames[i]!, i);
  await reco.slices();
  await reco.close();
  return (performance.now() - t0) / 1000;
}

if (process.argv[2] === 'cold') {
  console.log(JSON.stringify({ seconds: await cold(Number(process.argv[3]), Number(process.argv[4])) }));
  process.exit(0);
}

/** {@link cold} in a child process (a fresh one each time: nothing compiled, no workers running). */
function coldInChild(n: number, angles: number): number {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), 'cold', String(n), String(angles)],
    {
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  return (JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { seconds: number }).seconds;
}

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((x) => x > 0);
console.log(
  `reco bench: ${cpus()[0]?.model ?? '?'}, ${availableParallelism()} cores, node ${process.version}, ` +
    `wasm SIMD ${wasmSimdSupported()}, load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
);
console.log("references: scikit-image iradon (Python Concert's bench_fbp.py phantom and sinogram), in this run");

// One-shot 256² slice from 360 projections: ours in fresh processes against scikit-image's first iradon call.
{
  const ours = median([coldInChild(256, 360), coldInChild(256, 360), coldInChild(256, 360)]);
  const sk = await runAnchor(['fbp', '256', '360', '2'], 300_000);
  const missing = 'missing' in sk ? String(sk.missing) : undefined;
  const skimage = sk as Record<string, number>;
  console.log(
    `\n256² slice from 360 projections, cold: ours ${ours.toFixed(3)} s (median of 3 fresh processes, create → slices), ` +
      `scikit-image ${missing ? missing : `${skimage.cold_s!.toFixed(3)} s first call, ${skimage.warm_s!.toFixed(3)} s warm`}`,
  );
  printResult({
    name: 'Reconstructor, 256² slice from 360 projections, cold (fresh process)',
    value: ours,
    unit: 's',
    baseline: missing ? undefined : skimage.cold_s,
    baselineName: 'scikit-image iradon, first call',
    missing,
    goal: { of: 'ratio', atMost: 1 },
  });
}

for (const n of sizes.length > 0 ? sizes : [512, 1024]) {
  const r = await bench(n);
  const sk = await runAnchor(['fbp', String(n), String(n), n > 512 ? '0' : '2'], 400_000);
  const missing = 'missing' in sk ? String(sk.missing) : undefined;
  const skimage = missing ? undefined : (sk as Record<string, number>).gups;
  console.log(`\nscikit-image iradon ${n}²: ${missing ?? `${skimage!.toFixed(3)} GUPS`}`);
  printResult({
    name: `backprojection, 2 workers, ${n}²`,
    value: r.wasmParallel!,
    unit: 'GUPS',
    baseline: skimage,
    baselineName: 'scikit-image iradon (whole FBP)',
    missing,
    goal: { of: 'value', atLeast: 2 },
  });
  printResult({
    name: `backprojection, 2 workers, ${n}², per CPU-second of all threads`,
    value: r.wasmParallelCpu!,
    unit: 'GUPS/CPU-s',
    baseline: r.wasmSingleCpu,
    baselineName: 'wasm kernel, 1 thread, per CPU-second',
  });
  printResult({
    name: `Reconstructor, first scan, ${n}², per CPU-second of all threads`,
    value: r.reconstructorFirstCpu!,
    unit: 'GUPS/CPU-s',
    baseline: r.wasmParallelCpu,
    baselineName: 'its own kernel (2 workers), per CPU-second',
  });
  printResult({
    name: `Reconstructor, whole path (flat-field + filter + backprojection), first scan, ${n}²`,
    value: r.reconstructorFirst!,
    unit: 'GUPS',
    baseline: r.wasmParallel,
    baselineName: 'its own kernel (2 workers)',
    goal: n === 512 ? { of: 'ratio', atLeast: 0.8 } : undefined,
  });
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
  if (r.cyclesPerUpdate !== undefined) {
    console.log(
      `  wasm kernel, 1 thread, at ${f(r.clockGHz)} GHz (measured): ${f(r.cyclesPerUpdate)} cycles per update; ` +
        `index arithmetic alone ${f(r.cyclesPerUpdateIndex)}, with the gathered lane loads ${f(r.cyclesPerUpdateGather)} ` +
        `→ ${f(r.clockGHz! / r.cyclesPerUpdate!)} GUPS per core, ${f((2 * r.clockGHz!) / r.cyclesPerUpdate!)} on two idle cores`,
    );
  }
  if (r.wasmParallelCpu !== undefined) {
    // The kernel's CPU per projection at the 2 workers' rate per CPU-second, against what the
    // Reconstructor adds per projection: the ceiling of the first scan's ratio per CPU-second.
    const kernelUs = (n * n) / (r.wasmParallelCpu! * 1e3);
    const callingUs = r.callingCorrectUs! + r.callingFilterUs! + r.callingPutRowUs!;
    console.log(
      `  besides the kernel, per projection (CPU): correction ${f(r.callingCorrectUs)} µs (calling thread), ` +
        `filter (oversample 2) ${f(r.callingFilterUs)} µs and putRow ${f(r.callingPutRowUs)} µs (workers); kernel ${f(kernelUs)} µs → ` +
        `first scan per CPU-second at most ${f(kernelUs / (kernelUs + callingUs))}× the kernel`,
    );
  }
  if (r.wasmParallelCores !== undefined)
    console.log(
      `  CPU the machine gave the 2-worker wasm runs: ${f(r.wasmParallelCores)} cores' worth per wall second ` +
        `(of ${availableParallelism()}); its threads were ready but waiting for a CPU another ${f(r.wasmParallelRunnableWaitingCores)} ` +
        `cores' worth (Linux schedstat)`,
    );
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
