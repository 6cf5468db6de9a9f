/**
 * `StreamRecorder`: records a remote stream into segments — a ZeroMQ frame stream (a camera
 * server's PUSH or PUB endpoint: `tcp://…`, `ipc://…`) or a websocket server (`ws://…`, text and
 * binary messages stored as they come, as purpledrop's EventRecorder records its server).
 *
 * The connection is made once, at `create()`, and kept between segments: a lossless (PUSH) sender
 * keeps flowing while nothing is recorded, and `start()` records from the next message on.
 * @module
 */
import { errorMessage, expecting, MAX_TIMER_MS, parseOptions, z } from '../core/index.js';
import { zcurve, ZmqReceiver, type CurveOptions, type ReceiverMode } from '../transport/index.js';
import type { LogSource } from '../walkers/formats/index.js';
import { preciseNow } from '../walkers/formats/index.js';
import {
  RecordingError,
  SegmentRecorder,
  type RecorderCounters,
  type SegmentResult,
  type StartOptions,
} from './segments.js';

/** The options of {@link StreamRecorder.create}. */
export const STREAM_RECORDER_OPTIONS = z.strictObject({
  /** `tcp://host:port` / `ipc://path` (ZeroMQ) or `ws://host:port/path` / `wss://…` (websocket). */
  source: expecting(
    z.string().regex(/^((tcp|ipc|inproc):\/\/|wss?:\/\/)/),
    "a ZeroMQ endpoint (tcp://, ipc://) or a websocket URI (ws://, wss://), e.g. 'tcp://127.0.0.1:8992'",
  ),
  /** ZeroMQ: `'pull'` (default, every frame, for a PUSH endpoint) or `'sub'` (a PUB endpoint). */
  mode: z.enum(['pull', 'sub']).optional(),
  /** ZeroMQ: CURVE client keys for an encrypted server. */
  curve: zcurve.optional(),
  /** Websocket: how long to wait for the connection (default 5000 ms). */
  connectTimeoutMs: z.number().positive().max(MAX_TIMER_MS).optional(),
  /** Name in messages and the log (default `recorder <source>`). */
  name: z.string().min(1).optional(),
  /**
   * Opens the first segment in this file before connecting, so that not even the first message
   * is missed (what `concert record` does).
   */
  recordTo: z.string().min(1).optional(),
});

/** Options of {@link StreamRecorder.create}. */
export type StreamRecorderOptions = z.input<typeof STREAM_RECORDER_OPTIONS>;

/** What a stream recorder is connected to. */
interface Connection {
  /** Resolves when the connection ended (closed by us or by the peer), with why. */
  readonly ended: Promise<string>;
  /** Resolves when the messages received so far were handed to the segments. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Records a ZeroMQ or websocket stream in start/stop segments.
 * @example
 * ```ts
 * const rec = await StreamRecorder.create({ source: 'tcp://127.0.0.1:8992' });
 * for (let i = 0; i < 3; i++) {
 *   await rec.start(`log${i}.clog`);
 *   await sleep(10_000);
 *   await rec.stop();
 * }
 * await rec.close();
 * ```
 */
export class StreamRecorder {
  readonly #segments: SegmentRecorder;
  readonly #source: LogSource;
  #connection: Connection | undefined;
  #closed = false;

  private constructor(
    readonly name: string,
    source: LogSource,
  ) {
    this.#source = source;
    this.#segments = new SegmentRecorder(
      name,
      () => source,
      async () => this.#connection?.drain(),
    );
  }

  /**
   * Connects to the source.
   * @throws OptionError for an unknown scheme or bad options; TransportError / RecordingError if
   *   the source cannot be reached.
   */
  static async create(options: StreamRecorderOptions): Promise<StreamRecorder> {
    parseOptions('StreamRecorder.create', STREAM_RECORDER_OPTIONS, options);
    const { source, mode = 'pull' } = options;
    const zmq = /^(tcp|ipc|inproc):\/\//.test(source);
    const described: LogSource = zmq
      ? { kind: 'zmq', description: `${source} (${mode})`, endpoint: source, mode }
      : { kind: 'websocket', description: source, uri: source };
    const recorder = new StreamRecorder(options.name ?? `recorder ${source}`, described);
    const segments = recorder.#segments;
    if (options.recordTo !== undefined) await segments.start(options.recordTo);
    try {
      recorder.#connection = zmq
        ? await zmqConnection(source, mode, options.curve, segments)
        : await websocketConnection(source, options.connectTimeoutMs ?? 5000, segments);
    } catch (error) {
      if (segments.recording) await segments.stop().catch(() => undefined);
      throw error;
    }
    void recorder.#connection.ended.then((why) => {
      if (!recorder.#closed) segments.log.warn(`${source}: ${why}`);
    });
    return recorder;
  }

  /** The file of the open segment, or undefined. */
  get recording(): string | undefined {
    return this.#segments.recording;
  }

  /** The segments finished so far. */
  get segments(): readonly SegmentResult[] {
    return this.#segments.segments;
  }

  /** Messages recorded and discarded, segments finished. */
  get counters(): RecorderCounters {
    return this.#segments.counters;
  }

  /** What is recorded: `{kind: 'zmq' | 'websocket', description}`. */
  get source(): LogSource {
    return this.#source;
  }

  /**
   * Starts a segment in `path`: every message from now until `stop()` goes into it.
   * @throws RecordingError while recording (`already recording to …; stop() first`) or after close().
   */
  start(path: string, options?: StartOptions): Promise<void> {
    if (this.#closed) return Promise.reject(new RecordingError(`${this.name} is closed`));
    return this.#segments.start(path, options);
  }

  /**
   * Ends the segment; resolves when its file is complete and flushed to disk.
   * @throws RecordingError if not recording; StorageError if the segment failed (disk full).
   */
  stop(): Promise<SegmentResult> {
    return this.#segments.stop();
  }

  /** Stops a running segment and disconnects. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#segments.recording) await this.#segments.stop().catch(() => undefined);
    await this.#connection?.close();
  }
}

/** A ZeroMQ receiver whose frames and end markers go to the segments as they arrive. */
async function zmqConnection(
  endpoint: string,
  mode: ReceiverMode,
  curve: CurveOptions | undefined,
  segments: SegmentRecorder,
): Promise<Connection> {
  const receiver = await ZmqReceiver.create({ mode, connect: endpoint, curve });
  let closing = false;
  const ended = (async () => {
    try {
      for (;;) {
        for await (const frame of receiver.stream()) await segments.frame(frame, preciseNow());
        await segments.end(undefined, preciseNow());
      }
    } catch (error) {
      return closing ? 'closed' : `receiving stopped: ${errorMessage(error)}`;
    }
  })();
  return {
    ended,
    // A frame being written is waited for by the writer itself; queued ones belong after stop().
    drain: async () => undefined,
    async close() {
      closing = true;
      receiver.close();
      await ended;
    },
  };
}

/** At most this many websocket messages wait for the disk before the socket is paused. */
const WEBSOCKET_QUEUE = 16;

/** A websocket client whose messages go to the segments, with the socket paused while the disk is behind. */
async function websocketConnection(uri: string, timeoutMs: number, segments: SegmentRecorder): Promise<Connection> {
  // (imported here: only websocket sources need it, and a session start should not load it)
  const { default: WebSocket } = await import('ws');
  const ws = new WebSocket(uri, { handshakeTimeout: timeoutMs });
  await new Promise<void>((resolve, reject) => {
    const fail = (error: Error) => {
      ws.off('open', ok);
      reject(new RecordingError(`cannot connect to ${uri}: ${errorMessage(error)}`, { cause: error }));
    };
    const ok = () => {
      ws.off('error', fail);
      resolve();
    };
    ws.once('open', ok);
    ws.once('error', fail);
  });
  let chain: Promise<void> = Promise.resolve();
  let queued = 0;
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    const receivedAt = preciseNow();
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    const message = isBinary ? bytes : bytes.toString('utf8');
    if (++queued >= WEBSOCKET_QUEUE) ws.pause();
    chain = chain
      .then(() => segments.message(message, receivedAt))
      .finally(() => {
        if (--queued < WEBSOCKET_QUEUE / 2 && ws.isPaused) ws.resume();
      });
  });
  const ended = new Promise<string>((resolve) => {
    ws.on('error', (error) => resolve(`websocket error: ${errorMessage(error)}`));
    ws.on('close', (code, reason) =>
      resolve(`the server closed the websocket (${code}${reason.length ? ` ${reason}` : ''})`),
    );
  });
  return {
    drain: () => chain,
    ended: ended.then(async (why) => {
      await chain;
      return why;
    }),
    async close() {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close();
      await Promise.race([ended, new Promise((r) => setTimeout(r, 1000))]);
      await chain;
      ws.terminate();
    },
  };
}
