/**
 * Frames that already exist on disk: a folder of PNG, JPEG or TIFF images (sorted numerically,
 * `frame_2` before `frame_10` and `frame_99999` before `frame_100000`), or one of our TIFF
 * datasets (a single- or multi-page file, or a scan's acquisition folder).
 * @module
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import type { Frame } from '../core/index.js';
import { PARTIAL_SUFFIX, TiffReader } from '../walkers/formats/index.js';
import { VideoError } from './errors.js';

/** Which images a folder holds. */
export type FrameFileKind = 'png' | 'jpeg' | 'tiff';

/** The frame files of a source, in order. */
export interface FrameFiles {
  kind: FrameFileKind;
  files: string[];
}

const KINDS: Record<string, FrameFileKind> = {
  '.png': 'png',
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
  '.tif': 'tiff',
  '.tiff': 'tiff',
};

/** Sorts names by their numbers (natural order). */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * Lists the frames of `source`: a TIFF file, or a folder of PNG, JPEG or TIFF files of one kind
 * (files still being written, `*.partial`, are left out).
 * @throws VideoError if the source is missing, holds no frames, or mixes kinds.
 */
export async function listFrameFiles(source: string): Promise<FrameFiles> {
  const path = resolve(source);
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new VideoError(
      `cannot read ${path}: ${error.code === 'ENOENT' ? 'no such file or directory' : error.message}`,
      {
        cause: error,
      },
    );
  });
  if (info.isFile()) {
    if (KINDS[extname(path).toLowerCase()] !== 'tiff')
      throw new VideoError(`${path} is not a TIFF file: give a TIFF dataset or a folder of PNG, JPEG or TIFF frames`);
    return { kind: 'tiff', files: [path] };
  }
  const names = (await readdir(path)).filter((n) => !n.endsWith(PARTIAL_SUFFIX));
  const byKind = new Map<FrameFileKind, string[]>();
  for (const name of names) {
    const kind = KINDS[extname(name).toLowerCase()];
    if (kind) byKind.set(kind, [...(byKind.get(kind) ?? []), name]);
  }
  if (byKind.size === 0) throw new VideoError(`no frames in ${path} (looked for .png, .jpg, .jpeg, .tif, .tiff files)`);
  if (byKind.size > 1)
    throw new VideoError(
      `${path} mixes frame formats (${[...byKind].map(([k, f]) => `${f.length} ${k}`).join(', ')}): keep one kind per folder`,
    );
  const [[kind, files]] = [...byKind];
  return { kind: kind!, files: files!.sort(naturalCompare).map((n) => join(path, n)) };
}

/** How many frames (pages) the TIFF files hold. */
export async function countTiffFrames(files: readonly string[]): Promise<number> {
  let n = 0;
  for (const file of files) {
    const reader = await TiffReader.open(file);
    try {
      n += await reader.pageCount();
    } finally {
      await reader.close();
    }
  }
  return n;
}

/** Every page of the TIFF files, in order, read one at a time. */
export async function* readTiffFrames(files: readonly string[], signal?: AbortSignal): AsyncGenerator<Frame> {
  for (const file of files) {
    signal?.throwIfAborted();
    const reader = await TiffReader.open(file);
    try {
      for await (const page of reader.pages()) {
        signal?.throwIfAborted();
        yield page.frame;
      }
    } finally {
      await reader.close();
    }
  }
}
