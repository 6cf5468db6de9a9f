/** Helpers of the video tests: Debian's ffmpeg/ffprobe (not our binary) read back what we write. */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { makeFrame, type Frame } from '../../../core/index.js';
import { FfmpegProcess } from '../../../video/index.js';
import { requireTool, type SkippableContext } from '../../support/tools.js';

const exec = promisify(execFile);

/** The path of Debian's ffmpeg (skips the test when it is missing). */
export function debianFfmpeg(ctx: SkippableContext): string {
  requireTool(ctx, 'ffprobe', 'ffmpeg');
  requireTool(ctx, 'ffmpeg', 'ffmpeg');
  return spawnSync('sh', ['-c', 'command -v ffmpeg'], { encoding: 'utf8' }).stdout.trim();
}

/** What ffprobe says of the first video stream (every frame counted). */
export interface Probe {
  codec: string;
  pixFmt: string;
  width: number;
  height: number;
  /** Frame rate as a number (`r_frame_rate`). */
  fps: number;
  frames: number;
}

/** Runs Debian's ffprobe on `file`. */
export async function probe(file: string): Promise<Probe> {
  const { stdout } = await exec('ffprobe', [
    '-v',
    'error',
    '-count_frames',
    '-select_streams',
    'v:0',
    '-show_streams',
    '-of',
    'json',
    file,
  ]);
  const s = (JSON.parse(stdout) as { streams: Record<string, string | number>[] }).streams[0]!;
  const [num, den] = String(s.r_frame_rate).split('/').map(Number);
  return {
    codec: String(s.codec_name),
    pixFmt: String(s.pix_fmt),
    width: Number(s.width),
    height: Number(s.height),
    fps: num! / den!,
    frames: Number(s.nb_read_frames),
  };
}

/** Decodes `file` with Debian's ffmpeg into 8-bit grey images (through our FfmpegProcess). */
export async function decodeGrey(
  ffmpeg: string,
  file: string,
): Promise<{ width: number; height: number; images: Uint8Array[] }> {
  const { width, height } = await probe(file);
  const process = FfmpegProcess.spawn({
    path: ffmpeg,
    what: `decoding ${file}`,
    stdout: true,
    args: ['-i', file, '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'],
  });
  const images: Uint8Array[] = [];
  for await (const chunk of process.chunks(width * height)) images.push(new Uint8Array(chunk));
  await process.wait();
  return { width, height, images };
}

/** A smooth uint16 test frame: a diagonal ramp in [base, base + 3000] plus a bright disc that moves with `i`. */
export function rampFrame(i: number, width: number, height: number, base = 1000): Frame<'uint16'> {
  const data = new Uint16Array(width * height);
  const cx = ((i * 3) % width) + 0.5;
  const cy = height / 2;
  const r = Math.min(width, height) / 4;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const ramp = base + (3000 * (x + y)) / (width + height);
      const d = Math.hypot(x - cx, y - cy);
      data[y * width + x] = Math.round(ramp + (d < r ? 1500 * (1 - d / r) : 0));
    }
  return makeFrame(data, [height, width], { frameNumber: i, angle: i * 0.5 });
}
