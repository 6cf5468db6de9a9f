/**
 * Writer throughput: TIFF (one file per frame, multi-page) against raw `fs` writes of the same
 * bytes in the same pattern, interleaved in blocks of 10 frames, and HDF5 (NXtomo via h5wasm);
 * then Python Concert's own writer benchmark (bench_writer.py: its DirectoryWalker one file per
 * frame, tifffile and raw writes) in the same run. Files go to a temp dir (page cache) and are
 * removed after each run.
 *
 *   npx tsx bench/writers.ts [frames = 200] [repeats = 5] [directory = os.tmpdir()]
 *
 * Prints MB/s (10⁶ bytes/s) per run, medians, the ratio TIFF / raw (goal ≥ 0.95 for one file per
 * frame) and BENCH_RESULT rows for `npm run bench`.
 */
import { lstat, mkdtemp, open, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { frameBytes, makeFrame } from '../core/frame.js';
import type { Frame } from '../core/frame.js';
import { Hdf5Writer } from '../walkers/formats/hdf5-writer.js';
import { MultiFileWriter } from '../walkers/formats/multi-file.js';
import { TiffWriter } from '../walkers/formats/tiff-writer.js';
import { runAnchor } from './anchors.js';
import { printResult } from './result.js';
import { loadavg } from 'node:os';

const FRAMES = Number(process.argv[2] ?? 200);
const REPEATS = Number(process.argv[3] ?? 5);
const ROOT = process.argv[4] ?? tmpdir();
const SIZE = 2048;
const DISTINCT = 8; // frames cycle through 8 buffers, so memory stays small

const pool: Frame[] = Array.from({ length: DISTINCT }, (_, k) => {
  const data = new Uint16Array(SIZE * SIZE);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + k * 977) & 0xffff;
  return makeFrame(data, [SIZE, SIZE]);
});
const frame = (i: number): Frame => ({
  ...pool[i % DISTINCT]!,
  metadata: { frameNumber: i, timestamp: Date.now(), angle: i * 0.9 },
});
const payload = FRAMES * SIZE * SIZE * 2;

async function writeAll(handle: Awaited<ReturnType<typeof open>>, bytes: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < bytes.byteLength;)
    done += (await handle.write(bytes, done, bytes.byteLength - done, position + done)).bytesWritten;
}

/** A write pattern: `write(i)` stores frame i, `close()` finishes. */
interface Sink {
  write(i: number): Promise<void>;
  close(): Promise<void>;
}

const sinks: Record<string, (dir: string) => Promise<Sink>> = {
  'raw fs, file per frame': async (dir) => ({
    async write(i) {
      const handle = await open(join(dir, `raw_${i}.raw`), 'w');
      await writeAll(handle, frameBytes(frame(i)), 0);
      await handle.close();
    },
    async close() {},
  }),
  'TiffWriter, file per frame': async (dir) => {
    const writer = await MultiFileWriter.open(dir, { pattern: 'frame_{:06}.tif' });
    return { write: (i) => writer.write(frame(i)), close: () => writer.close() };
  },
  'raw fs, one big file': async (dir) => {
    const handle = await open(join(dir, 'raw.raw'), 'w');
    let position = 0;
    return {
      async write(i) {
        const bytes = frameBytes(frame(i));
        await writeAll(handle, bytes, position);
        position += bytes.byteLength;
      },
      close: () => handle.close(),
    };
  },
  'TiffWriter, multi-page': async (dir) => {
    const writer = await TiffWriter.open(join(dir, 'stack.tif'));
    return { write: (i) => writer.write(frame(i)), close: () => writer.close() };
  },
};

/**
 * Runs two write patterns interleaved in blocks of 10 frames (alternating which goes first), so
 * that the load of this shared machine hits both alike; returns MB/s of each (close included).
 */
async function pairRun(nameA: string, nameB: string): Promise<[number, number, number, number]> {
  const dirs = [await mkdtemp(join(ROOT, 'concert-bench-')), await mkdtemp(join(ROOT, 'concert-bench-'))];
  try {
    const pair = [await sinks[nameA]!(dirs[0]!), await sinks[nameB]!(dirs[1]!)];
    const time = [0, 0];
    // CPU time of the process (main thread and libuv's pool: the kernel's copy into the page
    // cache included) while each pattern runs: far less sensitive to the machine's load than time.
    const cpu = [0, 0];
    const cpuNow = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    const block = 10;
    for (let first = 0; first < FRAMES; first += block) {
      const order = (first / block) % 2 === 0 ? [0, 1] : [1, 0];
      for (const k of order) {
        const start = performance.now();
        const c0 = cpuNow();
        for (let i = first; i < Math.min(first + block, FRAMES); i++) await pair[k]!.write(i);
        time[k]! += performance.now() - start;
        cpu[k]! += cpuNow() - c0;
      }
    }
    for (const k of [0, 1]) {
      const start = performance.now();
      const c0 = cpuNow();
      await pair[k]!.close();
      time[k]! += performance.now() - start;
      cpu[k]! += cpuNow() - c0;
    }
    return [payload / 1e6 / (time[0]! / 1000), payload / 1e6 / (time[1]! / 1000), cpu[0]! / FRAMES, cpu[1]! / FRAMES];
  } finally {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  }
}

/**
 * What each step of the crash-safe one-file-per-frame path costs per file, with 4 KiB files so
 * that the per-file system calls dominate (an 8 MiB frame costs milliseconds; these are µs):
 * the raw open/write/close of the reference, then the same plus each step the writer adds — the
 * existence check (lstat) that refuses to overwrite, the exclusive create of `.partial`, the
 * rename to the final name — and the writers themselves. Steps alternate in blocks, as above.
 */
async function perFileCosts(files = 1000, rounds = 5): Promise<void> {
  const bytes = new Uint8Array(4096).fill(7);
  const small = makeFrame(new Uint16Array(2048).fill(7), [32, 64], { frameNumber: 0 });
  const steps: Record<string, (dir: string, i: number) => Promise<void>> = {
    'open/write/close (reference)': async (dir, i) => {
      const h = await open(join(dir, `r_${i}`), 'w');
      await writeAll(h, bytes, 0);
      await h.close();
    },
    '+ lstat (no overwrite)': async (dir, i) => {
      await lstat(join(dir, `l_${i}`)).catch(() => undefined);
      const h = await open(join(dir, `l_${i}`), 'w');
      await writeAll(h, bytes, 0);
      await h.close();
    },
    '+ lstat ∥ open wx .partial, + rename': async (dir, i) => {
      const path = join(dir, `p_${i}`);
      const [, h] = await Promise.all([lstat(path).catch(() => undefined), open(`${path}.partial`, 'wx')]);
      await writeAll(h, bytes, 0);
      await h.close();
      await rename(`${path}.partial`, path);
    },
    'TiffWriter.writeFile (4 KiB frame)': async (dir, i) => {
      await TiffWriter.writeFile(join(dir, `t_${i}.tif`), small);
    },
  };
  const names = Object.keys(steps);
  const perFile = new Map<string, number[]>(names.map((n) => [n, []]));
  const perFileCpu = new Map<string, number[]>(names.map((n) => [n, []]));
  const walker = await mkdtemp(join(ROOT, 'concert-bench-'));
  try {
    const multi = await MultiFileWriter.open(walker, { pattern: 'm_{:06}.tif' });
    steps['MultiFileWriter (4 KiB frames)'] = async () => multi.write(small);
    names.push('MultiFileWriter (4 KiB frames)');
    perFile.set(names.at(-1)!, []);
    perFileCpu.set(names.at(-1)!, []);
    for (let r = 0; r < rounds; r++) {
      const dir = await mkdtemp(join(ROOT, 'concert-bench-'));
      try {
        const order = r % 2 === 0 ? names : [...names].reverse();
        for (const name of order) {
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          for (let i = 0; i < files; i++) await steps[name]!(dir, r * files + i);
          const c = process.cpuUsage(c0);
          perFile.get(name)!.push(((performance.now() - t0) * 1000) / files);
          perFileCpu.get(name)!.push((c.user + c.system) / files);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    await multi.close();
  } finally {
    await rm(walker, { recursive: true, force: true });
  }
  console.log(`\nper-file cost of each step (${files} files of 4 KiB, ${rounds} rounds; µs per file, medians):`);
  const ref = median(perFile.get(names[0]!)!);
  const refCpu = median(perFileCpu.get(names[0]!)!);
  for (const name of names) {
    const t = median(perFile.get(name)!);
    const c = median(perFileCpu.get(name)!);
    console.log(
      `  ${name.padEnd(40)} ${t.toFixed(0).padStart(5)} µs (+${(t - ref).toFixed(0).padStart(4)})` +
        `   CPU ${c.toFixed(0).padStart(5)} µs (+${(c - refCpu).toFixed(0).padStart(4)})`,
    );
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number) => x.toFixed(0).padStart(6);

console.log(
  `${FRAMES} frames of ${SIZE}×${SIZE} uint16 (${(payload / 2 ** 30).toFixed(2)} GiB per pattern and run) in ${ROOT}, ${REPEATS} runs`,
);
const pairs: [string, string, string][] = [
  ['file per frame', 'raw fs, file per frame', 'TiffWriter, file per frame'],
  ['one file', 'raw fs, one big file', 'TiffWriter, multi-page'],
];
const results = new Map<string, number[]>();
const ratios = new Map<string, number[]>();
const cpuMs = new Map<string, number[]>();
const push = (map: Map<string, number[]>, key: string, x: number) => map.set(key, [...(map.get(key) ?? []), x]);
for (let r = 0; r < REPEATS; r++) {
  for (const [pattern, raw, tiff] of pairs) {
    const [rawMbs, tiffMbs, rawCpu, tiffCpu] = await pairRun(raw, tiff);
    push(results, raw, rawMbs);
    push(results, tiff, tiffMbs);
    push(cpuMs, raw, rawCpu);
    push(cpuMs, tiff, tiffCpu);
    push(ratios, pattern, tiffMbs / rawMbs);
    console.log(
      `  run ${r + 1}  ${pattern.padEnd(15)} raw ${fmt(rawMbs)} MB/s   TIFF ${fmt(tiffMbs)} MB/s   ratio ${(tiffMbs / rawMbs).toFixed(2)}` +
        `   CPU/frame raw ${rawCpu.toFixed(2)} ms, TIFF ${tiffCpu.toFixed(2)} ms`,
    );
  }
}
console.log('\nmedians:');
for (const [name, list] of results)
  console.log(
    `  ${name.padEnd(28)} ${fmt(median(list))} MB/s, ${median(cpuMs.get(name)!).toFixed(2)} ms CPU per frame`,
  );
for (const [pattern, list] of ratios)
  console.log(`  ratio TIFF / raw, ${pattern.padEnd(15)} ${median(list).toFixed(2)} (median of interleaved runs)`);
const med = (name: string) => median(results.get(name)!);
printResult({
  name: 'TIFF, one file per frame, against raw fs writes of the same bytes',
  value: med('TiffWriter, file per frame'),
  unit: 'MB/s',
  baseline: med('raw fs, file per frame'),
  baselineName: 'raw fs, file per frame',
  goal: { of: 'ratio', atLeast: 0.95 },
});
printResult({
  name: 'TIFF, one file per frame, CPU per frame against raw fs writes (load-insensitive companion)',
  value: median(cpuMs.get('TiffWriter, file per frame')!),
  unit: 'ms CPU/frame',
  baseline: median(cpuMs.get('raw fs, file per frame')!),
  baselineName: 'raw fs, file per frame',
});
await perFileCosts();
printResult({
  name: 'TIFF, multi-page, against raw fs writes into one file',
  value: med('TiffWriter, multi-page'),
  unit: 'MB/s',
  baseline: med('raw fs, one big file'),
  baselineName: 'raw fs, one file',
});

const hdf5Frames = Math.min(FRAMES, 100);
const dir = await mkdtemp(join(ROOT, 'concert-bench-'));
try {
  const writer = await Hdf5Writer.open(join(dir, 'tomo.nx'));
  const start = performance.now();
  for (let i = 0; i < hdf5Frames; i++) await writer.write(frame(i), { imageKey: i < 10 ? 'dark' : 0 });
  await writer.close();
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `\nHdf5Writer (h5wasm, NXtomo, flush per frame), ${hdf5Frames} frames: ${fmt((hdf5Frames * SIZE * SIZE * 2) / 1e6 / seconds)} MB/s ` +
      `(${((seconds * 1000) / hdf5Frames).toFixed(1)} ms/frame)`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}

// Python Concert's writer benchmark, in the same run (its own script, fewer frames).
const anchor = await runAnchor(['writer', String(Math.min(FRAMES, 60)), '1'], 600_000);
const missing = 'missing' in anchor ? String(anchor.missing) : undefined;
const concert = anchor as Record<string, number>;
if (!missing)
  console.log(
    `\nPython Concert bench_writer.py (${Math.min(FRAMES, 60)} frames): DirectoryWalker one file per frame ` +
      `${fmt(concert.concert!)} MB/s, tifffile ${fmt(concert.tifffile ?? NaN)} MB/s, raw ${fmt(concert.raw ?? NaN)} MB/s`,
  );
printResult({
  name: 'TIFF, one file per frame, against Python Concert (DirectoryWalker + TiffWriter)',
  value: med('TiffWriter, file per frame'),
  unit: 'MB/s',
  baseline: missing ? undefined : concert.concert,
  baselineName: 'Python Concert',
  missing,
});
console.log(
  `load average at end: ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
