/**
 * Tango IDL types (module `Tango` of tango.idl, Device_5): enumerations, data type codes, the
 * structs the client decodes (DevError, DevInfo_3, DevCmdInfo_2, AttributeConfig_5) and the
 * TypeCodes of command arguments.
 * @module
 */
import { CdrError, type CdrReader, type NumericKind } from './cdr.js';
import type { DevError, ErrSeverity } from './errors.js';
import type { TypeCode } from './typecode.js';

/** Device states (Tango `DevState`), in IDL order. */
export const DEV_STATES = [
  'ON',
  'OFF',
  'CLOSE',
  'OPEN',
  'INSERT',
  'EXTRACT',
  'MOVING',
  'STANDBY',
  'FAULT',
  'INIT',
  'RUNNING',
  'ALARM',
  'DISABLE',
  'UNKNOWN',
] as const;
/** A device state. */
export type DevState = (typeof DEV_STATES)[number];

/** Attribute qualities (Tango `AttrQuality`). */
export const ATTR_QUALITIES = ['VALID', 'INVALID', 'ALARM', 'CHANGING', 'WARNING'] as const;
/** An attribute quality. */
export type AttrQuality = (typeof ATTR_QUALITIES)[number];

/** Attribute data formats (Tango `AttrDataFormat`). */
export const ATTR_FORMATS = ['SCALAR', 'SPECTRUM', 'IMAGE', 'FMT_UNKNOWN'] as const;
/** An attribute data format. */
export type AttrDataFormat = (typeof ATTR_FORMATS)[number];

/** Attribute write types (Tango `AttrWriteType`). */
export const ATTR_WRITE_TYPES = ['READ', 'READ_WITH_WRITE', 'WRITE', 'READ_WRITE', 'WT_UNKNOWN'] as const;
/** An attribute write type. */
export type AttrWriteType = (typeof ATTR_WRITE_TYPES)[number];

/** Error severities (Tango `ErrSeverity`), in IDL order. */
export const ERR_SEVERITIES: readonly ErrSeverity[] = ['WARN', 'ERR', 'PANIC'];
/** Display levels (Tango `DispLevel`), in IDL order. */
export const DISP_LEVELS = ['OPERATOR', 'EXPERT', 'DL_UNKNOWN'] as const;
/** A display level. */
export type DispLevel = (typeof DISP_LEVELS)[number];

/** Tango data type codes (`CmdArgType`), used for commands and attributes. */
export const TangoType = {
  DevVoid: 0,
  DevBoolean: 1,
  DevShort: 2,
  DevLong: 3,
  DevFloat: 4,
  DevDouble: 5,
  DevUShort: 6,
  DevULong: 7,
  DevString: 8,
  DevVarCharArray: 9,
  DevVarShortArray: 10,
  DevVarLongArray: 11,
  DevVarFloatArray: 12,
  DevVarDoubleArray: 13,
  DevVarUShortArray: 14,
  DevVarULongArray: 15,
  DevVarStringArray: 16,
  DevVarLongStringArray: 17,
  DevVarDoubleStringArray: 18,
  DevState: 19,
  ConstDevString: 20,
  DevVarBooleanArray: 21,
  DevUChar: 22,
  DevLong64: 23,
  DevULong64: 24,
  DevVarLong64Array: 25,
  DevVarULong64Array: 26,
  DevInt: 27,
  DevEncoded: 28,
  DevEnum: 29,
  DevPipeBlob: 30,
  DevVarStateArray: 31,
} as const;

/** Name of a Tango data type code (e.g. `DevDouble`), or `Type<n>` when unknown. */
export function tangoTypeName(code: number): string {
  for (const [name, c] of Object.entries(TangoType)) if (c === code) return name;
  return `Type${code}`;
}

/** Union discriminants of `AttrValUnion` (`AttributeDataType`), in IDL order. */
export const ATT_KINDS = [
  'bool',
  'short',
  'long',
  'longlong',
  'float',
  'double',
  'octet',
  'ushort',
  'ulong',
  'ulonglong',
  'string',
  'state',
  'devstate',
  'encoded',
  'nodata',
] as const;
/** One `AttrValUnion` member kind. */
export type AttKind = (typeof ATT_KINDS)[number];

/** The `AttrValUnion` member used to carry values of a Tango attribute data type. */
export function attKindOf(dataType: number): AttKind {
  switch (dataType) {
    case TangoType.DevBoolean:
      return 'bool';
    case TangoType.DevShort:
    case TangoType.DevEnum:
      return 'short';
    case TangoType.DevLong:
      return 'long';
    case TangoType.DevLong64:
      return 'longlong';
    case TangoType.DevFloat:
      return 'float';
    case TangoType.DevDouble:
      return 'double';
    case TangoType.DevUChar:
      return 'octet';
    case TangoType.DevUShort:
      return 'ushort';
    case TangoType.DevULong:
      return 'ulong';
    case TangoType.DevULong64:
      return 'ulonglong';
    case TangoType.DevString:
      return 'string';
    case TangoType.DevState:
      return 'state';
    case TangoType.DevEncoded:
      return 'encoded';
    default:
      throw new TypeError(`unsupported attribute data type ${tangoTypeName(dataType)}`);
  }
}

/** Reads a `DevErrorList`. */
export function readDevErrors(r: CdrReader): DevError[] {
  const n = r.length(16);
  const out: DevError[] = [];
  for (let i = 0; i < n; i++) {
    const reason = r.string();
    const severity = ERR_SEVERITIES[r.enumValue(3, 'ErrSeverity')]!;
    out.push({ reason, severity, desc: r.string(), origin: r.string() });
  }
  return out;
}

/** General information about a device (Tango `DevInfo_3`). */
export interface DevInfo {
  readonly devClass: string;
  readonly serverId: string;
  readonly serverHost: string;
  readonly serverVersion: number;
  readonly docUrl: string;
  readonly devType: string;
}

/** Reads a `DevInfo_3` (or a `DevInfo` when `v3` is false). */
export function readDevInfo(r: CdrReader, v3 = true): DevInfo {
  return {
    devClass: r.string(),
    serverId: r.string(),
    serverHost: r.string(),
    serverVersion: r.long(),
    docUrl: r.string(),
    devType: v3 ? r.string() : '',
  };
}

/** Description of one command (Tango `DevCmdInfo_2`). */
export interface CommandInfo {
  readonly name: string;
  readonly level: 'OPERATOR' | 'EXPERT' | 'DL_UNKNOWN';
  readonly tag: number;
  /** Tango type code of the argument (see {@link TangoType}). */
  readonly inType: number;
  /** Tango type code of the result. */
  readonly outType: number;
  readonly inTypeDesc: string;
  readonly outTypeDesc: string;
}

/** Reads a `DevCmdInfoList_2`. */
export function readCommandInfos(r: CdrReader): CommandInfo[] {
  const n = r.length(28);
  const out: CommandInfo[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      name: r.string(),
      level: DISP_LEVELS[r.enumValue(3, 'DispLevel')]!,
      tag: r.long(),
      inType: r.long(),
      outType: r.long(),
      inTypeDesc: r.string(),
      outTypeDesc: r.string(),
    });
  }
  return out;
}

/** Configuration of one attribute (Tango `AttributeConfig_5`, alarms and events summarised). */
export interface AttributeConfig {
  readonly name: string;
  readonly writable: AttrWriteType;
  readonly format: AttrDataFormat;
  /** Tango type code (see {@link TangoType}). */
  readonly dataType: number;
  readonly memorized: boolean;
  readonly maxDimX: number;
  readonly maxDimY: number;
  readonly description: string;
  readonly label: string;
  readonly unit: string;
  readonly standardUnit: string;
  readonly displayUnit: string;
  readonly displayFormat: string;
  readonly minValue: string;
  readonly maxValue: string;
  readonly writableAttrName: string;
  readonly level: 'OPERATOR' | 'EXPERT' | 'DL_UNKNOWN';
  readonly enumLabels: readonly string[];
  readonly alarms: {
    readonly minAlarm: string;
    readonly maxAlarm: string;
    readonly minWarning: string;
    readonly maxWarning: string;
  };
  readonly events: { readonly relChange: string; readonly absChange: string; readonly period: string };
}

/** Reads an `AttributeConfigList_5`. */
export function readAttributeConfigs(r: CdrReader): AttributeConfig[] {
  const n = r.length(64);
  const out: AttributeConfig[] = [];
  for (let i = 0; i < n; i++) {
    const name = r.string();
    const writable = ATTR_WRITE_TYPES[r.enumValue(5, 'AttrWriteType')]!;
    const format = ATTR_FORMATS[r.enumValue(4, 'AttrDataFormat')]!;
    const dataType = r.long();
    const memorized = r.boolean();
    r.boolean(); // mem_init
    const maxDimX = r.long();
    const maxDimY = r.long();
    const [description, label, unit, standardUnit, displayUnit, displayFormat, minValue, maxValue, writableAttrName] =
      Array.from({ length: 9 }, () => r.string()) as [
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
      ];
    const level = DISP_LEVELS[r.enumValue(3, 'DispLevel')]!;
    r.string(); // root_attr_name
    const enumLabels = r.strings();
    const [minAlarm, maxAlarm, minWarning, maxWarning] = [r.string(), r.string(), r.string(), r.string()];
    r.string();
    r.string();
    r.strings(); // delta_t, delta_val, extensions
    const relChange = r.string();
    const absChange = r.string();
    r.strings();
    const period = r.string();
    r.strings();
    r.string();
    r.string();
    r.string();
    r.strings(); // archive event
    r.strings();
    r.strings(); // extensions, sys_extensions
    out.push({
      name,
      writable,
      format,
      dataType,
      memorized,
      maxDimX,
      maxDimY,
      description,
      label,
      unit,
      standardUnit,
      displayUnit,
      displayFormat,
      minValue,
      maxValue,
      writableAttrName,
      level,
      enumLabels,
      alarms: { minAlarm, maxAlarm, minWarning, maxWarning },
      events: { relChange, absChange, period },
    });
  }
  return out;
}

const prim = (kind: NumericKind | 'boolean' | 'string' | 'null'): TypeCode => ({ kind }) as TypeCode;
const seqAlias = (name: string, element: TypeCode): TypeCode => ({
  kind: 'alias',
  id: `IDL:Tango/${name}:1.0`,
  name,
  content: { kind: 'sequence', element },
});

const DevVarLongArray = seqAlias('DevVarLongArray', prim('long'));
const DevVarDoubleArray = seqAlias('DevVarDoubleArray', prim('double'));
const DevVarStringArray = seqAlias('DevVarStringArray', prim('string'));
const DevVarCharArray = seqAlias('DevVarCharArray', prim('octet'));
const DevStateTc: TypeCode = { kind: 'enum', id: 'IDL:Tango/DevState:1.0', name: 'DevState', members: DEV_STATES };

const ARG_TYPECODES: Record<number, TypeCode> = {
  [TangoType.DevVoid]: prim('null'),
  [TangoType.DevBoolean]: prim('boolean'),
  [TangoType.DevShort]: prim('short'),
  [TangoType.DevLong]: prim('long'),
  [TangoType.DevInt]: prim('long'),
  [TangoType.DevFloat]: prim('float'),
  [TangoType.DevDouble]: prim('double'),
  [TangoType.DevUShort]: prim('ushort'),
  [TangoType.DevULong]: prim('ulong'),
  [TangoType.DevString]: prim('string'),
  [TangoType.ConstDevString]: prim('string'),
  [TangoType.DevUChar]: prim('octet'),
  [TangoType.DevLong64]: prim('longlong'),
  [TangoType.DevULong64]: prim('ulonglong'),
  [TangoType.DevEnum]: prim('short'),
  [TangoType.DevState]: DevStateTc,
  [TangoType.DevVarCharArray]: DevVarCharArray,
  [TangoType.DevVarShortArray]: seqAlias('DevVarShortArray', prim('short')),
  [TangoType.DevVarLongArray]: DevVarLongArray,
  [TangoType.DevVarFloatArray]: seqAlias('DevVarFloatArray', prim('float')),
  [TangoType.DevVarDoubleArray]: DevVarDoubleArray,
  [TangoType.DevVarUShortArray]: seqAlias('DevVarUShortArray', prim('ushort')),
  [TangoType.DevVarULongArray]: seqAlias('DevVarULongArray', prim('ulong')),
  [TangoType.DevVarStringArray]: DevVarStringArray,
  [TangoType.DevVarBooleanArray]: seqAlias('DevVarBooleanArray', prim('boolean')),
  [TangoType.DevVarLong64Array]: seqAlias('DevVarLong64Array', prim('longlong')),
  [TangoType.DevVarULong64Array]: seqAlias('DevVarULong64Array', prim('ulonglong')),
  [TangoType.DevVarStateArray]: seqAlias('DevVarStateArray', DevStateTc),
  [TangoType.DevVarLongStringArray]: {
    kind: 'struct',
    id: 'IDL:Tango/DevVarLongStringArray:1.0',
    name: 'DevVarLongStringArray',
    members: [
      { name: 'lvalue', type: DevVarLongArray },
      { name: 'svalue', type: DevVarStringArray },
    ],
  },
  [TangoType.DevVarDoubleStringArray]: {
    kind: 'struct',
    id: 'IDL:Tango/DevVarDoubleStringArray:1.0',
    name: 'DevVarDoubleStringArray',
    members: [
      { name: 'dvalue', type: DevVarDoubleArray },
      { name: 'svalue', type: DevVarStringArray },
    ],
  },
  [TangoType.DevEncoded]: {
    kind: 'struct',
    id: 'IDL:Tango/DevEncoded:1.0',
    name: 'DevEncoded',
    members: [
      // omniORB compares TypeCodes strictly: the format is a DevString, as tango.idl says.
      {
        name: 'encoded_format',
        type: { kind: 'alias', id: 'IDL:Tango/DevString:1.0', name: 'DevString', content: prim('string') },
      },
      { name: 'encoded_data', type: DevVarCharArray },
    ],
  },
};

/** The TypeCode a command argument of Tango type `code` travels with (inside a CORBA `any`). */
export function argTypeCode(code: number): TypeCode {
  const tc = ARG_TYPECODES[code];
  if (!tc) throw new CdrError(`unsupported command argument type ${tangoTypeName(code)}`);
  return tc;
}
