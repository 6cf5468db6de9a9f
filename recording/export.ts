/**
 * Recordings to files: the frames of a log as a movie (`concert recording video`, with the frame
 * rate measured from the receive times, as purpledrop's `pdlog --video` does) or as a TIFF
 * dataset (`concert recording export`).
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { OptionError, progress, type Frame } from '../core/index.js';
import { encodeMovie, VideoError, type MovieOptions, type MovieResult } from '../video/index.js';
import { MultiFileWriter } from '../walkers/formats/index.js';
import { LogReader, type IndexEntry } from '../walkers/formats/index.js';
import { measuredFps } from './summary.js';

/** Options of {@link logToVideo}. */
export interface LogToVideoOptions extends Omit<MovieOptions, 'fps'> {
  /** `'auto'` (default): measured from the frames' receive times; or frames per second. */
  fps?: 'auto' | number;
  /** Only frames of this acquisition. */
  acquisition?: string;
  signal?: AbortSignal;
}

/** Frames of the log (of one acquisition, if given), in order, read one at a time. */
async function* logFrames(reader: LogReader, entries: IndexEntry[], signal?: AbortSignal): AsyncGenerator<Frame> {
  for (const entry of entries) {
    signal?.throwIfAborted();
    const record = await reader.read(entry);
    if (record.kind === 'frame') yield record.frame;
  }
}

function selectFrames(frames: IndexEntry[], acquisition: string | undefined, log: string): IndexEntry[] {
  if (acquisition === undefined) return frames;
  const chosen = frames.filter((f) => f.header?.acquisition === acquisition);
  if (chosen.length === 0) {
    const names = [...new Set(frames.map((f) => f.header?.acquisition).filter((a) => typeof a === 'string'))];
    throw new VideoError(
      `no frames of acquisition '${acquisition}' in ${log} (it has: ${names.join(', ') || 'none named'})`,
    );
  }
  return chosen;
}

/**
 * Writes the frames of the recording `log` into the movie `out`.
 * @throws VideoError `no frames in LOG` when it holds none; FfmpegError, StorageError.
 */
export async function logToVideo(log: string, out: string, options: LogToVideoOptions = {}): Promise<MovieResult> {
  const { fps = 'auto', acquisition, signal, ...movie } = options;
  if (fps !== 'auto' && !(typeof fps === 'number' && fps > 0))
    throw new OptionError(`fps must be 'auto' or a number > 0, got ${JSON.stringify(fps)}`);
  const reader = await LogReader.open(log);
  try {
    const index = await reader.index();
    if (index.frames.length === 0) throw new VideoError(`no frames in ${log}`);
    const entries = selectFrames(index.frames, acquisition, log);
    const rate = fps === 'auto' ? roundFps(measuredFps({ ...index, frames: entries }) ?? 30) : fps;
    return await encodeMovie(
      out,
      logFrames(reader, entries, signal),
      entries.length,
      { ...movie, fps: rate, signal },
      `video ${out}`,
    );
  } finally {
    await reader.close();
  }
}

/** A measured rate, kept to 3 significant digits (ffmpeg takes decimals). */
function roundFps(fps: number): number {
  return Math.min(1000, Math.max(0.01, Number(fps.toPrecision(3))));
}

/** What {@link logToTiff} wrote. */
export interface LogExport {
  dir: string;
  frames: number;
  files: string[];
}

/**
 * Writes the frames of `log` as a TIFF dataset in `dir` (`frame_000000.tif`, …, one file per frame,
 * the metadata in each page's description). With frames of several acquisitions, each gets its own
 * subfolder, as the walkers lay them out.
 * @throws VideoError when the log holds no frames; StorageError if a file exists or cannot be written.
 */
export async function logToTiff(
  log: string,
  dir: string,
  options: { acquisition?: string; signal?: AbortSignal } = {},
): Promise<LogExport> {
  const reader = await LogReader.open(log);
  try {
    const index = await reader.index();
    if (index.frames.length === 0) throw new VideoError(`no frames in ${log}`);
    const entries = selectFrames(index.frames, options.acquisition, log);
    const names = new Set(entries.map((e) => (typeof e.header?.acquisition === 'string' ? e.header.acquisition : '')));
    const split = options.acquisition === undefined && names.size > 1;
    const writers = new Map<string, MultiFileWriter>();
    const bar = progress(`export ${dir}`, entries.length);
    try {
      for await (const frame of logFrames(reader, entries, options.signal)) {
        const name = split && typeof frame.metadata.acquisition === 'string' ? frame.metadata.acquisition : '';
        let writer = writers.get(name);
        if (!writer) {
          const target = name ? join(dir, name) : dir;
          await mkdir(target, { recursive: true });
          writer = await MultiFileWriter.open(target);
          writers.set(name, writer);
        }
        await writer.write(frame);
        bar.tick();
      }
    } finally {
      bar.done();
      for (const w of writers.values()) await w.close();
    }
    return { dir, frames: entries.length, files: [...writers.values()].flatMap((w) => w.files) };
  } finally {
    await reader.close();
  }
}
