/**
 * `LogReader`: reads a recording (`.clog`) record by record, or builds an index of its records
 * (offsets, kinds, times and wire headers, without reading pixels) for random access.
 *
 * A file cut short (a crash, a power loss, a full disk) reads as a clean end at its last whole
 * record: reading stops there and {@link LogReader.ending} says where and why. A file closed
 * cleanly ends with a trailer record (`ending.complete`).
 * @module
 */
import { open, type FileHandle } from 'node:fs/promises';
import { errorMessage, type Frame } from '../../core/index.js';
import { decodeMessage, type FrameHeader } from '../../transport/index.js';
import { StorageError, storageError } from './errors.js';
import {
  FILE_HEAD_BYTES,
  LENGTH_PREFIX_BYTES,
  LOG_FORMAT_VERSION,
  LOG_MAGIC,
  align8,
  payloadOffset,
  RECORD_HEAD_BYTES,
  RecordKind,
  type LogHeader,
  type LogTrailer,
} from './log-format.js';

/** Where a record is and when it was received. */
interface RecordPlace {
  /** Offset of the record's length prefix in the file. */
  offset: number;
  /** Receive time, ms since the Unix epoch. */
  receivedAt: number;
}

/** One record, decoded. */
export type LogRecord = RecordPlace &
  (
    | { kind: 'frame'; frame: Frame; header: FrameHeader }
    | { kind: 'end'; header: Record<string, unknown> }
    | { kind: 'text'; text: string }
    | { kind: 'binary'; data: Uint8Array }
  );

/** One record in the index. */
export interface IndexEntry extends RecordPlace {
  kind: LogRecord['kind'];
  /** Length of the record (after its length prefix). */
  length: number;
  /** The wire header of a frame or end record (parsed JSON); undefined for text/binary. */
  header: Record<string, unknown> | undefined;
}

/** How a log ends. */
export interface LogEnding {
  /** True if it ends with a trailer (closed cleanly). */
  complete: boolean;
  trailer?: LogTrailer;
  /** Set when the file ends inside a record or holds a damaged one: reading stopped before `offset`. */
  cutShort?: { offset: number; reason: string };
}

/** The index of a log: every record's place, and how the log ends. */
export interface LogIndex {
  entries: IndexEntry[];
  /** The entries of frame records, in order. */
  frames: IndexEntry[];
  ending: LogEnding;
  /** File size in bytes. */
  bytes: number;
}

const KIND_NAMES: Record<number, LogRecord['kind'] | 'trailer'> = {
  [RecordKind.frame]: 'frame',
  [RecordKind.end]: 'end',
  [RecordKind.text]: 'text',
  [RecordKind.binary]: 'binary',
  [RecordKind.trailer]: 'trailer',
};

/** Records up to this size are read through a shared read-ahead window. */
const SMALL_RECORD = 64 * 1024;
const WINDOW = 1024 * 1024;

/** Reads one recording. */
export class LogReader {
  readonly path: string;
  readonly header: LogHeader;
  /** The format version of the file. */
  readonly version: number;
  /** Offset of the first record. */
  readonly dataStart: number;
  readonly #handle: FileHandle;
  #ending: LogEnding | undefined;
  #window: { start: number; bytes: Buffer } | undefined;

  private constructor(path: string, handle: FileHandle, header: LogHeader, version: number, dataStart: number) {
    this.path = path;
    this.#handle = handle;
    this.header = header;
    this.version = version;
    this.dataStart = dataStart;
  }

  /**
   * Opens a recording and reads its header.
   * @throws StorageError if the file cannot be read, is not a Concert recording, or is of a newer version.
   */
  static async open(path: string): Promise<LogReader> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw storageError('open', path, error);
    }
    try {
      const head = await readAt(handle, path, 0, FILE_HEAD_BYTES);
      if (head.length < FILE_HEAD_BYTES || !head.subarray(0, 8).equals(LOG_MAGIC))
        throw new StorageError(`cannot read ${path}: not a Concert recording (no .clog header)`, { path });
      const version = head.readUInt16LE(8);
      if (version < 1 || version > LOG_FORMAT_VERSION)
        throw new StorageError(
          `cannot read ${path}: recording format version ${version}, this Concert reads versions 1 to ${LOG_FORMAT_VERSION}`,
          { path },
        );
      const length = head.readUInt32LE(12);
      const json = await readAt(handle, path, FILE_HEAD_BYTES, length);
      let header: LogHeader;
      try {
        if (json.length < length) throw new Error(`${json.length} of ${length} bytes`);
        header = JSON.parse(json.toString('utf8')) as LogHeader;
      } catch (error) {
        throw new StorageError(`cannot read ${path}: its header is damaged (${errorMessage(error)})`, { path });
      }
      return new LogReader(path, handle, header, version, align8(FILE_HEAD_BYTES + length));
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** How the log ends; known after {@link records} ran to its end or {@link index} was built. */
  get ending(): LogEnding | undefined {
    return this.#ending;
  }

  /** Every record in order (frames, end markers, websocket messages); stops at a cut or the trailer. */
  async *records(options: { signal?: AbortSignal; from?: number } = {}): AsyncGenerator<LogRecord, void, undefined> {
    let position = options.from ?? this.dataStart;
    for (;;) {
      options.signal?.throwIfAborted();
      const prefix = await this.#read(position, LENGTH_PREFIX_BYTES);
      if (prefix.length === 0)
        return this.#end({ complete: false, cutShort: this.#cut(position, 'the file ends without a trailer') });
      if (prefix.length < LENGTH_PREFIX_BYTES)
        return this.#end({ complete: false, cutShort: this.#cut(position, 'the file ends inside a length prefix') });
      const length = prefix.readUInt32LE(0);
      if (length < RECORD_HEAD_BYTES)
        return this.#end({
          complete: false,
          cutShort: this.#cut(position, `a record length of ${length} bytes (damaged or zero-filled)`),
        });
      const record = await this.#read(position + LENGTH_PREFIX_BYTES, length);
      if (record.length < length)
        return this.#end({
          complete: false,
          cutShort: this.#cut(position, `the last record is cut short (${record.length} of ${length} bytes)`),
        });
      const decoded = decodeRecord(record, position);
      if (typeof decoded === 'string') return this.#end({ complete: false, cutShort: this.#cut(position, decoded) });
      if ('trailer' in decoded) return this.#end({ complete: true, trailer: decoded.trailer });
      yield decoded;
      position += LENGTH_PREFIX_BYTES + length;
    }
  }

  /** Reads the heads of every record (no pixels) into an index. */
  async index(): Promise<LogIndex> {
    const { size } = await this.#handle.stat();
    const entries: IndexEntry[] = [];
    let position = this.dataStart;
    let ending: LogEnding | undefined;
    while (!ending) {
      if (position === size) {
        ending = { complete: false, cutShort: this.#cut(position, 'the file ends without a trailer') };
        break;
      }
      const head = await readAt(this.#handle, this.path, position, LENGTH_PREFIX_BYTES + RECORD_HEAD_BYTES);
      if (head.length < LENGTH_PREFIX_BYTES) {
        ending = { complete: false, cutShort: this.#cut(position, 'the file ends inside a length prefix') };
        break;
      }
      const length = head.readUInt32LE(0);
      if (length < RECORD_HEAD_BYTES) {
        ending = {
          complete: false,
          cutShort: this.#cut(position, `a record length of ${length} bytes (damaged or zero-filled)`),
        };
        break;
      }
      if (position + LENGTH_PREFIX_BYTES + length > size) {
        const present = size - position - LENGTH_PREFIX_BYTES;
        ending = {
          complete: false,
          cutShort: this.#cut(position, `the last record is cut short (${present} of ${length} bytes)`),
        };
        break;
      }
      const body = head.subarray(LENGTH_PREFIX_BYTES);
      const kind = KIND_NAMES[body.readUInt8(8)];
      const headerBytes = body.readUInt32LE(12);
      const receivedAt = body.readDoubleLE(0);
      if (!kind || payloadOffset(headerBytes) > length) {
        ending = { complete: false, cutShort: this.#cut(position, `record at offset ${position} is damaged`) };
        break;
      }
      let header: Record<string, unknown> | undefined;
      if (headerBytes > 0) {
        const json = await readAt(
          this.#handle,
          this.path,
          position + LENGTH_PREFIX_BYTES + RECORD_HEAD_BYTES,
          headerBytes,
        );
        header = parseObject(json);
        if (!header) {
          ending = {
            complete: false,
            cutShort: this.#cut(position, `record at offset ${position} has a damaged header`),
          };
          break;
        }
      }
      if (kind === 'trailer') {
        ending = { complete: true, trailer: header as unknown as LogTrailer };
        break;
      }
      entries.push({ offset: position, receivedAt, kind, length, header });
      position += LENGTH_PREFIX_BYTES + length;
    }
    this.#ending = ending;
    return { entries, frames: entries.filter((e) => e.kind === 'frame'), ending, bytes: size };
  }

  /**
   * Reads and decodes the record an index entry points to.
   * @throws StorageError if it cannot be read or is damaged.
   */
  async read(entry: IndexEntry): Promise<LogRecord> {
    const record = await readAt(this.#handle, this.path, entry.offset + LENGTH_PREFIX_BYTES, entry.length);
    if (record.length < entry.length)
      throw new StorageError(`cannot read ${this.path}: the record at offset ${entry.offset} is cut short`, {
        path: this.path,
      });
    const decoded = decodeRecord(record, entry.offset);
    if (typeof decoded === 'string')
      throw new StorageError(`cannot read ${this.path}: ${decoded}`, { path: this.path });
    if ('trailer' in decoded)
      throw new StorageError(`cannot read ${this.path}: offset ${entry.offset} is the trailer`, { path: this.path });
    return decoded;
  }

  /**
   * Reads the records of consecutive index entries (each starting where the one before ends)
   * with one read into one fresh buffer, and decodes each: the record, or the StorageError saying
   * why it cannot be read. Frames' pixels are views of that buffer where alignment allows, so a
   * frame kept keeps the whole span's memory.
   * @throws StorageError if the span cannot be read; RangeError if the entries are not consecutive.
   */
  async readSpan(entries: readonly IndexEntry[]): Promise<Array<LogRecord | StorageError>> {
    if (entries.length === 0) return [];
    const start = entries[0]!.offset;
    for (let k = 1; k < entries.length; k++) {
      const before = entries[k - 1]!;
      if (entries[k]!.offset !== before.offset + LENGTH_PREFIX_BYTES + before.length)
        throw new RangeError(
          `LogReader.readSpan: the entry at offset ${entries[k]!.offset} does not follow the one before`,
        );
    }
    const last = entries[entries.length - 1]!;
    const bytes = await readAt(
      this.#handle,
      this.path,
      start + LENGTH_PREFIX_BYTES,
      last.offset + LENGTH_PREFIX_BYTES + last.length - start - LENGTH_PREFIX_BYTES,
    );
    return entries.map((entry) => {
      const at = entry.offset - start;
      if (at + entry.length > bytes.length)
        return new StorageError(`cannot read ${this.path}: the record at offset ${entry.offset} is cut short`, {
          path: this.path,
        });
      const decoded = decodeRecord(bytes.subarray(at, at + entry.length), entry.offset);
      if (typeof decoded === 'string')
        return new StorageError(`cannot read ${this.path}: ${decoded}`, { path: this.path });
      if ('trailer' in decoded)
        return new StorageError(`cannot read ${this.path}: offset ${entry.offset} is the trailer`, { path: this.path });
      return decoded;
    });
  }

  /** Closes the file. */
  async close(): Promise<void> {
    await this.#handle.close();
  }

  #end(ending: LogEnding): void {
    this.#ending = ending;
  }

  #cut(offset: number, reason: string): LogEnding['cutShort'] {
    return { offset, reason };
  }

  /** Reads `length` bytes at `position` into a fresh buffer (fewer at the end of the file). */
  async #read(position: number, length: number): Promise<Buffer> {
    if (length > SMALL_RECORD) return readAt(this.#handle, this.path, position, length);
    let w = this.#window;
    if (!w || position < w.start || position + length > w.start + w.bytes.length) {
      const bytes = await readAt(this.#handle, this.path, position, Math.max(WINDOW, length));
      this.#window = w = { start: position, bytes };
    }
    const from = position - w.start;
    return Buffer.from(w.bytes.subarray(from, Math.min(from + length, w.bytes.length)));
  }
}

/** Decodes a whole record: a LogRecord, `{trailer}`, or why it is damaged. */
function decodeRecord(record: Buffer, offset: number): LogRecord | { trailer: LogTrailer } | string {
  const receivedAt = record.readDoubleLE(0);
  const kind = KIND_NAMES[record.readUInt8(8)];
  const headerBytes = record.readUInt32LE(12);
  const at = payloadOffset(headerBytes);
  if (!kind || at > record.length) return `record at offset ${offset} is damaged (kind ${record.readUInt8(8)})`;
  const headerPart = record.subarray(RECORD_HEAD_BYTES, RECORD_HEAD_BYTES + headerBytes);
  const payload = record.subarray(at);
  const place = { offset, receivedAt };
  switch (kind) {
    case 'text':
      return { ...place, kind, text: payload.toString('utf8') };
    case 'binary':
      return { ...place, kind, data: payload };
    case 'trailer': {
      const trailer = parseObject(headerPart);
      return trailer ? { trailer: trailer as unknown as LogTrailer } : `the trailer at offset ${offset} is damaged`;
    }
    default: {
      const message = decodeMessage(kind === 'frame' ? [headerPart, payload] : [headerPart]);
      if (message.kind === 'invalid') return `record at offset ${offset} is damaged: ${message.reason}`;
      if (message.kind === 'frame') return { ...place, kind: 'frame', frame: message.frame, header: message.header };
      return { ...place, kind: 'end', header: message.header };
    }
  }
}

function parseObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Reads up to `length` bytes at `position` into a fresh buffer (its memory starts at offset 0). */
async function readAt(handle: FileHandle, path: string, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafeSlow(length);
  let done = 0;
  while (done < length) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(buffer, done, length - done, position + done));
    } catch (error) {
      throw storageError('read', path, error);
    }
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? buffer : buffer.subarray(0, done);
}
