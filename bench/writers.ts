/**
 * Writer throughput: TIFF (one file per frame, multi-page) against raw `fs` writes of the same
 * bytes in the same pattern, and HDF5 (NXtomo via h5wasm). Files go to a temp dir (page cache)
 * and are removed after each run.
 *
 *   npx tsx bench/writers.ts [frames = 200] [repeats = 5] [directory = os.tmpdir()]
 *
 * Prints MB/s (10⁶ bytes/s) per run, medians, and the ratio TIFF / raw (target ≥ 0.9).
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { frameBytes, makeFrame } from '../core/frame.js';
import type { Frame } from '../core/frame.js';
import { Hdf5Writer } from '../walkers/formats/hdf5-writer.js';
import { MultiFileWriter } from '../walkers/formats/multi-file.js';
import { TiffWriter } from '../walkers/formats/tiff-writer.js';

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
async function pairRun(nameA: string, nameB: string): Promise<[number, number]> {
  const dirs = [await mkdtemp(join(ROOT, 'concert-bench-')), await mkdtemp(join(ROOT, 'concert-bench-'))];
  try {
    const pair = [await sinks[nameA]!(dirs[0]!), await sinks[nameB]!(dirs[1]!)];
    const time = [0, 0];
    const block = 10;
    for (let first = 0; first < FRAMES; first += block) {
      const order = (first / block) % 2 === 0 ? [0, 1] : [1, 0];
      for (const k of order) {
        const start = performance.now();
        for (let i = first; i < Math.min(first + block, FRAMES); i++) await pair[k]!.write(i);
        time[k]! += performance.now() - start;
      }
    }
    for (const k of [0, 1]) {
      const start = performance.now();
      await pair[k]!.close();
      time[k]! += performance.now() - start;
    }
    return [payload / 1e6 / (time[0]! / 1000), payload / 1e6 / (time[1]! / 1000)];
  } finally {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
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
for (let r = 0; r < REPEATS; r++) {
  for (const [pattern, raw, tiff] of pairs) {
    const [rawMbs, tiffMbs] = await pairRun(raw, tiff);
    for (const [name, mbs] of [
      [raw, rawMbs],
      [tiff, tiffMbs],
    ] as const)
      results.set(name, [...(results.get(name) ?? []), mbs]);
    ratios.set(pattern, [...(ratios.get(pattern) ?? []), tiffMbs / rawMbs]);
    console.log(
      `  run ${r + 1}  ${pattern.padEnd(15)} raw ${fmt(rawMbs)} MB/s   TIFF ${fmt(tiffMbs)} MB/s   ratio ${(tiffMbs / rawMbs).toFixed(2)}`,
    );
  }
}
console.log('\nmedians:');
for (const [name, list] of results) console.log(`  ${name.padEnd(28)} ${fmt(median(list))} MB/s`);
for (const [pattern, list] of ratios)
  console.log(
    `  ratio TIFF / raw, ${pattern.padEnd(15)} ${median(list).toFixed(2)} (median of interleaved runs; target ≥ 0.9)`,
  );

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
