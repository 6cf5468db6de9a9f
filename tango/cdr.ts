/**
 * CORBA CDR (Common Data Representation) encoder and decoder: primitive types with their natural
 * alignment, strings, octet sequences, encapsulations, and bulk numeric sequences decoded as typed
 * arrays over the received buffer (one bulk copy where alignment or byte order forbids a view).
 * @module
 */
import { ConcertError } from '../core/errors.js';

/** Malformed or truncated CDR data. */
export class CdrError extends ConcertError {
  override name = 'CdrError';
}

/** Numeric sequences up to this long are written element by element (no typed array in between). */
const SMALL_SEQUENCE = 8;
/** Strings up to this many bytes are decoded in JavaScript (cheaper than a Buffer for names). */
const SHORT_STRING = 48;

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Numeric element kinds that travel as bulk sequences. */
export type NumericKind =
  'short' | 'ushort' | 'long' | 'ulong' | 'longlong' | 'ulonglong' | 'float' | 'double' | 'octet';

/** The typed array class used for each numeric kind. */
export interface NumericArrays {
  short: Int16Array;
  ushort: Uint16Array;
  long: Int32Array;
  ulong: Uint32Array;
  longlong: BigInt64Array;
  ulonglong: BigUint64Array;
  float: Float32Array;
  double: Float64Array;
  octet: Uint8Array;
}

/** Any typed array a numeric sequence decodes to. */
export type NumericArray = NumericArrays[NumericKind];

type TypedArrayCtor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericArray;
  new (length: number): NumericArray;
  readonly BYTES_PER_ELEMENT: number;
};

/** Element size and typed-array constructor of each numeric kind. */
export const NUMERIC: Record<NumericKind, TypedArrayCtor> = {
  short: Int16Array as unknown as TypedArrayCtor,
  ushort: Uint16Array as unknown as TypedArrayCtor,
  long: Int32Array as unknown as TypedArrayCtor,
  ulong: Uint32Array as unknown as TypedArrayCtor,
  longlong: BigInt64Array as unknown as TypedArrayCtor,
  ulonglong: BigUint64Array as unknown as TypedArrayCtor,
  float: Float32Array as unknown as TypedArrayCtor,
  double: Float64Array as unknown as TypedArrayCtor,
  octet: Uint8Array as unknown as TypedArrayCtor,
};

/**
 * Reads CDR data from a byte array. Alignment is relative to `origin` (the start of the GIOP
 * message or of the encapsulation). Every read is bounds-checked and throws {@link CdrError}.
 */
export class CdrReader {
  readonly bytes: Uint8Array;
  readonly littleEndian: boolean;
  readonly origin: number;
  pos: number;
  #view: DataView;

  constructor(bytes: Uint8Array, littleEndian: boolean, pos = 0, origin = 0) {
    this.bytes = bytes;
    this.littleEndian = littleEndian;
    this.pos = pos;
    this.origin = origin;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes left after the current position. */
  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  align(n: number): void {
    const rel = (this.pos - this.origin) % n;
    if (rel !== 0) this.pos += n - rel;
    if (this.pos > this.bytes.length) throw new CdrError(`CDR data truncated at byte ${this.pos}`);
  }

  #take(n: number, alignment = n): number {
    this.align(alignment);
    const at = this.pos;
    if (at + n > this.bytes.length) {
      throw new CdrError(`CDR data truncated: need ${n} bytes at ${at}, have ${this.bytes.length - at}`);
    }
    this.pos = at + n;
    return at;
  }

  octet(): number {
    return this.bytes[this.#take(1)]!;
  }
  boolean(): boolean {
    return this.octet() !== 0;
  }
  short(): number {
    return this.#view.getInt16(this.#take(2), this.littleEndian);
  }
  ushort(): number {
    return this.#view.getUint16(this.#take(2), this.littleEndian);
  }
  long(): number {
    return this.#view.getInt32(this.#take(4), this.littleEndian);
  }
  ulong(): number {
    return this.#view.getUint32(this.#take(4), this.littleEndian);
  }
  longlong(): bigint {
    return this.#view.getBigInt64(this.#take(8), this.littleEndian);
  }
  ulonglong(): bigint {
    return this.#view.getBigUint64(this.#take(8), this.littleEndian);
  }
  float(): number {
    return this.#view.getFloat32(this.#take(4), this.littleEndian);
  }
  double(): number {
    return this.#view.getFloat64(this.#take(8), this.littleEndian);
  }

  /** An enum value (ulong) checked against the number of members. */
  enumValue(count: number, what: string): number {
    const v = this.ulong();
    if (v >= count) throw new CdrError(`bad ${what} value ${v}`);
    return v;
  }

  /** A sequence length, checked against the bytes left (each element takes ≥ `minSize` bytes). */
  length(minSize = 1): number {
    const n = this.ulong();
    if (n * minSize > this.remaining) {
      throw new CdrError(`CDR sequence length ${n} exceeds the ${this.remaining} bytes left`);
    }
    return n;
  }

  /** A string: ulong length including the terminating NUL, then the bytes (ISO-8859-1). */
  string(): string {
    const n = this.length();
    if (n === 0) return ''; // tolerated (some ORBs send empty strings so)
    const at = this.#take(n, 1);
    const b = this.bytes;
    if (b[at + n - 1] !== 0) throw new CdrError('CDR string is not NUL-terminated');
    if (n > SHORT_STRING) return Buffer.from(b.buffer, b.byteOffset + at, n - 1).toString('latin1');
    let s = '';
    for (let i = at, end = at + n - 1; i < end; i++) s += String.fromCharCode(b[i]!);
    return s;
  }

  /** `count` raw bytes (no alignment), as a view into the buffer. */
  raw(count: number): Uint8Array {
    const at = this.#take(count, 1);
    return this.bytes.subarray(at, at + count);
  }

  /** A `sequence<octet>` as a view into the buffer. */
  octets(): Uint8Array {
    return this.raw(this.length());
  }

  /**
   * A sequence of numbers as a typed array: a view over the buffer when aligned and in host byte
   * order, else one bulk copy (plus a byte swap for foreign byte order).
   */
  numbers<K extends NumericKind>(kind: K): NumericArrays[K] {
    const Ctor = NUMERIC[kind];
    const size = Ctor.BYTES_PER_ELEMENT;
    const count = this.length(size);
    if (count === 0) {
      this.align(size);
      return new Ctor(0) as NumericArrays[K];
    }
    const at = this.#take(count * size, size);
    return this.#typed(Ctor, at, count, size) as NumericArrays[K];
  }

  #typed(Ctor: TypedArrayCtor, at: number, count: number, size: number): NumericArray {
    const abs = this.bytes.byteOffset + at;
    if (size === 1 || this.littleEndian === HOST_LITTLE_ENDIAN) {
      if (abs % size === 0) return new Ctor(this.bytes.buffer, abs, count);
      return new Ctor(this.#copy(at, count * size).buffer, 0, count);
    }
    const copy = this.#copy(at, count * size);
    for (let i = 0; i < copy.length; i += size) copy.subarray(i, i + size).reverse();
    return new Ctor(copy.buffer, 0, count);
  }

  /** A fresh copy of `n` bytes at `at` (never a view, even when `bytes` is a Node Buffer). */
  #copy(at: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    out.set(this.bytes.subarray(at, at + n));
    return out;
  }

  /** A sequence of booleans. */
  booleans(): boolean[] {
    const raw = this.octets();
    return Array.from(raw, (b) => b !== 0);
  }

  /** A sequence of strings. */
  strings(): string[] {
    const n = this.length(4);
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) out[i] = this.string();
    return out;
  }

  /** Opens an encapsulation (`sequence<octet>` whose first byte is the byte-order flag). */
  encapsulation(): CdrReader {
    const body = this.octets();
    if (body.length < 1) throw new CdrError('empty CDR encapsulation');
    const flag = body[0]!;
    if (flag > 1) throw new CdrError(`bad encapsulation byte order ${flag}`);
    return new CdrReader(body, flag === 1, 1, 0);
  }
}

/** Writes CDR data into a growing buffer; alignment is relative to the start of the buffer. */
export class CdrWriter {
  readonly littleEndian: boolean;
  #buf: Uint8Array;
  #view: DataView;
  #pos = 0;

  constructor(littleEndian = true, initialSize = 256) {
    this.littleEndian = littleEndian;
    this.#buf = new Uint8Array(initialSize);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#pos;
  }

  /** Starts over at byte 0, keeping the buffer unless it grew past `keepBytes`. */
  reset(keepBytes = 1 << 20): this {
    this.#pos = 0;
    if (this.#buf.length > keepBytes) {
      this.#buf = new Uint8Array(keepBytes);
      this.#view = new DataView(this.#buf.buffer);
    }
    return this;
  }

  /** Drops what was written after byte `length`. */
  truncate(length: number): this {
    if (length < 0 || length > this.#pos) throw new RangeError(`cannot truncate ${this.#pos} bytes to ${length}`);
    this.#pos = length;
    return this;
  }

  #reserve(n: number): void {
    const need = this.#pos + n;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  align(n: number): this {
    const pad = (n - (this.#pos % n)) % n;
    if (pad === 0) return this;
    this.#reserve(pad);
    const buf = this.#buf;
    for (let i = this.#pos, end = this.#pos + pad; i < end; i++) buf[i] = 0;
    this.#pos += pad;
    return this;
  }

  #at(n: number): number {
    this.align(n);
    this.#reserve(n);
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  #set(
    method: 'setInt16' | 'setUint16' | 'setInt32' | 'setUint32' | 'setFloat32' | 'setFloat64',
    size: number,
    v: number,
  ): void {
    const at = this.#at(size); // may reallocate: take the view afterwards
    this.#view[method](at, v, this.littleEndian);
  }

  octet(v: number): this {
    const at = this.#at(1);
    this.#buf[at] = v;
    return this;
  }
  boolean(v: boolean): this {
    return this.octet(v ? 1 : 0);
  }
  short(v: number): this {
    this.#set('setInt16', 2, v);
    return this;
  }
  ushort(v: number): this {
    this.#set('setUint16', 2, v);
    return this;
  }
  long(v: number): this {
    this.#set('setInt32', 4, v);
    return this;
  }
  ulong(v: number): this {
    this.#set('setUint32', 4, v);
    return this;
  }
  longlong(v: bigint | number): this {
    const at = this.#at(8);
    this.#view.setBigInt64(at, BigInt(v), this.littleEndian);
    return this;
  }
  ulonglong(v: bigint | number): this {
    const at = this.#at(8);
    this.#view.setBigUint64(at, BigInt(v), this.littleEndian);
    return this;
  }
  float(v: number): this {
    this.#set('setFloat32', 4, v);
    return this;
  }
  double(v: number): this {
    this.#set('setFloat64', 8, v);
    return this;
  }

  /** Raw bytes, no alignment and no length. */
  raw(bytes: Uint8Array): this {
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.length;
    return this;
  }

  /** A string (ISO-8859-1; characters above U+00FF are replaced by `?`). */
  string(s: string): this {
    const n = s.length + 1;
    this.ulong(n);
    this.#reserve(n);
    const buf = this.#buf;
    let at = this.#pos;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      buf[at++] = c > 0xff ? 0x3f : c;
    }
    buf[at++] = 0;
    this.#pos = at;
    return this;
  }

  /** A `sequence<octet>`. */
  octets(bytes: Uint8Array): this {
    this.ulong(bytes.length);
    return this.raw(bytes);
  }

  /** A numeric sequence, written in bulk when the writer uses host byte order. */
  numbers(kind: NumericKind, values: ArrayLike<number | bigint>): this {
    const Ctor = NUMERIC[kind];
    const size = Ctor.BYTES_PER_ELEMENT;
    this.ulong(values.length);
    this.align(size);
    if (values.length === 0) return this;
    if (values.length <= SMALL_SEQUENCE && !ArrayBuffer.isView(values)) {
      // A few plain numbers (a scalar's value and set point): no typed array in between.
      for (let i = 0; i < values.length; i++) this.#one(kind, values[i]!);
      return this;
    }
    let typed: NumericArray;
    if (values instanceof Ctor && this.littleEndian === HOST_LITTLE_ENDIAN) {
      typed = values as NumericArray;
    } else {
      typed = new Ctor(values.length);
      const big = kind === 'longlong' || kind === 'ulonglong';
      for (let i = 0; i < values.length; i++) {
        const v = values[i]!;
        (typed as unknown as (number | bigint)[])[i] = big ? BigInt(v) : Number(v);
      }
    }
    const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
    const start = this.#pos;
    this.raw(bytes);
    if (this.littleEndian !== HOST_LITTLE_ENDIAN && size > 1) {
      for (let i = start; i < this.#pos; i += size) this.#buf.subarray(i, i + size).reverse();
    }
    return this;
  }

  #one(kind: NumericKind, v: number | bigint): void {
    switch (kind) {
      case 'octet':
        this.octet(Number(v));
        return;
      case 'short':
        this.short(Number(v));
        return;
      case 'ushort':
        this.ushort(Number(v));
        return;
      case 'long':
        this.long(Number(v));
        return;
      case 'ulong':
        this.ulong(Number(v));
        return;
      case 'float':
        this.float(Number(v));
        return;
      case 'double':
        this.double(Number(v));
        return;
      case 'longlong':
        this.longlong(v);
        return;
      case 'ulonglong':
        this.ulonglong(v);
        return;
    }
  }

  /** A sequence of booleans. */
  booleans(values: ArrayLike<boolean | number>): this {
    this.ulong(values.length);
    const bytes = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) bytes[i] = values[i] ? 1 : 0;
    return this.raw(bytes);
  }

  /** A sequence of strings. */
  strings(values: readonly string[]): this {
    this.ulong(values.length);
    for (const s of values) this.string(s);
    return this;
  }

  /** Writes an encapsulation whose body `fill` produces (as `sequence<octet>`). */
  encapsulation(fill: (w: CdrWriter) => void): this {
    const inner = new CdrWriter(this.littleEndian, 64);
    inner.octet(this.littleEndian ? 1 : 0);
    fill(inner);
    return this.octets(inner.bytes());
  }

  /** Overwrites a ulong at `at` (used for GIOP message sizes). */
  patchUlong(at: number, v: number): void {
    this.#view.setUint32(at, v, this.littleEndian);
  }

  /** The bytes written (a view; copy before writing more). */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }
}
