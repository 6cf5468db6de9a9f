/**
 * Attribute values on the wire: decoding `AttributeValue_5`/`_4` (read) and encoding
 * `AttributeValue_4` (write). Numeric spectra and images stay typed arrays over the reply buffer.
 * @module
 */
import { CdrError, type CdrReader, type CdrWriter, type NumericArray, type NumericKind } from './cdr.js';
import type { DevError } from './errors.js';
import {
  ATT_KINDS,
  ATTR_FORMATS,
  ATTR_QUALITIES,
  DEV_STATES,
  TangoType,
  attKindOf,
  readDevErrors,
  type AttKind,
  type AttrDataFormat,
  type AttrQuality,
  type AttributeConfig,
  type DevState,
} from './idl-types.js';

/** A scalar attribute value. 64-bit integers are `bigint`, enums their index, states their name. */
export type ScalarValue = number | bigint | boolean | string | DevState;
/** Values of spectra and images (flat, row after row): typed arrays for numbers. */
export type ArrayValue = NumericArray | boolean[] | string[] | DevState[] | EncodedValue[];
/** A `DevEncoded` value. */
export interface EncodedValue {
  readonly format: string;
  readonly data: Uint8Array;
}
/** Any attribute value. */
export type AttrValue = ScalarValue | ArrayValue | EncodedValue;

/** One attribute read (Tango `AttributeValue_5`), split into read value and set point. */
export interface AttributeReading {
  readonly name: string;
  /** Read value: a scalar, or a flat array of `dimX × max(dimY, 1)` items (undefined without data). */
  readonly value: AttrValue | undefined;
  /** Set point of writable attributes (same shape as `value`), else undefined. */
  readonly writeValue: AttrValue | undefined;
  readonly quality: AttrQuality;
  readonly format: AttrDataFormat;
  /** Tango type code (see `TangoType`); -1 when the server did not say (IDL 4). */
  readonly dataType: number;
  readonly dimX: number;
  readonly dimY: number;
  readonly wDimX: number;
  readonly wDimY: number;
  /** Time stamp in ms since the epoch (microsecond fraction kept). */
  readonly time: number;
  /** Errors the server attached to this attribute (empty when the read succeeded). */
  readonly errors: readonly DevError[];
}

const KIND_TYPE: Partial<Record<AttKind, number>> = {
  bool: TangoType.DevBoolean,
  short: TangoType.DevShort,
  long: TangoType.DevLong,
  longlong: TangoType.DevLong64,
  float: TangoType.DevFloat,
  double: TangoType.DevDouble,
  octet: TangoType.DevUChar,
  ushort: TangoType.DevUShort,
  ulong: TangoType.DevULong,
  ulonglong: TangoType.DevULong64,
  string: TangoType.DevString,
  state: TangoType.DevState,
  devstate: TangoType.DevState,
  encoded: TangoType.DevEncoded,
};

/** Reads an `AttrValUnion`: its kind and its elements (a typed array for numbers). */
export function readUnion(r: CdrReader): { kind: AttKind; data: unknown } {
  const kind = ATT_KINDS[r.enumValue(ATT_KINDS.length, 'AttributeDataType')]!;
  switch (kind) {
    case 'bool':
      return { kind, data: r.booleans() };
    case 'string':
      return { kind, data: r.strings() };
    case 'state': {
      const n = r.length(4);
      const out: DevState[] = [];
      for (let i = 0; i < n; i++) out.push(DEV_STATES[r.enumValue(DEV_STATES.length, 'DevState')]!);
      return { kind, data: out };
    }
    case 'devstate':
      return { kind, data: DEV_STATES[r.enumValue(DEV_STATES.length, 'DevState')]! };
    case 'encoded': {
      const n = r.length(8);
      const out: EncodedValue[] = [];
      for (let i = 0; i < n; i++) out.push({ format: r.string(), data: r.octets() });
      return { kind, data: out };
    }
    case 'nodata':
      r.boolean();
      return { kind, data: undefined };
    default:
      return { kind, data: r.numbers(kind) };
  }
}

function slice(data: unknown, from: number, to: number): ArrayValue {
  const d = data as ArrayValue;
  return ('subarray' in d ? d.subarray(from, to) : d.slice(from, to)) as ArrayValue;
}

/**
 * Splits the received elements into read value and set point. READ_WRITE attributes send the
 * read elements, then the written ones; a WRITE attribute sends its elements once (they are its
 * value and its set point), which shows as a set point announced (`w_dim`) but not sent.
 */
function split(
  kind: AttKind,
  data: unknown,
  format: AttrDataFormat,
  rCount: number,
  wCount: number,
): [AttrValue | undefined, AttrValue | undefined] {
  if (data === undefined) return [undefined, undefined];
  if (kind === 'devstate') return [data as DevState, undefined];
  const arr = data as ArrayLike<unknown>;
  if (format === 'SCALAR') {
    const value = arr.length > 0 ? (arr[0] as AttrValue) : undefined;
    if (arr.length > 1) return [value, arr[1] as AttrValue];
    return [value, wCount > 0 ? value : undefined];
  }
  const r = Math.min(rCount, arr.length);
  const value = slice(data, 0, r);
  if (wCount > 0 && arr.length === r && r === wCount) return [value, value];
  const w = Math.min(wCount, arr.length - r);
  return [value, w > 0 ? slice(data, r, r + w) : undefined];
}

/** Reads one `AttributeValue_5` (or `_4` when `idl` is 4). */
export function readAttributeValue(r: CdrReader, idl: 4 | 5 = 5): AttributeReading {
  const { kind, data } = readUnion(r);
  const quality = ATTR_QUALITIES[r.enumValue(ATTR_QUALITIES.length, 'AttrQuality')]!;
  const format = ATTR_FORMATS[r.enumValue(ATTR_FORMATS.length, 'AttrDataFormat')]!;
  const dataType = idl === 5 ? r.long() : (KIND_TYPE[kind] ?? -1);
  const sec = r.long();
  const usec = r.long();
  r.long(); // tv_nsec
  const name = r.string();
  const dimX = r.long();
  const dimY = r.long();
  const wDimX = r.long();
  const wDimY = r.long();
  const errors = readDevErrors(r);
  if (dimX < 0 || dimY < 0 || wDimX < 0 || wDimY < 0) throw new CdrError(`bad dimensions for ${name}`);
  const rCount = dimX * Math.max(dimY, 1);
  const wCount = wDimX * Math.max(wDimY, 1);
  const [value, writeValue] = split(kind, data, format, rCount, wCount);
  return {
    name,
    value,
    writeValue,
    quality,
    format,
    dataType,
    dimX,
    dimY,
    wDimX,
    wDimY,
    time: sec * 1000 + usec / 1000,
    errors,
  };
}

/** Reads an `AttributeValueList_5` (or `_4` when `idl` is 4). */
export function readAttributeValues(r: CdrReader, idl: 4 | 5 = 5): AttributeReading[] {
  const n = r.length(32);
  const out: AttributeReading[] = [];
  for (let i = 0; i < n; i++) out.push(readAttributeValue(r, idl));
  return out;
}

/** A value to write: scalars, flat arrays (spectra), or images as rows or `{ data, dimX, dimY }`. */
export type WriteValue =
  | ScalarValue
  | ArrayLike<number | bigint | boolean | string>
  | readonly (readonly (number | bigint | boolean | string)[])[]
  | { readonly data: ArrayLike<number | bigint | boolean | string>; readonly dimX: number; readonly dimY: number }
  | EncodedValue;

function flatten(value: WriteValue, format: AttrDataFormat): { data: ArrayLike<unknown>; dimX: number; dimY: number } {
  if (format === 'SCALAR' || typeof value !== 'object') {
    if (typeof value === 'object' && value !== null && 'length' in value && format === 'SCALAR') {
      throw new TypeError('a scalar attribute needs a single value');
    }
    return { data: [value], dimX: 1, dimY: 0 };
  }
  if ('dimX' in value && 'data' in value) {
    if (value.data.length !== value.dimX * value.dimY) throw new TypeError('image data does not match dimX × dimY');
    return { data: value.data, dimX: value.dimX, dimY: value.dimY };
  }
  if (!('length' in value)) throw new TypeError('expected an array value');
  const arr = value as ArrayLike<unknown>;
  if (format === 'IMAGE') {
    const rows = Array.from(arr) as ArrayLike<unknown>[];
    const dimX = rows[0]?.length ?? 0;
    if (rows.some((row) => typeof row !== 'object' || row.length !== dimX)) {
      throw new TypeError('image rows must all have the same length (or pass { data, dimX, dimY })');
    }
    return { data: rows.flatMap((row) => Array.from(row)), dimX, dimY: rows.length };
  }
  return { data: arr, dimX: arr.length, dimY: 0 };
}

/**
 * Writes an `AttrValUnion` of `kind` with the elements `data` (`[state name or index]` for
 * `devstate`; ignored for `nodata`).
 */
export function writeUnion(w: CdrWriter, kind: AttKind, data: ArrayLike<unknown>): void {
  w.ulong(ATT_KINDS.indexOf(kind));
  switch (kind) {
    case 'devstate': {
      const v = data[0];
      const idx = typeof v === 'number' ? v : DEV_STATES.indexOf(v as DevState);
      if (idx < 0 || idx >= DEV_STATES.length) throw new TypeError(`not a DevState: ${String(v)}`);
      w.ulong(idx);
      return;
    }
    case 'nodata':
      w.boolean(true);
      return;
    case 'bool':
      w.booleans(data as ArrayLike<boolean>);
      return;
    case 'string':
      w.strings(Array.from(data, String));
      return;
    case 'state': {
      w.ulong(data.length);
      for (let i = 0; i < data.length; i++) {
        const v = data[i];
        const idx = typeof v === 'number' ? v : DEV_STATES.indexOf(v as DevState);
        if (idx < 0 || idx >= DEV_STATES.length) throw new TypeError(`not a DevState: ${String(v)}`);
        w.ulong(idx);
      }
      return;
    }
    case 'encoded': {
      w.ulong(data.length);
      for (let i = 0; i < data.length; i++) {
        const e = data[i] as EncodedValue;
        w.string(e.format).octets(e.data);
      }
      return;
    }
    default: {
      for (let i = 0; i < data.length; i++) {
        const t = typeof data[i];
        if (t !== 'number' && t !== 'bigint' && t !== 'boolean')
          throw new TypeError(`not a number: ${String(data[i])}`);
      }
      w.numbers(kind as NumericKind, data as ArrayLike<number>);
    }
  }
}

/** Writes an `AttributeValueList_4` for the given attributes and their configurations. */
export function writeAttributeValues(
  w: CdrWriter,
  items: readonly { readonly config: AttributeConfig; readonly value: WriteValue }[],
): void {
  w.ulong(items.length);
  for (const { config, value } of items) {
    const { data, dimX, dimY } = flatten(value, config.format);
    writeUnion(w, attKindOf(config.dataType), data);
    w.ulong(0); // ATTR_VALID
    w.ulong(ATTR_FORMATS.indexOf(config.format));
    w.long(0).long(0).long(0); // time
    w.string(config.name);
    w.long(0).long(0); // r_dim (unused by servers)
    w.long(dimX).long(dimY); // w_dim: servers check the written data against it
    w.ulong(0); // err_list
  }
}
