/**
 * Reading an acquisition back (RCC's `read_session_data`): per camera its metadata, timestamps,
 * files and whether it is complete — every frame stored, numbered 0, 1, 2 … and with monotonic
 * timestamps, every file closed (no `.partial` left), as many frames in the files as in the
 * metadata.
 * @module
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { errorMessage } from '../core/index.js';
import { countVideoFrames } from '../video/index.js';
import { TiffReader } from '../walkers/formats/index.js';

/** One row of `timestamps.csv`. */
export interface TimestampRow {
  /** Index of the frame in the stored files (0, 1, 2 …). */
  frame: number;
  /** The camera's frame number. */
  cameraFrame: number;
  /** When the camera took it (ms since the epoch, the camera's clock). */
  cameraTime: number;
  /** When the camera server received it (ms since the epoch, the host's clock). */
  hostTime: number;
}

/** One camera of an acquisition on disk. */
export interface CameraData {
  camera: string;
  directory: string;
  /** metadata.json as written (undefined if missing or unreadable). */
  metadata: Record<string, unknown> | undefined;
  timestamps: TimestampRow[];
  /** The frame files (TIFF files or the mp4), final names, in order. */
  files: string[];
  /** Files never completed (`.partial`). */
  partialFiles: string[];
  /** Frames found in the files. */
  storedFrames: number;
  /** Frames per second measured from the host timestamps. */
  fps: number;
  /** Seconds from the first to the last frame. */
  duration: number;
  drops: number;
  complete: boolean;
  /** Why it is not complete (empty when it is). */
  problems: string[];
}

/** An acquisition on disk. */
export interface AcquisitionData {
  directory: string;
  cameras: Record<string, CameraData>;
  complete: boolean;
}

/**
 * Reads the acquisition in `dir` (a folder of camera folders, or one camera's folder).
 * @throws Error if `dir` holds no camera folder with a metadata.json.
 */
export async function readAcquisitionData(
  dir: string,
  options: { countMovieFrames?: boolean } = {},
): Promise<AcquisitionData> {
  const entries = await readdir(dir, { withFileTypes: true });
  const folders = entries.some((e) => e.name === 'metadata.json')
    ? [dir]
    : (
        await Promise.all(
          entries
            .filter((e) => e.isDirectory())
            .map(async (e) => {
              const sub = join(dir, e.name);
              const files = await readdir(sub).catch(() => [] as string[]);
              return files.some((f) => f.startsWith('metadata.json')) ? sub : undefined;
            }),
        )
      ).filter((x): x is string => x !== undefined);
  if (folders.length === 0) throw new Error(`${dir} holds no acquisition (no camera folder with a metadata.json)`);
  const cameras: Record<string, CameraData> = {};
  for (const folder of folders.sort()) {
    const data = await readCamera(folder, options.countMovieFrames ?? true);
    cameras[data.camera] = data;
  }
  return { directory: dir, cameras, complete: Object.values(cameras).every((c) => c.complete) };
}

async function readCamera(directory: string, countMovieFrames: boolean): Promise<CameraData> {
  const problems: string[] = [];
  const names = (await readdir(directory)).sort();
  let metadata: Record<string, unknown> | undefined;
  try {
    metadata = JSON.parse(await readFile(join(directory, 'metadata.json'), 'utf8')) as Record<string, unknown>;
  } catch (error) {
    problems.push(`metadata.json cannot be read: ${errorMessage(error)}`);
  }
  const camera = typeof metadata?.camera === 'string' ? metadata.camera : basename(directory);
  const partialFiles = names.filter((n) => n.endsWith('.partial'));
  if (partialFiles.length) problems.push(`never completed: ${partialFiles.join(', ')}`);
  const files = names.filter((n) => /^frames_\d+\.tif$/.test(n) || n === 'video.mp4');
  let timestamps: TimestampRow[] = [];
  const csv = names.includes('timestamps.csv') ? 'timestamps.csv' : names.find((n) => n === 'timestamps.csv.partial');
  if (csv) timestamps = parseTimestamps(await readFile(join(directory, csv), 'utf8'));
  else problems.push('no timestamps.csv');
  let storedFrames = 0;
  for (const f of files) {
    try {
      if (f.endsWith('.tif')) {
        const reader = await TiffReader.open(join(directory, f));
        try {
          storedFrames += await reader.pageCount();
        } finally {
          await reader.close();
        }
      } else if (countMovieFrames) storedFrames += await countVideoFrames(join(directory, f), { how: 'demux' });
      else storedFrames = Number(metadata?.frames ?? 0);
    } catch (error) {
      problems.push(`${f} cannot be read: ${errorMessage(error)}`);
    }
  }
  const frames = typeof metadata?.frames === 'number' ? metadata.frames : undefined;
  const drops = typeof metadata?.drops === 'number' ? metadata.drops : 0;
  if (drops > 0)
    problems.push(
      `${drops} frame${drops === 1 ? ' was' : 's were'} dropped (the camera took them, they were not stored)`,
    );
  if (metadata && metadata.complete !== true)
    problems.push(
      `metadata.json says incomplete (state ${String(metadata.state)}${metadata.error ? `: ${String(metadata.error)}` : ''})`,
    );
  if (frames !== undefined && metadata?.storage !== undefined && files.length + partialFiles.length > 0) {
    if (storedFrames !== frames) problems.push(`the files hold ${storedFrames} frames, metadata.json says ${frames}`);
    if (timestamps.length !== frames)
      problems.push(`timestamps.csv has ${timestamps.length} rows, metadata.json says ${frames} frames`);
  }
  for (let i = 0; i < timestamps.length; i++) {
    const row = timestamps[i]!;
    if (row.frame !== i) {
      problems.push(
        `timestamps.csv: row ${i + 1} is frame ${row.frame}, expected ${i} (frame numbers must be consecutive)`,
      );
      break;
    }
    if (i > 0 && (row.hostTime < timestamps[i - 1]!.hostTime || row.cameraTime < timestamps[i - 1]!.cameraTime)) {
      problems.push(`timestamps.csv: frame ${i} is earlier than frame ${i - 1} (timestamps must be monotonic)`);
      break;
    }
  }
  const duration =
    timestamps.length > 1 ? (timestamps[timestamps.length - 1]!.hostTime - timestamps[0]!.hostTime) / 1000 : 0;
  return {
    camera,
    directory,
    metadata,
    timestamps,
    files,
    partialFiles,
    storedFrames,
    fps: duration > 0 ? (timestamps.length - 1) / duration : 0,
    duration,
    drops,
    complete: problems.length === 0,
    problems,
  };
}

function parseTimestamps(text: string): TimestampRow[] {
  const rows: TimestampRow[] = [];
  const lines = text.split('\n');
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const [frame, cameraFrame, cameraTime, hostTime] = line.split(',').map(Number);
    rows.push({ frame: frame!, cameraFrame: cameraFrame!, cameraTime: cameraTime!, hostTime: hostTime! });
  }
  return rows;
}
