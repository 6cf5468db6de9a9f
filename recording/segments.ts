/**
 * `SegmentRecorder`: the start/stop logic every recorder shares (the `Recorder` addon, the stream
 * recorder of ZeroMQ and websocket sources). Messages that arrive while a segment is open go into
 * its file; the others are discarded. Each `start(file)` … `stop()` is one segment, its own file.
 * @module
 */
import { ConcertError, errorMessage, Logger, type Frame } from '../core/index.js';
import type { StorageError } from '../walkers/formats/index.js';
import type { LogSource } from '../walkers/formats/index.js';
import { LogWriter, preciseNow } from '../walkers/formats/index.js';

/** Misuse of a recorder: start while recording, stop while not, a closed recorder. */
export class RecordingError extends ConcertError {
  override name = 'RecordingError';
}

/** One finished segment. */
export interface SegmentResult {
  path: string;
  records: number;
  frames: number;
  bytes: number;
  /** ms since the epoch. */
  startedAt: number;
  stoppedAt: number;
}

/** Options of {@link SegmentRecorder.start}. */
export interface StartOptions {
  /** Replace an existing file (default false). */
  overwrite?: boolean;
}

/** Counters of a recorder over its lifetime. */
export interface RecorderCounters {
  /** Messages written into segments. */
  recorded: number;
  /** Messages that arrived while no segment was open. */
  discarded: number;
  /** End-of-stream markers written into segments. */
  ends: number;
  /** Finished segments. */
  segments: number;
}

/**
 * Segments of a recording. Writes are awaited by the source (a slow disk slows a lossless source
 * down; nothing queues without bound). A failed write (disk full) ends the segment: its file stays
 * readable up to the last whole record, `recording` becomes undefined and the next `stop()` rejects
 * with the {@link StorageError}; `start()` then works again.
 */
export class SegmentRecorder {
  readonly log: Logger;
  readonly #source: () => LogSource;
  readonly #drain: (() => Promise<void>) | undefined;
  #writer: LogWriter | undefined;
  #startedAt = 0;
  #failure: { path: string; error: StorageError } | undefined;
  #starting = false;
  #segments: SegmentResult[] = [];
  #counters: RecorderCounters = { recorded: 0, discarded: 0, ends: 0, segments: 0 };

  /**
   * @param source describes the source for the file header
   * @param drain resolves when messages received so far were handed to this recorder (`stop()`
   *   waits for it, so a segment holds everything received before the call)
   */
  constructor(
    readonly name: string,
    source: () => LogSource,
    drain?: () => Promise<void>,
  ) {
    this.#source = source;
    this.#drain = drain;
    this.log = new Logger(name);
  }

  /** The file of the open segment, or undefined. */
  get recording(): string | undefined {
    return this.#writer?.path;
  }

  /** The segments finished so far, oldest first. */
  get segments(): readonly SegmentResult[] {
    return [...this.#segments];
  }

  /** A snapshot of the counters. */
  get counters(): RecorderCounters {
    return { ...this.#counters };
  }

  /** The failure that ended the last segment, until the next `stop()` or `start()`. */
  get failure(): StorageError | undefined {
    return this.#failure?.error;
  }

  /**
   * Opens a new segment in `path`; resolves once its header is written.
   * @throws RecordingError if a segment is open (`already recording to …; stop() first`);
   *   StorageError if the file exists or cannot be created.
   */
  async start(path: string, options: StartOptions = {}): Promise<void> {
    if (typeof path !== 'string' || !path)
      throw new RecordingError(`${this.name}.start: give the file to record to, e.g. start('run1.clog')`);
    if (this.#writer || this.#starting)
      throw new RecordingError(`${this.name}: already recording to ${this.#writer?.path ?? path}; stop() first`);
    this.#starting = true;
    try {
      this.#failure = undefined;
      this.#writer = await LogWriter.create(path, { source: this.#source(), overwrite: options.overwrite });
      this.#startedAt = Date.now();
      this.log.info(`recording to ${path}`);
    } finally {
      this.#starting = false;
    }
  }

  /**
   * Ends the open segment: resolves when every message received before the call is in the file
   * and the file is complete and flushed to disk.
   * @throws RecordingError if no segment is open; StorageError if the segment failed (disk full)
   *   or its file could not be completed.
   */
  async stop(): Promise<SegmentResult> {
    if (this.#writer) await this.#drain?.();
    const writer = this.#writer;
    if (!writer) {
      const failure = this.#failure;
      this.#failure = undefined;
      if (failure) throw failure.error;
      throw new RecordingError(`${this.name}: not recording; start('file.clog') first`);
    }
    this.#writer = undefined;
    const counters = await writer.close();
    const result: SegmentResult = {
      path: writer.path,
      records: counters.records,
      frames: counters.frames,
      bytes: counters.bytes,
      startedAt: this.#startedAt,
      stoppedAt: Date.now(),
    };
    this.#segments.push(result);
    this.#counters.segments++;
    this.log.info(`recorded ${result.frames} frames (${result.records} records) to ${result.path}`);
    return result;
  }

  /** Records a frame if a segment is open (awaits the write). */
  frame(frame: Frame, receivedAt = preciseNow()): Promise<void> {
    return this.#write((w) => w.writeFrame(frame, receivedAt));
  }

  /** Records an end-of-stream marker if a segment is open. */
  end(extra?: Record<string, unknown>, receivedAt = preciseNow()): Promise<void> {
    return this.#write((w) => w.writeEnd(extra, receivedAt), true);
  }

  /** Records a websocket message if a segment is open. */
  message(data: string | Uint8Array, receivedAt = preciseNow()): Promise<void> {
    return this.#write((w) => w.writeMessage(data, receivedAt));
  }

  async #write(write: (writer: LogWriter) => Promise<void>, end = false): Promise<void> {
    const writer = this.#writer;
    if (!writer) {
      this.#counters.discarded++;
      return;
    }
    try {
      await write(writer);
      this.#counters.recorded++;
      if (end) this.#counters.ends++;
    } catch (error) {
      if (this.#writer !== writer) return; // already failed or stopped meanwhile
      this.#writer = undefined;
      this.#failure = { path: writer.path, error: writer.failure ?? (error as StorageError) };
      await writer.close().catch(() => undefined);
      this.log.error(
        `recording to ${writer.path} stopped: ${errorMessage(error)} (the file is readable up to its last whole record)`,
        error,
      );
    }
  }
}
