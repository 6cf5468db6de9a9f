/**
 * Reading and writing a device's attributes on behalf of clients: runs the handlers, keeps set
 * points, and encodes `AttributeValue` (any based, IDL 1 and 3) and `AttributeValue_4/_5`
 * (union based) the way Tango servers send them.
 * @module
 */
import type { CdrReader, CdrWriter } from '../cdr.js';
import { readUnion, writeUnion } from '../attribute-value.js';
import type { DevError } from '../errors.js';
import {
  ATTR_FORMATS,
  ATTR_QUALITIES,
  TangoType,
  argTypeCode,
  readDevErrors,
  type AttKind,
  type AttrDataFormat,
  type AttrQuality,
} from '../idl-types.js';
import { writeDevErrors } from '../idl-writers.js';
import { readAny, unalias, writeAny, type TypeCode } from '../typecode.js';
import { DevFailed, devErrorsOf } from './dev-failed.js';
import type { AttributeEntry, TangoDevice } from './device.js';
import { fromElements, kindOf, toElements, type Elements, type ValueShape } from './values.js';

/** One attribute as it goes out: read elements followed by the set point's. */
export interface OutgoingValue {
  readonly name: string;
  readonly kind: AttKind;
  readonly data: ArrayLike<unknown>;
  readonly format: AttrDataFormat;
  readonly dataType: number;
  readonly quality: AttrQuality;
  /** ms since the epoch. */
  readonly time: number;
  readonly dimX: number;
  readonly dimY: number;
  readonly wDimX: number;
  readonly wDimY: number;
  readonly errors: readonly DevError[];
}

const shapeOf = (e: AttributeEntry): ValueShape => ({
  type: e.definition.type,
  format: e.config.format,
  maxDimX: e.config.maxDimX,
  maxDimY: e.config.maxDimY,
  enumLabels: e.definition.enumLabels,
});

/** Elements of a WRITE attribute before its first write. */
function initialElements(e: AttributeEntry, what: string): Elements {
  const d = e.definition;
  if (d.initial !== undefined) return toElements(shapeOf(e), d.initial, what);
  if (e.config.format !== 'SCALAR') return { data: [], dimX: 0, dimY: 0 };
  const zero: Record<string, unknown> = {
    DevBoolean: false,
    DevString: '',
    DevState: 'UNKNOWN',
    DevLong64: 0n,
    DevULong64: 0n,
    DevEncoded: { format: '', data: new Uint8Array(0) },
  };
  return toElements(shapeOf(e), d.type in zero ? zero[d.type] : 0, what);
}

const concat = (a: ArrayLike<unknown>, b: ArrayLike<unknown>): unknown[] => [...Array.from(a), ...Array.from(b)];

/** Reads the built-in State and Status attributes. */
function builtin(device: TangoDevice, name: string): OutgoingValue | undefined {
  const lower = name.toLowerCase();
  if (lower !== 'state' && lower !== 'status') return undefined;
  const state = lower === 'state';
  return {
    name: state ? 'State' : 'Status',
    kind: state ? 'devstate' : 'string',
    data: [state ? device.state : device.status],
    format: 'SCALAR',
    dataType: state ? TangoType.DevState : TangoType.DevString,
    quality: 'VALID',
    time: Date.now(),
    dimX: 1,
    dimY: 0,
    wDimX: 0,
    wDimY: 0,
    errors: [],
  };
}

/** A failed read: the attribute's name and why, quality INVALID. */
export function failedValue(name: string, errors: readonly DevError[], entry?: AttributeEntry): OutgoingValue {
  return {
    name,
    kind: 'nodata',
    data: [],
    format: entry?.config.format ?? 'FMT_UNKNOWN',
    dataType: entry ? entry.config.dataType : TangoType.DevVoid,
    quality: 'INVALID',
    time: Date.now(),
    dimX: 0,
    dimY: 0,
    wDimX: 0,
    wDimY: 0,
    errors,
  };
}

/** The attribute `name` of `device`. @throws DevFailed `API_AttrNotFound`. */
export function attributeEntry(device: TangoDevice, name: string): AttributeEntry {
  const e = device.attributes.get(name.toLowerCase());
  if (!e) throw new DevFailed('API_AttrNotFound', `Attribute ${name} not found`, `${device.name}`);
  return e;
}

/**
 * Reads one attribute: the read handler's value (READ, READ_WRITE) and the set point
 * (READ_WRITE: the last write, else the value; WRITE: the last write or the initial value, sent
 * once as Tango does). Errors become an INVALID value carrying them. Synchronous when the read
 * handler is.
 */
export function readAttribute(
  device: TangoDevice,
  name: string,
  value?: unknown,
): OutgoingValue | Promise<OutgoingValue> {
  const b = builtin(device, name);
  if (b) return b;
  const e = device.attributes.get(name.toLowerCase());
  if (!e)
    return failedValue(name, [
      {
        reason: 'API_AttrNotFound',
        desc: `Attribute ${name} not found`,
        origin: `${device.name}/${name}`,
        severity: 'ERR',
      },
    ]);
  if (e.access === 'WRITE' || value !== undefined) return settle(device, e, value);
  let read: unknown;
  try {
    read = e.definition.read!();
  } catch (err) {
    return failedValue(e.name, devErrorsOf(err, `${device.name}/${e.name}`), e);
  }
  if (read instanceof Promise)
    return read.then(
      (v: unknown) => settle(device, e, v),
      (err: unknown) => failedValue(e.name, devErrorsOf(err, `${device.name}/${e.name}`), e),
    );
  return settle(device, e, read);
}

/** The outgoing value of `e` for the value its read handler gave (ignored for WRITE attributes). */
function settle(device: TangoDevice, e: AttributeEntry, value: unknown): OutgoingValue {
  const what = `${device.name}/${e.name}`;
  try {
    let r: Elements;
    let w: Elements | undefined;
    if (e.access === 'WRITE') {
      r = e.written ?? initialElements(e, what);
      w = r;
    } else {
      r = toElements(shapeOf(e), value, what);
      if (e.access === 'READ_WRITE') w = e.written ?? r;
    }
    return {
      name: e.name,
      kind: kindOf(e.definition.type),
      data: !w || w === r ? r.data : concat(r.data, w.data),
      format: e.config.format,
      dataType: e.config.dataType,
      quality: 'VALID',
      time: Date.now(),
      dimX: r.dimX,
      dimY: r.dimY,
      wDimX: w?.dimX ?? 0,
      wDimY: w?.dimY ?? 0,
      errors: [],
    };
  } catch (err) {
    return failedValue(e.name, devErrorsOf(err, what), e);
  }
}

/** A value written by a client, as decoded from the request. */
export interface WrittenValue {
  readonly name: string;
  readonly kind: AttKind;
  readonly data: unknown;
  readonly dimX: number;
  readonly dimY: number;
}

/**
 * Writes one attribute: checks access, type, dimensions and limits, runs the write handler and
 * keeps the set point. @throws DevFailed with Tango's reasons.
 */
export async function writeAttribute(device: TangoDevice, v: WrittenValue): Promise<void> {
  const e = attributeEntry(device, v.name);
  const what = `${device.name}/${e.name}`;
  if (e.access === 'READ') throw new DevFailed('API_AttrNotWritable', `Attribute ${e.name} is not writable`, what);
  const value = fromElements(shapeOf(e), v.kind, v.data, v.dimX, v.dimY, what);
  const { minValue, maxValue } = e.definition;
  if (e.config.format === 'SCALAR' && (minValue !== undefined || maxValue !== undefined)) {
    const n = Number(value);
    if ((minValue !== undefined && n < minValue) || (maxValue !== undefined && n > maxValue))
      throw new DevFailed(
        'API_WAttrOutsideLimit',
        `Set value for attribute ${e.name} is ${n < (minValue ?? -Infinity) ? 'below the minimum' : 'above the maximum'} ` +
          `authorized (${minValue ?? '-inf'} .. ${maxValue ?? 'inf'})`,
        what,
      );
  }
  await (e.definition.write as (x: unknown) => unknown)(value);
  const data = v.data as ArrayLike<unknown>;
  e.written = { data: e.config.format === 'SCALAR' ? [data[0]] : data, dimX: v.dimX, dimY: v.dimY };
}

/** Writes an `AttributeValue_5` (`idl` 5) or `AttributeValue_4` (`idl` 4). */
export function writeAttributeValue(w: CdrWriter, v: OutgoingValue, idl: 4 | 5): void {
  writeUnion(w, v.kind, v.data);
  w.ulong(ATTR_QUALITIES.indexOf(v.quality)).ulong(ATTR_FORMATS.indexOf(v.format));
  if (idl === 5) w.long(v.dataType);
  writeTime(w, v.time);
  w.string(v.name).long(v.dimX).long(v.dimY).long(v.wDimX).long(v.wDimY);
  writeDevErrors(w, v.errors);
}

function writeTime(w: CdrWriter, ms: number): void {
  const sec = Math.floor(ms / 1000);
  w.long(sec)
    .long(Math.round((ms - sec * 1000) * 1000))
    .long(0);
}

/** Tango array type codes of each union kind (the `any` of IDL 1–3 values). */
const ANY_TYPES: Record<AttKind, number> = {
  bool: TangoType.DevVarBooleanArray,
  short: TangoType.DevVarShortArray,
  long: TangoType.DevVarLongArray,
  longlong: TangoType.DevVarLong64Array,
  float: TangoType.DevVarFloatArray,
  double: TangoType.DevVarDoubleArray,
  octet: TangoType.DevVarCharArray,
  ushort: TangoType.DevVarUShortArray,
  ulong: TangoType.DevVarULongArray,
  ulonglong: TangoType.DevVarULong64Array,
  string: TangoType.DevVarStringArray,
  state: TangoType.DevVarStateArray,
  devstate: TangoType.DevState,
  encoded: TangoType.DevEncoded,
  nodata: TangoType.DevVoid,
};

/** Writes an `AttributeValue_3` (`version` 3) or `AttributeValue` (`version` 1). */
export function writeAttributeValueAny(w: CdrWriter, v: OutgoingValue, version: 1 | 3): void {
  const code = ANY_TYPES[v.kind];
  const value =
    v.kind === 'devstate'
      ? v.data[0]
      : v.kind === 'encoded'
        ? encodedStruct(v.data[0])
        : v.kind === 'nodata'
          ? undefined
          : v.data;
  writeAny(w, argTypeCode(code), value);
  w.ulong(ATTR_QUALITIES.indexOf(v.quality));
  writeTime(w, v.time);
  w.string(v.name);
  if (version === 1) {
    w.long(v.dimX).long(v.dimY);
    return;
  }
  w.long(v.dimX).long(v.dimY).long(v.wDimX).long(v.wDimY);
  writeDevErrors(w, v.errors);
}

function encodedStruct(v: unknown): unknown {
  const e = v as { format?: string; data?: Uint8Array } | undefined;
  return { encoded_format: e?.format ?? '', encoded_data: e?.data ?? new Uint8Array(0) };
}

/** Reads an `AttributeValueList_4` a client writes. */
export function readWrittenValues4(r: CdrReader): WrittenValue[] {
  const n = r.length(32);
  const out: WrittenValue[] = [];
  for (let i = 0; i < n; i++) {
    const { kind, data } = readUnion(r);
    r.ulong(); // quality
    r.ulong(); // format
    r.long();
    r.long();
    r.long(); // time
    const name = r.string();
    r.long();
    r.long(); // r_dim
    const dimX = r.long();
    const dimY = r.long();
    readDevErrors(r);
    out.push({ name, kind, data: kind === 'devstate' ? [data] : data, dimX, dimY });
  }
  return out;
}

/** The union kind of an `any` value a client writes (IDL 1–3). */
function kindOfTypeCode(tc: TypeCode): AttKind {
  const t = unalias(tc);
  const el = t.kind === 'sequence' ? unalias(t.element) : t;
  switch (el.kind) {
    case 'boolean':
      return 'bool';
    case 'string':
      return 'string';
    case 'enum':
      return t.kind === 'sequence' ? 'state' : 'devstate';
    case 'struct':
      return 'encoded';
    case 'short':
    case 'long':
    case 'longlong':
    case 'float':
    case 'double':
    case 'octet':
    case 'ushort':
    case 'ulong':
    case 'ulonglong':
      return el.kind;
    default:
      throw new DevFailed('API_IncompatibleAttrDataType', `cannot write a CORBA ${el.kind} to an attribute`);
  }
}

/** Reads an `AttributeValueList` (IDL 1, `any` values) a client writes. */
export function readWrittenValues1(r: CdrReader): WrittenValue[] {
  const n = r.length(24);
  const out: WrittenValue[] = [];
  for (let i = 0; i < n; i++) {
    const { type, value } = readAny(r);
    r.ulong(); // quality
    r.long();
    r.long();
    r.long(); // time
    const name = r.string();
    const dimX = r.long();
    const dimY = r.long();
    const kind = kindOfTypeCode(type);
    const data =
      kind === 'devstate' || kind === 'encoded'
        ? [
            kind === 'encoded'
              ? {
                  format: (value as { encoded_format: string }).encoded_format,
                  data: (value as { encoded_data: Uint8Array }).encoded_data,
                }
              : value,
          ]
        : value;
    out.push({ name, kind, data, dimX, dimY });
  }
  return out;
}

/** Writes a `MultiDevFailed` body: one `NamedDevError` per attribute that failed. */
export function writeMultiDevFailed(
  w: CdrWriter,
  failures: readonly { name: string; index: number; errors: readonly DevError[] }[],
): void {
  w.ulong(failures.length);
  for (const f of failures) {
    w.string(f.name).long(f.index);
    writeDevErrors(w, f.errors);
  }
}
