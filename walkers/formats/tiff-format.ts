/**
 * TIFF constants shared by the writer and the reader: tag numbers, field types and the mapping
 * between Concert dtypes and (BitsPerSample, SampleFormat).
 * @internal
 * @module
 */
import type { DType } from '../../core/frame.js';

/** Tag numbers used by the writer and understood by the reader. @internal */
export const Tag = {
  NewSubfileType: 254,
  ImageWidth: 256,
  ImageLength: 257,
  BitsPerSample: 258,
  Compression: 259,
  Photometric: 262,
  ImageDescription: 270,
  StripOffsets: 273,
  SamplesPerPixel: 277,
  RowsPerStrip: 278,
  StripByteCounts: 279,
  PlanarConfiguration: 284,
  Software: 305,
  Predictor: 317,
  TileWidth: 322,
  TileLength: 323,
  TileOffsets: 324,
  TileByteCounts: 325,
  SampleFormat: 339,
} as const;

/** TIFF field types. @internal */
export const FieldType = {
  BYTE: 1,
  ASCII: 2,
  SHORT: 3,
  LONG: 4,
  RATIONAL: 5,
  SBYTE: 6,
  UNDEFINED: 7,
  SSHORT: 8,
  SLONG: 9,
  SRATIONAL: 10,
  FLOAT: 11,
  DOUBLE: 12,
  IFD: 13,
  LONG8: 16,
  SLONG8: 17,
  IFD8: 18,
} as const;

/** Bytes per value of each field type (index = type). @internal */
export const FIELD_SIZE: Readonly<Record<number, number>> = {
  1: 1,
  2: 1,
  3: 2,
  4: 4,
  5: 8,
  6: 1,
  7: 1,
  8: 2,
  9: 4,
  10: 8,
  11: 4,
  12: 8,
  13: 4,
  16: 8,
  17: 8,
  18: 8,
};

/** SampleFormat values. @internal */
export const SampleFormat = { uint: 1, int: 2, float: 3 } as const;

const DTYPE_LAYOUT: Readonly<Record<DType, readonly [bits: number, format: number]>> = {
  uint8: [8, SampleFormat.uint],
  int8: [8, SampleFormat.int],
  uint16: [16, SampleFormat.uint],
  int16: [16, SampleFormat.int],
  uint32: [32, SampleFormat.uint],
  int32: [32, SampleFormat.int],
  float32: [32, SampleFormat.float],
  float64: [64, SampleFormat.float],
};

/** BitsPerSample and SampleFormat of a dtype. @internal */
export function tiffLayout(dtype: DType): readonly [bits: number, format: number] {
  return DTYPE_LAYOUT[dtype];
}

/** The dtype of (BitsPerSample, SampleFormat), or undefined when Concert has none. @internal */
export function dtypeFromLayout(bits: number, format: number): DType | undefined {
  for (const [dtype, [b, f]] of Object.entries(DTYPE_LAYOUT)) if (b === bits && f === format) return dtype as DType;
  return undefined;
}

/** Classic TIFF offsets are 32-bit: no byte of the file may lie at or beyond this offset. @internal */
export const CLASSIC_LIMIT = 2 ** 32;

/**
 * The frame metadata as a pure-ASCII JSON string (non-ASCII characters escaped as `\uXXXX`, so
 * the TIFF ASCII field stays valid). Bigints become numbers when safe, strings otherwise.
 * @internal
 */
export function metadataJson(metadata: unknown): string {
  let json: string;
  try {
    json = JSON.stringify(metadata); // the common case, fast: no bigint anywhere
  } catch {
    json = JSON.stringify(metadata, (_key, value: unknown) => {
      if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
      return value;
    });
  }
  if (!NON_ASCII.test(json)) return json;
  return json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const NON_ASCII = /[\u007f-\uffff]/;
