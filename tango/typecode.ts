/**
 * CORBA TypeCodes and `any` values: enough of the TypeCode language to decode whatever a Tango
 * command returns (primitives, strings, sequences, aliases, structs, enums, arrays) and to encode
 * Tango command arguments.
 * @module
 */
import { CdrError, type CdrReader, type CdrWriter, type NumericKind } from './cdr.js';

/** A CORBA TypeCode, reduced to what Tango uses. */
export type TypeCode =
  | { readonly kind: 'null' | 'void' | 'boolean' | 'char' | 'string' | 'any' }
  | { readonly kind: NumericKind }
  | { readonly kind: 'sequence'; readonly element: TypeCode }
  | { readonly kind: 'array'; readonly element: TypeCode; readonly length: number }
  | { readonly kind: 'alias'; readonly id: string; readonly name: string; readonly content: TypeCode }
  | {
      readonly kind: 'struct';
      readonly id: string;
      readonly name: string;
      readonly members: readonly { readonly name: string; readonly type: TypeCode }[];
    }
  | { readonly kind: 'enum'; readonly id: string; readonly name: string; readonly members: readonly string[] };

/** A decoded `any`: its TypeCode and its value. */
export interface AnyValue {
  readonly type: TypeCode;
  readonly value: unknown;
}

const SIMPLE: Record<number, TypeCode['kind']> = {
  0: 'null',
  1: 'void',
  2: 'short',
  3: 'long',
  4: 'ushort',
  5: 'ulong',
  6: 'float',
  7: 'double',
  8: 'boolean',
  9: 'char',
  10: 'octet',
  11: 'any',
  23: 'longlong',
  24: 'ulonglong',
};
const SIMPLE_CODE: Record<string, number> = Object.fromEntries(
  Object.entries(SIMPLE).map(([code, kind]) => [kind, Number(code)]),
);
const NUMERIC_KINDS = new Set<string>([
  'short',
  'ushort',
  'long',
  'ulong',
  'longlong',
  'ulonglong',
  'float',
  'double',
  'octet',
]);

const MAX_DEPTH = 32;

/** Reads a TypeCode. Indirections and unions are not supported (Tango commands never use them). */
export function readTypeCode(r: CdrReader, depth = 0): TypeCode {
  if (depth > MAX_DEPTH) throw new CdrError('TypeCode nested too deeply');
  const tk = r.ulong();
  const simple = SIMPLE[tk];
  if (simple !== undefined) return { kind: simple } as TypeCode;
  switch (tk) {
    case 18: // tk_string
      r.ulong(); // bound
      return { kind: 'string' };
    case 14: {
      // tk_objref: treat as opaque string id (not expected in Tango data)
      throw new CdrError('object references in an any are not supported');
    }
    case 19: {
      // tk_sequence
      const e = r.encapsulation();
      const element = readTypeCode(e, depth + 1);
      e.ulong(); // bound
      return { kind: 'sequence', element };
    }
    case 20: {
      // tk_array
      const e = r.encapsulation();
      const element = readTypeCode(e, depth + 1);
      return { kind: 'array', element, length: e.ulong() };
    }
    case 21: {
      // tk_alias
      const e = r.encapsulation();
      const id = e.string();
      const name = e.string();
      return { kind: 'alias', id, name, content: readTypeCode(e, depth + 1) };
    }
    case 15: // tk_struct
    case 22: {
      // tk_except
      const e = r.encapsulation();
      const id = e.string();
      const name = e.string();
      const n = e.length(8);
      const members: { name: string; type: TypeCode }[] = [];
      for (let i = 0; i < n; i++) members.push({ name: e.string(), type: readTypeCode(e, depth + 1) });
      return { kind: 'struct', id, name, members };
    }
    case 17: {
      // tk_enum
      const e = r.encapsulation();
      const id = e.string();
      const name = e.string();
      return { kind: 'enum', id, name, members: e.strings() };
    }
    case 0xffffffff:
      throw new CdrError('TypeCode indirection is not supported');
    default:
      throw new CdrError(`unsupported TypeCode kind ${tk}`);
  }
}

/** Writes a TypeCode. */
export function writeTypeCode(w: CdrWriter, tc: TypeCode): void {
  switch (tc.kind) {
    case 'string':
      w.ulong(18).ulong(0);
      return;
    case 'sequence':
      w.ulong(19).encapsulation((e) => {
        writeTypeCode(e, tc.element);
        e.ulong(0);
      });
      return;
    case 'array':
      w.ulong(20).encapsulation((e) => {
        writeTypeCode(e, tc.element);
        e.ulong(tc.length);
      });
      return;
    case 'alias':
      w.ulong(21).encapsulation((e) => {
        e.string(tc.id).string(tc.name);
        writeTypeCode(e, tc.content);
      });
      return;
    case 'struct':
      w.ulong(15).encapsulation((e) => {
        e.string(tc.id).string(tc.name).ulong(tc.members.length);
        for (const m of tc.members) {
          e.string(m.name);
          writeTypeCode(e, m.type);
        }
      });
      return;
    case 'enum':
      w.ulong(17).encapsulation((e) => {
        e.string(tc.id).string(tc.name).strings(tc.members);
      });
      return;
    default:
      w.ulong(SIMPLE_CODE[tc.kind]!);
  }
}

/** Strips aliases. */
export function unalias(tc: TypeCode): TypeCode {
  let t = tc;
  while (t.kind === 'alias') t = t.content;
  return t;
}

/** Reads a value of type `tc`; numeric sequences become typed arrays, enums their member names. */
export function readValue(r: CdrReader, tc: TypeCode, depth = 0): unknown {
  if (depth > MAX_DEPTH) throw new CdrError('value nested too deeply');
  switch (tc.kind) {
    case 'null':
    case 'void':
      return undefined;
    case 'boolean':
      return r.boolean();
    case 'char':
      return String.fromCharCode(r.octet());
    case 'octet':
      return r.octet();
    case 'short':
      return r.short();
    case 'ushort':
      return r.ushort();
    case 'long':
      return r.long();
    case 'ulong':
      return r.ulong();
    case 'longlong':
      return r.longlong();
    case 'ulonglong':
      return r.ulonglong();
    case 'float':
      return r.float();
    case 'double':
      return r.double();
    case 'string':
      return r.string();
    case 'any':
      return readAny(r, depth + 1).value;
    case 'alias':
      return readValue(r, tc.content, depth + 1);
    case 'enum': {
      const i = r.enumValue(tc.members.length, tc.name);
      return tc.members[i];
    }
    case 'struct': {
      const out: Record<string, unknown> = {};
      for (const m of tc.members) out[m.name] = readValue(r, m.type, depth + 1);
      return out;
    }
    case 'sequence': {
      const el = unalias(tc.element);
      if (NUMERIC_KINDS.has(el.kind)) return r.numbers(el.kind as NumericKind);
      if (el.kind === 'boolean') return r.booleans();
      if (el.kind === 'string') return r.strings();
      const n = r.length();
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(readValue(r, el, depth + 1));
      return out;
    }
    case 'array': {
      const out: unknown[] = [];
      for (let i = 0; i < tc.length; i++) out.push(readValue(r, tc.element, depth + 1));
      return out;
    }
  }
}

/** Reads an `any`: its TypeCode, then its value. */
export function readAny(r: CdrReader, depth = 0): AnyValue {
  const type = readTypeCode(r, depth);
  return { type, value: readValue(r, type, depth) };
}

function bad(tc: TypeCode, value: unknown): never {
  throw new TypeError(`cannot encode ${String(value)} as CORBA ${tc.kind}`);
}

/** Writes `value` as type `tc` (the inverse of {@link readValue}). */
export function writeValue(w: CdrWriter, tc: TypeCode, value: unknown): void {
  switch (tc.kind) {
    case 'null':
    case 'void':
      return;
    case 'boolean':
      w.boolean(Boolean(value));
      return;
    case 'char':
      w.octet(String(value).charCodeAt(0) & 0xff);
      return;
    case 'string':
      if (typeof value !== 'string') bad(tc, value);
      w.string(value);
      return;
    case 'longlong':
    case 'ulonglong':
      if (typeof value !== 'number' && typeof value !== 'bigint') bad(tc, value);
      if (tc.kind === 'longlong') w.longlong(BigInt(value));
      else w.ulonglong(BigInt(value));
      return;
    case 'octet':
    case 'short':
    case 'ushort':
    case 'long':
    case 'ulong':
    case 'float':
    case 'double': {
      if (typeof value !== 'number' && typeof value !== 'bigint') bad(tc, value);
      w[tc.kind](Number(value));
      return;
    }
    case 'alias':
      writeValue(w, tc.content, value);
      return;
    case 'enum': {
      const i = typeof value === 'number' ? value : tc.members.indexOf(String(value));
      if (i < 0 || i >= tc.members.length) bad(tc, value);
      w.ulong(i);
      return;
    }
    case 'struct': {
      if (typeof value !== 'object' || value === null) bad(tc, value);
      const obj = value as Record<string, unknown>;
      for (const m of tc.members) writeValue(w, m.type, obj[m.name]);
      return;
    }
    case 'sequence': {
      const el = unalias(tc.element);
      if (typeof value !== 'object' || value === null || !('length' in value)) bad(tc, value);
      const arr = value as ArrayLike<unknown>;
      if (NUMERIC_KINDS.has(el.kind)) {
        w.numbers(el.kind as NumericKind, arr as ArrayLike<number>);
        return;
      }
      if (el.kind === 'boolean') {
        w.booleans(arr as ArrayLike<boolean>);
        return;
      }
      w.ulong(arr.length);
      for (let i = 0; i < arr.length; i++) writeValue(w, el, arr[i]);
      return;
    }
    case 'array': {
      const arr = value as ArrayLike<unknown>;
      for (let i = 0; i < tc.length; i++) writeValue(w, tc.element, arr[i]);
      return;
    }
    case 'any':
      throw new TypeError('nested any values cannot be encoded');
  }
}

/** Writes an `any` (TypeCode, then value). */
export function writeAny(w: CdrWriter, tc: TypeCode, value: unknown): void {
  writeTypeCode(w, tc);
  writeValue(w, tc, value);
}
