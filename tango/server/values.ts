/**
 * Values between a device's handlers and the wire: checks what a read handler returns against the
 * attribute's type and format and turns it into `AttrValUnion` elements; turns written elements
 * and command arguments into the values handlers get.
 * @module
 */
import { NUMERIC, type NumericKind } from '../cdr.js';
import { DEV_STATES, TangoType, attKindOf, tangoTypeName, type AttKind, type AttrDataFormat } from '../idl-types.js';
import { unalias, type TypeCode } from '../typecode.js';
import { DevFailed } from './dev-failed.js';

/** Attribute data types a device may declare. */
export const ATTRIBUTE_TYPES = [
  'DevBoolean',
  'DevShort',
  'DevLong',
  'DevLong64',
  'DevFloat',
  'DevDouble',
  'DevUChar',
  'DevUShort',
  'DevULong',
  'DevULong64',
  'DevString',
  'DevState',
  'DevEnum',
  'DevEncoded',
] as const;
/** An attribute data type. */
export type AttributeType = (typeof ATTRIBUTE_TYPES)[number];

/** Command argument and result types a device may declare. */
export const COMMAND_TYPES = [
  'DevVoid',
  'DevBoolean',
  'DevShort',
  'DevLong',
  'DevLong64',
  'DevFloat',
  'DevDouble',
  'DevUShort',
  'DevULong',
  'DevULong64',
  'DevUChar',
  'DevString',
  'DevState',
  'DevEncoded',
  'DevVarBooleanArray',
  'DevVarCharArray',
  'DevVarShortArray',
  'DevVarLongArray',
  'DevVarLong64Array',
  'DevVarFloatArray',
  'DevVarDoubleArray',
  'DevVarUShortArray',
  'DevVarULongArray',
  'DevVarULong64Array',
  'DevVarStringArray',
  'DevVarLongStringArray',
  'DevVarDoubleStringArray',
  'DevVarStateArray',
] as const;
/** A command argument or result type. */
export type CommandType = (typeof COMMAND_TYPES)[number];

/** The Tango type code of a type name. */
export function typeCode(name: AttributeType | CommandType): number {
  return TangoType[name];
}

const INTEGER_RANGES: Partial<Record<NumericKind, [number, number]>> = {
  octet: [0, 255],
  short: [-32768, 32767],
  ushort: [0, 65535],
  long: [-2147483648, 2147483647],
  ulong: [0, 4294967295],
};
const BIG_RANGES: Partial<Record<NumericKind, [bigint, bigint]>> = {
  longlong: [-(2n ** 63n), 2n ** 63n - 1n],
  ulonglong: [0n, 2n ** 64n - 1n],
};

function describeValue(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : typeof v === 'bigint' ? `${v}n` : String(v);
}

function incompatible(what: string, v: unknown, expected: string): never {
  throw new DevFailed('API_IncompatibleAttrDataType', `${what}: ${describeValue(v)} is not ${expected}`);
}

/** Checks one element of `kind`; returns it as the wire wants it (bigint for 64-bit integers). */
function element(kind: AttKind, v: unknown, what: string, enumLabels?: readonly string[]): unknown {
  switch (kind) {
    case 'bool':
      return typeof v === 'boolean' ? v : incompatible(what, v, 'a boolean');
    case 'string':
      return typeof v === 'string' ? v : incompatible(what, v, 'a string');
    case 'state':
    case 'devstate':
      return typeof v === 'string' && (DEV_STATES as readonly string[]).includes(v)
        ? v
        : incompatible(what, v, 'a DevState name');
    case 'encoded': {
      const e = v as { format?: unknown; data?: unknown };
      return typeof e === 'object' && e !== null && typeof e.format === 'string' && e.data instanceof Uint8Array
        ? v
        : incompatible(what, v, 'a DevEncoded { format, data: Uint8Array }');
    }
    case 'float':
    case 'double':
      return typeof v === 'number' ? v : incompatible(what, v, 'a number');
    case 'longlong':
    case 'ulonglong': {
      const [lo, hi] = BIG_RANGES[kind]!;
      const b = typeof v === 'bigint' ? v : typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : undefined;
      if (b === undefined || b < lo || b > hi) incompatible(what, v, `an integer in [${lo}, ${hi}]`);
      return b;
    }
    default: {
      const [lo, hi] = INTEGER_RANGES[kind as NumericKind] ?? [-Infinity, Infinity];
      const top = enumLabels ? enumLabels.length - 1 : hi;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > top)
        incompatible(what, v, enumLabels ? `an enum index in [0, ${top}]` : `an integer in [${lo}, ${hi}]`);
      return v;
    }
  }
}

/** Elements of an attribute value, with the dimensions they have. */
export interface Elements {
  readonly data: ArrayLike<unknown>;
  readonly dimX: number;
  readonly dimY: number;
}

/** What an attribute is, as far as its values are concerned. */
export interface ValueShape {
  readonly type: AttributeType;
  readonly format: AttrDataFormat;
  readonly maxDimX: number;
  readonly maxDimY: number;
  readonly enumLabels?: readonly string[];
}

/** The `AttrValUnion` member of an attribute type. */
export function kindOf(type: AttributeType): AttKind {
  return attKindOf(TangoType[type]);
}

function checkAll(
  kind: AttKind,
  data: ArrayLike<unknown>,
  what: string,
  labels?: readonly string[],
): ArrayLike<unknown> {
  const Ctor = NUMERIC[kind as NumericKind];
  if (Ctor && data instanceof Ctor && kind !== 'longlong' && kind !== 'ulonglong') return data;
  if (Ctor && data instanceof Ctor) return data; // 64-bit typed arrays hold bigints already
  const out = new Array<unknown>(data.length);
  for (let i = 0; i < data.length; i++) out[i] = element(kind, data[i], what, labels);
  return out;
}

function tooLarge(shape: ValueShape, what: string, dims: string): never {
  const max = shape.format === 'SPECTRUM' ? `${shape.maxDimX}` : `${shape.maxDimX} × ${shape.maxDimY}`;
  throw new DevFailed('API_AttrOptProp', `${what}: ${dims} exceeds the maximum ${max}`);
}

/**
 * Checks what a read handler returned and gives its elements: a scalar; an array (spectrum); rows,
 * or `{ data, dimX, dimY }` (image).
 * @throws DevFailed naming the attribute when the value does not fit.
 */
export function toElements(shape: ValueShape, value: unknown, what: string): Elements {
  const kind = kindOf(shape.type);
  const labels = shape.type === 'DevEnum' ? (shape.enumLabels ?? []) : undefined;
  if (shape.format === 'SCALAR') return { data: [element(kind, value, what, labels)], dimX: 1, dimY: 0 };
  const tooBig = (dims: string): never => tooLarge(shape, what, dims);
  if (shape.format === 'SPECTRUM') {
    if (typeof value !== 'object' || value === null || typeof (value as ArrayLike<unknown>).length !== 'number')
      throw new DevFailed(
        'API_IncompatibleAttrDataType',
        `${what}: a spectrum needs an array, got ${describeValue(value)}`,
      );
    const data = value as ArrayLike<unknown>;
    if (data.length > shape.maxDimX) tooBig(`${data.length} elements`);
    return { data: checkAll(kind, data, what, labels), dimX: data.length, dimY: 0 };
  }
  let data: ArrayLike<unknown>;
  let dimX: number;
  let dimY: number;
  const v = value as { data?: ArrayLike<unknown>; dimX?: number; dimY?: number } | readonly ArrayLike<unknown>[];
  if (typeof v === 'object' && v !== null && 'dimX' in v && 'data' in v && v.data) {
    ({ data, dimX = 0, dimY = 0 } = v);
    if (data.length !== dimX * dimY)
      throw new DevFailed(
        'API_IncompatibleAttrDataType',
        `${what}: ${data.length} elements do not make ${dimX} × ${dimY}`,
      );
  } else if (Array.isArray(v)) {
    dimY = v.length;
    dimX = (v[0] as ArrayLike<unknown> | undefined)?.length ?? 0;
    const flat: unknown[] = [];
    for (const row of v as ArrayLike<unknown>[]) {
      if (typeof row !== 'object' || row === null || row.length !== dimX)
        throw new DevFailed('API_IncompatibleAttrDataType', `${what}: image rows must all have ${dimX} elements`);
      for (let i = 0; i < row.length; i++) flat.push(row[i]);
    }
    data = flat;
  } else
    throw new DevFailed(
      'API_IncompatibleAttrDataType',
      `${what}: an image needs rows or { data, dimX, dimY }, got ${describeValue(value)}`,
    );
  if (dimX > shape.maxDimX || dimY > shape.maxDimY) tooBig(`${dimX} × ${dimY}`);
  return { data: checkAll(kind, data, what, labels), dimX, dimY };
}

/**
 * The value a write handler gets from written elements: a scalar, the elements (spectrum), or
 * `{ data, dimX, dimY }` (image).
 * @throws DevFailed when the client sent another type or shape.
 */
export function fromElements(
  shape: ValueShape,
  kind: AttKind,
  data: unknown,
  dimX: number,
  dimY: number,
  what: string,
): unknown {
  const expected = kindOf(shape.type);
  if (kind !== expected)
    throw new DevFailed(
      'API_IncompatibleAttrDataType',
      `${what}: incompatible attribute type, expected type is Tango::${shape.type}`,
    );
  const arr = data as ArrayLike<unknown>;
  const labels = shape.type === 'DevEnum' ? (shape.enumLabels ?? []) : undefined;
  if (shape.format === 'SCALAR') {
    if (!arr || arr.length < 1) throw new DevFailed('API_AttrIncorrectDataNumber', `${what}: no value written`);
    return element(kind, arr[0], what, labels);
  }
  const n = shape.format === 'SPECTRUM' ? dimX : dimX * dimY;
  if (arr.length !== n)
    throw new DevFailed('API_AttrIncorrectDataNumber', `${what}: ${arr.length} values written, dimensions say ${n}`);
  if (dimX > shape.maxDimX || (shape.format === 'IMAGE' && dimY > shape.maxDimY))
    throw new DevFailed('API_WAttrOutsideLimit', `${what}: ${dimX} × ${dimY} exceeds the maximum dimensions`);
  if (labels) checkAll(kind, arr, what, labels);
  return shape.format === 'SPECTRUM' ? arr : { data: arr, dimX, dimY };
}

/** True when a CORBA TypeCode a client sent has the shape of the declared command type. */
export function sameShape(a: TypeCode, b: TypeCode): boolean {
  const x = unalias(a);
  const y = unalias(b);
  if ((x.kind === 'null' || x.kind === 'void') && (y.kind === 'null' || y.kind === 'void')) return true;
  if (x.kind !== y.kind) return false;
  switch (x.kind) {
    case 'sequence':
      return sameShape(x.element, (y as typeof x).element);
    case 'array':
      return x.length === (y as typeof x).length && sameShape(x.element, (y as typeof x).element);
    case 'struct': {
      const m = (y as typeof x).members;
      return x.members.length === m.length && x.members.every((e, i) => sameShape(e.type, m[i]!.type));
    }
    case 'enum':
      return x.members.length === (y as typeof x).members.length;
    default:
      return true;
  }
}

/** `DevVarLongStringArray` and friends, as messages name them. */
export function commandTypeName(code: number): string {
  return tangoTypeName(code);
}
