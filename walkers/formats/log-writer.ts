/**
 * `LogWriter`: writes one recording (`.clog`) — the header, then one record per message, in one
 * `writev` per record with no copy of the pixels — and closes it with a trailer and an fsync.
 * @module
 */
import { open, type FileHandle } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Mutex, OptionError, preciseNow, type Frame } from '../../core/index.js';
import { encodeEnd, encodeFrame, WIRE_FORMAT_VERSION } from '../../transport/index.js';
import { StorageError, storageError } from './errors.js';
import { writeAll } from './tiff-writer.js';
import {
  align8,
  FILE_HEAD_BYTES,
  LENGTH_PREFIX_BYTES,
  LOG_FORMAT_VERSION,
  LOG_MAGIC,
  payloadOffset,
  RECORD_HEAD_BYTES,
  RecordKind,
  type LogHeader,
  type LogSource,
  type LogTrailer,
  type RecordKindCode,
} from './log-format.js';

/** Options of {@link LogWriter.create}. */
export interface LogWriterOptions {
  source: LogSource;
  /** Replace an existing file (default false: an existing file is an error). */
  overwrite?: boolean;
  /** Start time in ms since the epoch (default now). */
  startTime?: number;
}

/** What a writer has written. */
export interface LogCounters {
  records: number;
  frames: number;
  /** Bytes in the file. */
  bytes: number;
}

export { preciseNow };

function concertVersion(): string {
  try {
    return `concert ${(createRequire(import.meta.url)('../../package.json') as { version: string }).version}`;
  } catch {
    return 'concert';
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Writes a recording. Calls are serialised; each resolves when its record is in the file. A
 * failed write (disk full, …) rejects with a {@link StorageError}, cuts the file back to its last
 * whole record and makes every later write fail the same way: the file stays readable.
 * @example
 * ```ts
 * const log = await LogWriter.create('run1.clog', { source: { kind: 'zmq', description: 'tcp://127.0.0.1:8992' } });
 * await log.writeFrame(frame);
 * await log.close();
 * ```
 */
export class LogWriter {
  readonly path: string;
  readonly header: LogHeader;
  readonly #handle: FileHandle;
  readonly #mutex = new Mutex();
  #position: number;
  #counters: LogCounters;
  #failure: StorageError | undefined;
  #closed = false;

  private constructor(path: string, handle: FileHandle, header: LogHeader, position: number) {
    this.path = path;
    this.#handle = handle;
    this.header = header;
    this.#position = position;
    this.#counters = { records: 0, frames: 0, bytes: position };
  }

  /**
   * Creates the file and writes the header.
   * @throws StorageError if the file exists (without `overwrite`) or cannot be created.
   */
  static async create(path: string, options: LogWriterOptions): Promise<LogWriter> {
    const startTime = options.startTime ?? Date.now();
    const header: LogHeader = {
      startTime,
      startTimeIso: new Date(startTime).toISOString(),
      source: options.source,
      wireFormatVersion: WIRE_FORMAT_VERSION,
      writer: concertVersion(),
    };
    let handle: FileHandle;
    try {
      handle = await open(path, options.overwrite ? 'w' : 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST')
        throw new StorageError(`cannot record to ${path}: the file exists; choose another name or remove it`, {
          path,
          cause: error,
        });
      throw storageError('create', path, error);
    }
    const json = Buffer.from(JSON.stringify(header));
    const head = Buffer.alloc(align8(FILE_HEAD_BYTES + json.length));
    LOG_MAGIC.copy(head, 0);
    head.writeUInt16LE(LOG_FORMAT_VERSION, 8);
    head.writeUInt32LE(json.length, 12);
    json.copy(head, FILE_HEAD_BYTES);
    try {
      await writeAll(handle, [head], 0);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw storageError('write', path, error);
    }
    return new LogWriter(path, handle, header, head.length);
  }

  /** Records, frames and bytes written so far. */
  get counters(): LogCounters {
    return { ...this.#counters };
  }

  /** The error that stopped this writer, if one did. */
  get failure(): StorageError | undefined {
    return this.#failure;
  }

  /** Writes a frame (header and pixels as the wire format encodes them). */
  writeFrame(frame: Frame, receivedAt = preciseNow()): Promise<void> {
    const [height, width] = frame.shape;
    if (!(height >= 1 && width >= 1))
      return Promise.reject(
        new OptionError(
          `${this.path}: a frame of shape [${height}, ${width}] cannot be recorded ` +
            '(the wire format, which a recording keeps, refuses frames without pixels)',
        ),
      );
    const [header, payload] = encodeFrame(frame);
    return this.#write(RecordKind.frame, receivedAt, header, payload);
  }

  /** Writes a wire message as received: `[header, payload]` (a frame) or `[header]` (an end marker). */
  writeWire(parts: readonly Uint8Array[], receivedAt = preciseNow()): Promise<void> {
    if (parts.length === 2) return this.#write(RecordKind.frame, receivedAt, parts[0]!, parts[1]!);
    if (parts.length === 1) return this.#write(RecordKind.end, receivedAt, parts[0]!, EMPTY);
    return Promise.reject(new TypeError(`writeWire: a wire message has 1 or 2 parts, got ${parts.length}`));
  }

  /** Writes an end-of-stream marker (`{"end": true}` plus `extra`). */
  writeEnd(extra?: Record<string, unknown>, receivedAt = preciseNow()): Promise<void> {
    return this.#write(RecordKind.end, receivedAt, encodeEnd(extra)[0], EMPTY);
  }

  /** Writes a websocket message as it came: text or binary. */
  writeMessage(data: string | Uint8Array, receivedAt = preciseNow()): Promise<void> {
    return typeof data === 'string'
      ? this.#write(RecordKind.text, receivedAt, EMPTY, Buffer.from(data, 'utf8'))
      : this.#write(RecordKind.binary, receivedAt, EMPTY, data);
  }

  /**
   * Writes the trailer, flushes the file to disk (fsync) and closes it. After a failure it only
   * closes the file (which then reads as cut short). Idempotent.
   * @throws StorageError if the trailer or the flush fails.
   */
  async close(): Promise<LogCounters> {
    return this.#mutex.run(async () => {
      if (this.#closed) return this.counters;
      this.#closed = true;
      try {
        if (!this.#failure) {
          const trailer: LogTrailer = {
            records: this.#counters.records,
            frames: this.#counters.frames,
            stoppedAt: Date.now(),
          };
          await this.#append(RecordKind.trailer, Date.now(), Buffer.from(JSON.stringify(trailer)), EMPTY);
          await this.#handle.sync().catch((error: unknown) => {
            throw storageError('flush', this.path, error);
          });
        }
      } finally {
        await this.#handle.close().catch(() => undefined);
      }
      if (this.#failure) throw this.#failure;
      return this.counters;
    });
  }

  #write(kind: RecordKindCode, receivedAt: number, header: Uint8Array, payload: Uint8Array): Promise<void> {
    return this.#mutex.run(async () => {
      if (this.#failure) throw this.#failure;
      if (this.#closed)
        throw new StorageError(`cannot write to ${this.path}: the recording is closed`, { path: this.path });
      await this.#append(kind, receivedAt, header, payload);
      this.#counters.records++;
      if (kind === RecordKind.frame) this.#counters.frames++;
    });
  }

  async #append(kind: RecordKindCode, receivedAt: number, header: Uint8Array, payload: Uint8Array): Promise<void> {
    const at = payloadOffset(header.byteLength);
    const length = at + payload.byteLength;
    if (length > 0xffffffff)
      throw new StorageError(`cannot write to ${this.path}: a record of ${length} bytes exceeds the 4 GiB limit`, {
        path: this.path,
      });
    const head = Buffer.alloc(LENGTH_PREFIX_BYTES + at);
    head.writeUInt32LE(length, 0);
    head.writeDoubleLE(receivedAt, 4);
    head.writeUInt8(kind, 12);
    head.writeUInt32LE(header.byteLength, 16);
    head.set(header, LENGTH_PREFIX_BYTES + RECORD_HEAD_BYTES);
    try {
      await writeAll(this.#handle, [head, payload], this.#position);
    } catch (error) {
      this.#failure = storageError('write', this.path, error);
      // Cut a half-written record off, so the file ends at its last whole record.
      await this.#handle.truncate(this.#position).catch(() => undefined);
      throw this.#failure;
    }
    this.#position += head.length + payload.byteLength;
    this.#counters.bytes = this.#position;
  }
}
