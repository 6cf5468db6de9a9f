/**
 * Movies and recordings, each against a reference measured in the same run:
 *
 * 1. MovieWriter in latest mode (a 10 fps time-lapse) on a free-running 1024² uint16 acquisition
 *    (the dummy camera at 2 kHz): producer frames/s with it attached / without (≥ 0.95), over the
 *    producer's own time; how long the movie takes to finish after the last frame is printed.
 * 2. MovieWriter lossless: frames/s from the first frame to the verified movie / ffmpeg's own
 *    encode rate for the same 8-bit frames read from a raw file, same encoder settings (≥ 0.9).
 * 3. Recorder (addon on an acquisition) MB/s into a recording / a raw `fs` write of the same bytes,
 *    both ending with an fsync (≥ 0.9).
 * 4. ReplayCamera fast mode frames/s / reading the same file raw, record by record (≥ 0.8).
 *
 * Measurements alternate (ours, reference, reference, ours, …: each round swaps who goes first)
 * because the 2-core machine is shared and noisy; rows 2 and 4 report the trimmed geometric means
 * of the paired rounds (`pairedMeans`), so their ratio is that of each round's pair, and print
 * every round's ratio with the load average.
 *
 *   npx tsx bench/video.ts [repeats = 4] [sections = latest,lossless,recorder,replay]
 */
import { readFileSync } from 'node:fs';
import { appendFile, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MovieWriter, Recorder } from '../addons/local/index.js';
import { frameBytes, makeFrame, q, type Frame } from '../core/index.js';
import * as dummy from '../devices/cameras/dummy.js';
import { ReplayCamera } from '../devices/cameras/replay.js';
import { Acquisition, Experiment } from '../experiments/index.js';
import { LogReader } from '../recording/index.js';
import { ContrastMapper, FfmpegProcess, parseContrast, resolveMovieOptions } from '../video/index.js';
import { h264OutputArgs } from '../video/movie-options.js';
import { median, pairedMeans, printResult } from './result.js';

const REPEATS = Number(process.argv[2] ?? 4);
const SECTIONS = new Set((process.argv[3] ?? 'latest,lossless,recorder,replay').split(','));
const SIZE = 1024;
const CONTRAST = { min: 0, max: 65535 };

const pool: Frame[] = Array.from({ length: 8 }, (_, k) => {
  const data = new Uint16Array(SIZE * SIZE);
  for (let i = 0; i < data.length; i++) data[i] = ((i % SIZE) * 37 + Math.floor(i / SIZE) * 11 + k * 997) & 0xffff;
  return makeFrame(data, [SIZE, SIZE]);
});
const frameAt = (i: number): Frame => ({
  ...pool[i % pool.length]!,
  metadata: { frameNumber: i, timestamp: Date.now() },
});

/** A producer yielding pre-made frames as fast as the consumers take them, for `ms` or `count`. */
function freeRunning(limit: { ms?: number; count?: number }) {
  return async function* (signal: AbortSignal): AsyncGenerator<Frame> {
    const end = performance.now() + (limit.ms ?? Infinity);
    for (let i = 0; i < (limit.count ?? Infinity) && !signal.aborted; i++) {
      if ((i & 255) === 0 && performance.now() > end) return;
      yield frameAt(i);
      if ((i & 1023) === 1023) await new Promise((r) => setImmediate(r)); // let timers (the time-lapse) run
    }
  };
}

/**
 * A free-running 1024² uint16 camera at 2 kHz (4 GB/s, faster than any detector we drive; the
 * dummy without noise, so the clock and not the noise generator sets the pace) for 3 s: frames/s
 * over the producer's own time (its first to its last frame). The run's end also waits for the
 * consumers to finish (the movie's encoder flushing and its check): that tail is returned
 * separately, as it does not slow the producer.
 */
async function producerRate(
  dir: string,
  withMovie: boolean,
): Promise<{ rate: number; tailMs: number; movie?: number }> {
  const camera = await dummy.Camera.create({ width: SIZE, height: SIZE, frameRate: q('2000 Hz'), simulate: false });
  let started = 0;
  let stopped = 0;
  const acquisition = await Acquisition.create('live', async function* (signal) {
    started = performance.now();
    const end = started + 3000;
    for await (const frame of camera.stream({ signal })) {
      yield frame;
      if (performance.now() > end) break;
    }
    stopped = performance.now();
  });
  const exp = await Experiment.create([acquisition]);
  const movie = withMovie
    ? await MovieWriter.create(exp, { mode: 'latest', fps: 10, dir, out: `live-${Date.now()}.mp4`, contrast: CONTRAST })
    : undefined;
  const result = await exp.run();
  const ended = performance.now();
  await camera.disconnect();
  const r = result.acquisitions.live!;
  return { rate: (r.frames / (stopped - started)) * 1000, tailMs: ended - stopped, movie: movie?.movies[0]?.frames };
}

/** CPU time of this process's main thread so far, in ms (utime + stime of /proc/thread-self/stat). */
function mainThreadCpuMs(): number {
  const fields = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100;

/** Our CPU per frame in the lossless rounds (ms): the whole process (main + mapping thread) and the main thread. */
const losslessCpu: Array<{ all: number; main: number }> = [];

async function losslessRate(dir: string, frames: number): Promise<number> {
  const exp = await Experiment.create([await Acquisition.create('scan', freeRunning({ count: frames }))]);
  await MovieWriter.create(exp, { fps: 30, dir, out: `scan-${Date.now()}.mp4`, contrast: CONTRAST });
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuMs();
  const t0 = performance.now();
  await exp.run();
  const rate = (frames / (performance.now() - t0)) * 1000;
  const cpu = process.cpuUsage(cpu0);
  losslessCpu.push({ all: (cpu.user + cpu.system) / 1000 / frames, main: (mainThreadCpuMs() - main0) / frames });
  return rate;
}

/** ffmpeg alone: the same 8-bit frames from a raw file, the same output settings. */
async function ffmpegRate(dir: string, raw: string, frames: number): Promise<number> {
  const options = resolveMovieOptions('bench', { fps: 30 });
  const out = join(dir, `ref-${Date.now()}.mp4`);
  const t0 = performance.now();
  const ffmpeg = FfmpegProcess.spawn({
    what: 'encoding the reference',
    args: [
      '-f',
      'rawvideo',
      '-pix_fmt',
      'gray',
      '-video_size',
      `${SIZE}x${SIZE}`,
      '-framerate',
      '30',
      '-i',
      raw,
      ...h264OutputArgs(options, out),
    ],
  });
  await ffmpeg.wait();
  return (frames / (performance.now() - t0)) * 1000;
}

async function recorderRate(dir: string, frames: number): Promise<{ mbps: number; path: string }> {
  const exp = await Experiment.create([await Acquisition.create('radios', freeRunning({ count: frames }))]);
  const rec = await Recorder.create(exp);
  const path = join(dir, `rec-${Date.now()}.clog`);
  const t0 = performance.now();
  await rec.start(path);
  await exp.run();
  const { bytes } = await rec.stop();
  return { mbps: bytes / (performance.now() - t0) / 1000, path };
}

/** The same bytes written raw: one writev of a small head and the pixels per frame, then fsync. */
async function rawWriteRate(dir: string, frames: number, headBytes: number): Promise<number> {
  const path = join(dir, `raw-${Date.now()}.bin`);
  const head = Buffer.alloc(headBytes);
  const t0 = performance.now();
  const handle = await open(path, 'w');
  let position = 0;
  for (let i = 0; i < frames; i++) {
    const pixels = frameBytes(frameAt(i));
    await handle.writev([head, pixels], position);
    position += head.length + pixels.length;
  }
  await handle.sync();
  await handle.close();
  const mbps = position / (performance.now() - t0) / 1000;
  await rm(path);
  return mbps;
}

/** Passes over the recording per replay measurement (one is too short to time on a busy machine). */
const REPLAY_PASSES = 2;

async function replayRate(path: string): Promise<number> {
  const camera = await ReplayCamera.create({ file: path, timing: 'fast', frameRate: q('1000 Hz'), loop: true });
  const t0 = performance.now();
  let n = 0;
  for await (const _ of camera.stream({ count: REPLAY_PASSES * camera.length })) n++;
  const rate = (n / (performance.now() - t0)) * 1000;
  await camera.disconnect();
  return rate;
}

/** Reads the recording raw: each record into a fresh buffer, in order, no decoding, {@link REPLAY_PASSES} times. */
async function rawReadRate(path: string): Promise<number> {
  const reader = await LogReader.open(path);
  const { frames } = await reader.index();
  await reader.close();
  const handle = await open(path, 'r');
  const t0 = performance.now();
  for (let pass = 0; pass < REPLAY_PASSES; pass++)
    for (const f of frames) await handle.read(Buffer.allocUnsafeSlow(f.length + 4), 0, f.length + 4, f.offset);
  const rate = ((REPLAY_PASSES * frames.length) / (performance.now() - t0)) * 1000;
  await handle.close();
  return rate;
}

/** The load average, for the log lines next to the figures. */
function load(): string {
  return `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`;
}

/** Runs `ours` and `reference` `REPEATS` times, swapping which goes first each round. */
async function paired(ours: () => Promise<number>, reference: () => Promise<number>) {
  const o: number[] = [];
  const r: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    if (i % 2) r.push(await reference());
    o.push(await ours());
    if (i % 2 === 0) r.push(await reference());
  }
  return { ours: o, reference: r, ratios: o.map((x, i) => (x / r[i]!).toFixed(2)).join(' '), ...pairedMeans(o, r) };
}

/**
 * Reads the recording raw as ReplayCamera does: consecutive records in spans of up to 8 MiB, each
 * span into a fresh buffer, no decoding, {@link REPLAY_PASSES} times.
 */
async function rawSpanReadRate(path: string): Promise<number> {
  const reader = await LogReader.open(path);
  const { frames } = await reader.index();
  await reader.close();
  const spans: Array<{ offset: number; bytes: number; count: number }> = [];
  for (const f of frames) {
    const last = spans.at(-1);
    if (last && last.offset + last.bytes === f.offset && last.bytes + f.length + 4 <= 8 << 20 && last.count < 64) {
      last.bytes += f.length + 4;
      last.count++;
    } else spans.push({ offset: f.offset, bytes: f.length + 4, count: 1 });
  }
  const handle = await open(path, 'r');
  const t0 = performance.now();
  for (let pass = 0; pass < REPLAY_PASSES; pass++)
    for (const span of spans) await handle.read(Buffer.allocUnsafeSlow(span.bytes), 0, span.bytes, span.offset);
  const rate = ((REPLAY_PASSES * frames.length) / (performance.now() - t0)) * 1000;
  await handle.close();
  return rate;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'concert-bench-video-'));
  try {
    if (SECTIONS.has('latest')) await latestSection(dir);
    if (SECTIONS.has('lossless')) await losslessSection(dir);
    let log = '';
    if (SECTIONS.has('recorder') || SECTIONS.has('replay')) log = await recorderSection(dir);
    if (SECTIONS.has('replay')) await replaySection(log);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// 1. latest mode: producer throughput with / without the time-lapse.
async function latestSection(dir: string): Promise<void> {
  const without: number[] = [];
  const withMovie: number[] = [];
  const tails: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    without.push((await producerRate(dir, false)).rate);
    const run = await producerRate(dir, true);
    withMovie.push(run.rate);
    tails.push(run.tailMs);
    console.log(
      `latest mode: ${run.movie} frames in the time-lapse; the run ended ${run.tailMs.toFixed(0)} ms after the producer`,
    );
  }
  console.log(
    `latest mode: the movie is finished (encoder flushed, frames counted) a median ${median(tails).toFixed(0)} ms after the last frame`,
  );
  printResult({
    name: 'MovieWriter latest (1024² u16 camera free-running at 2 kHz): producer frames/s',
    value: median(withMovie),
    unit: 'frames/s',
    baseline: median(without),
    baselineName: 'same producer without it',
    goal: { of: 'ratio', atLeast: 0.95 },
  });
}

// 2. lossless mode against ffmpeg's own rate on the same 8-bit frames.
async function losslessSection(dir: string): Promise<void> {
  // 480 frames (≈ 4 s of encoding): a scan's length, so the once-per-movie costs on both sides (starting
  // ffmpeg, the mapping thread, the check of the finished movie) do not decide the ratio.
  const frames = 480;
  const mapper = new ContrastMapper(parseContrast(CONTRAST));
  const raw = join(dir, 'frames.gray');
  await writeFile(raw, new Uint8Array(0));
  for (let i = 0; i < frames; i++) await appendFile(raw, mapper.map(frameAt(i)));
  await ffmpegRate(dir, raw, frames); // warm the page cache and the binary
  const run = await paired(
    () => losslessRate(dir, frames),
    () => ffmpegRate(dir, raw, frames),
  );
  console.log(`lossless: paired ratios ${run.ratios} (${load()})`);
  const cpu = (pick: (c: { all: number; main: number }) => number) =>
    losslessCpu.map((c) => pick(c).toFixed(2)).join(' ');
  console.log(
    `lossless: our CPU per frame (ms, each run; ffmpeg not included): all threads ${cpu((c) => c.all)}; ` +
      `main thread ${cpu((c) => c.main)}`,
  );
  printResult({
    name: 'MovieWriter lossless (1024² u16 → h264 veryfast crf 18): frames/s',
    value: run.value,
    unit: 'frames/s',
    baseline: run.baseline,
    baselineName: 'ffmpeg alone, same frames from a raw file',
    goal: { of: 'ratio', atLeast: 0.9 },
  });
}

// 3. Recorder against raw fs writes of the same bytes; returns the last recording.
async function recorderSection(dir: string): Promise<string> {
  const recorded = 250; // 500 MiB
  const rec: number[] = [];
  const rawWrites: number[] = [];
  let log = '';
  for (let r = 0; r < REPEATS; r++) {
    // Alternate which goes first: the write-back of one run's dirty pages hits the next run.
    if (r % 2) rawWrites.push(await rawWriteRate(dir, recorded, 256));
    if (log) await rm(log);
    const result = await recorderRate(dir, recorded);
    rec.push(result.mbps);
    log = result.path;
    if (r % 2 === 0) rawWrites.push(await rawWriteRate(dir, recorded, 256));
  }
  printResult({
    name: 'Recorder (2 MiB frames into a recording, fsync): MB/s',
    value: median(rec),
    unit: 'MB/s',
    baseline: median(rawWrites),
    baselineName: 'raw fs writev of the same bytes',
    goal: { of: 'ratio', atLeast: 0.9 },
  });
  return log;
}

// 4. ReplayCamera fast against reading the same file raw, both from a warm page cache.
async function replaySection(log: string): Promise<void> {
  await rawReadRate(log); // warm the page cache
  const run = await paired(
    () => replayRate(log),
    () => rawReadRate(log),
  );
  const rates = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(' ');
  console.log(
    `replay: ${rates(run.ours)} / raw ${rates(run.reference)} frames/s; paired ratios ${run.ratios} (${load()})`,
  );
  // Not a row: the same reads ReplayCamera makes (spans of consecutive records), for the record.
  const spans = await paired(
    () => replayRate(log),
    () => rawSpanReadRate(log),
  );
  console.log(
    `replay against raw reads of the same spans (8 MiB, as it reads them): ${spans.value.toFixed(0)} / ` +
      `${spans.baseline.toFixed(0)} frames/s = ${(spans.value / spans.baseline).toFixed(2)}; paired ratios ${spans.ratios} (${load()})`,
  );
  printResult({
    name: 'ReplayCamera fast (2 MiB frames): frames/s',
    value: run.value,
    unit: 'frames/s',
    baseline: run.baseline,
    baselineName: 'raw reads of the same records',
    goal: { of: 'ratio', atLeast: 0.8 },
  });
}

await main();
