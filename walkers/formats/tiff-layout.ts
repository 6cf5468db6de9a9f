/**
 * Where everything of one TIFF page goes: the layout {@link TiffWriter} writes and the size
 * estimate of a dataset ({@link tiffDatasetSize}) computes, from the same code, so that an
 * estimate is exact to the byte.
 * @module
 * @internal
 */
import { itemSize, type DType } from '../../core/frame.js';
import { CLASSIC_LIMIT, FIELD_SIZE, FieldType, Tag, metadataJson, tiffLayout } from './tiff-format.js';

/** The Software tag's value. @internal */
export const SOFTWARE = Buffer.from('concert\0', 'latin1');

/** What a page's size depends on: its shape, dtype and the length of its ImageDescription. */
export interface PageShape {
  readonly height: number;
  readonly width: number;
  readonly dtype: DType;
  /** Bytes of the ImageDescription value (the metadata JSON and its NUL). */
  readonly descriptionBytes: number;
  /** Samples per pixel: 3 for colour (rgb24), default 1. */
  readonly samples?: 1 | 3;
}

/** One IFD entry: tag, type and either its values or (for sizing) the number of values. */
export type LayoutEntry = [tag: number, type: number, count: number];

/** The layout of a page that starts at `start`. */
export interface PageLayout {
  /** File offset of the IFD. */
  ifd: number;
  /** The IFD entries in order (tag, type, number of values). */
  entries: LayoutEntry[];
  /** Where each entry's values go when they do not fit in the entry (-1: in the entry). */
  extraAt: number[];
  /** File offset of the pixels. */
  pixels: number;
  rowsPerStrip: number;
  stripCounts: number[];
  /** File offset of this IFD's next-IFD field. */
  nextField: number;
  /** File offset just past the pixels. */
  end: number;
}

/** Lays out a page of `page` that starts at file offset `start`. @internal */
export function pageLayout(start: number, page: PageShape, bigTiff: boolean, rowsPerStrip?: number): PageLayout {
  const { height, width, dtype } = page;
  const samples = page.samples ?? 1;
  const rowBytes = width * itemSize(dtype) * samples;
  const rps = Math.min(rowsPerStrip ?? height, height);
  const strips = Math.ceil(height / rps);
  const offsetType = bigTiff ? FieldType.LONG8 : FieldType.LONG;
  const stripCounts: number[] = [];
  for (let s = 0; s < strips; s++) stripCounts.push(Math.min(rps, height - s * rps) * rowBytes);
  const entries: LayoutEntry[] = [
    [Tag.NewSubfileType, FieldType.LONG, 1],
    [Tag.ImageWidth, FieldType.LONG, 1],
    [Tag.ImageLength, FieldType.LONG, 1],
    [Tag.BitsPerSample, FieldType.SHORT, samples],
    [Tag.Compression, FieldType.SHORT, 1],
    [Tag.Photometric, FieldType.SHORT, 1],
    [Tag.ImageDescription, FieldType.ASCII, page.descriptionBytes],
    [Tag.StripOffsets, offsetType, strips],
    [Tag.SamplesPerPixel, FieldType.SHORT, 1],
    [Tag.RowsPerStrip, FieldType.LONG, 1],
    [Tag.StripByteCounts, offsetType, strips],
    [Tag.PlanarConfiguration, FieldType.SHORT, 1],
    [Tag.Software, FieldType.ASCII, SOFTWARE.length],
    [Tag.SampleFormat, FieldType.SHORT, samples],
  ];
  const ifd = start + headerSize(bigTiff, start);
  const entrySize = bigTiff ? 20 : 12;
  const inline = bigTiff ? 8 : 4;
  const countSize = bigTiff ? 8 : 2;
  let cursor = ifd + countSize + entries.length * entrySize + inline;
  const extraAt = entries.map(([, type, count]) => {
    const size = FIELD_SIZE[type]! * count;
    if (size <= inline) return -1;
    const at = align(cursor, 8);
    cursor = at + size;
    return at;
  });
  const pixels = align(cursor, 16);
  const nextField = ifd + countSize + entries.length * entrySize;
  return { ifd, entries, extraAt, pixels, rowsPerStrip: rps, stripCounts, nextField, end: pixels + height * rowBytes };
}

/** The BitsPerSample and SampleFormat of a page (re-exported for the writer). @internal */
export { tiffLayout };

/** Bytes before the IFD of a page that starts at `start`: the file header on the first page, then alignment. */
function headerSize(bigTiff: boolean, start: number): number {
  const header = start === 0 ? (bigTiff ? 16 : 8) : 0;
  return align(start + header, 8) - start;
}

/** `n` rounded up to a multiple of `to`. @internal */
export function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** A frame as far as its file size goes: shape, dtype and metadata (no pixels needed). */
export interface FrameLike {
  readonly shape: readonly [height: number, width: number];
  readonly dtype: DType;
  readonly metadata: unknown;
  /** 3 for colour (rgb24). */
  readonly channels?: 3;
}

/** The size of a frame's page: shape, dtype and the length of its metadata JSON. @internal */
export function pageShape(frame: FrameLike): PageShape {
  return {
    height: frame.shape[0],
    width: frame.shape[1],
    dtype: frame.dtype,
    descriptionBytes: metadataJson(frame.metadata).length + 1,
    ...(frame.channels === 3 ? { samples: 3 as const } : {}),
  };
}

/** Options of {@link tiffDatasetSize}: those of a `MultiFileWriter`. */
export interface DatasetSizeOptions {
  /** 0: one file per frame; otherwise the most bytes of a file (as `MultiFileWriter`). */
  bytesPerFile?: number;
  bigTiff?: boolean | 'auto';
}

/** What a dataset of TIFF files would take on disk. */
export interface DatasetSize {
  /** Bytes of every file, headers included, as the files will have them. */
  bytes: number;
  /** Number of files. */
  files: number;
  /** Pixel bytes alone. */
  pixelBytes: number;
}

/**
 * The bytes a `MultiFileWriter` would write for `frames`, file by file, headers and padding
 * included: exact, since it lays the pages out with the writer's own code.
 */
export function tiffDatasetSize(frames: Iterable<FrameLike>, options: DatasetSizeOptions = {}): DatasetSize {
  const bytesPerFile = options.bytesPerFile ?? 0;
  const force = options.bigTiff ?? 'auto';
  let bytes = 0;
  let files = 0;
  let pixelBytes = 0;
  let end = 0;
  // A page's size depends on where it starts only through alignment (8 and 16 bytes) and the
  // file header of the first page: cache it by those, per shape (frames of a dataset share one).
  const shapes = new Map<string, Map<number, number>>();
  let last: { page: PageShape; big: boolean; sizes: Map<number, number> } | undefined;
  const endOf = (start: number, page: PageShape, big: boolean): number => {
    if (
      !last ||
      last.big !== big ||
      last.page.height !== page.height ||
      last.page.width !== page.width ||
      last.page.dtype !== page.dtype ||
      last.page.samples !== page.samples
    ) {
      const shapeKey = `${page.height},${page.width},${page.dtype},${page.samples ?? 1},${big ? 1 : 0}`;
      let sizes = shapes.get(shapeKey);
      if (!sizes) shapes.set(shapeKey, (sizes = new Map()));
      last = { page, big, sizes };
    }
    const key = page.descriptionBytes * 32 + (start === 0 ? 16 : start % 16);
    let size = last.sizes.get(key);
    if (size === undefined) {
      size = pageLayout(start, page, big).end - start;
      last.sizes.set(key, size);
    }
    return start + size;
  };
  let bigTiff: boolean | undefined;
  let open = false;
  for (const frame of frames) {
    const page = pageShape(frame);
    pixelBytes += page.height * page.width * itemSize(page.dtype) * (page.samples ?? 1);
    if (open) {
      const size = endOf(end, page, bigTiff!);
      if (size > bytesPerFile || (!bigTiff && size > CLASSIC_LIMIT)) {
        bytes += end;
        open = false;
      }
    }
    if (!open) {
      end = 0;
      files++;
      bigTiff = force === 'auto' ? bytesPerFile >= CLASSIC_LIMIT || endOf(0, page, false) > CLASSIC_LIMIT : force;
      open = true;
    }
    end = endOf(end, page, bigTiff!);
    if (bytesPerFile === 0) {
      bytes += end;
      open = false;
    }
  }
  if (open) bytes += end;
  return { bytes, files, pixelBytes };
}
