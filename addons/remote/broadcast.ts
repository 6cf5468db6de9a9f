/**
 * `concert broadcast`: forwards one incoming stream to several destinations, each lossless
 * (PUSH: the incoming stream waits for it) or latest-wins (PUB, HWM 1: never holds anything up).
 * Frames are forwarded without copying their pixels; end markers are forwarded too, stream after
 * stream.
 * @module
 */
import { Logger, OptionError, errorMessage } from '../../core/index.js';
import {
  createReceiver,
  createSender,
  isShmEndpoint,
  type FrameReceiver,
  type FrameSender,
} from '../../transport/index.js';
import type { CurveOptions, SenderMode } from '../../transport/zmq/index.js';

/** One destination: where to bind and how. */
export interface BroadcastTarget {
  endpoint: string;
  mode: SenderMode;
}

/** Options of {@link Broadcaster.create}. */
export interface BroadcastOptions {
  /** The sender to connect to (it binds), e.g. a camera server's registered endpoint. */
  from: string;
  /** Destinations to bind; consumers connect to them. */
  to: BroadcastTarget[];
  /** `pull` (default) or `sub` for the incoming stream. */
  input?: 'pull' | 'sub';
  curve?: { server: CurveOptions; client: CurveOptions };
}

/** Parses `push:tcp://127.0.0.1:9001` / `pub:tcp://…` (mode defaults to push). */
export function parseTarget(text: string): BroadcastTarget {
  const m = /^(?:(push|pub):)?(\w+:\/\/.+)$/.exec(text);
  if (!m)
    throw new OptionError(
      `broadcast destination '${text}' must look like push:tcp://127.0.0.1:9001 or pub:tcp://127.0.0.1:9002`,
    );
  return { mode: (m[1] as SenderMode | undefined) ?? 'push', endpoint: m[2]! };
}

/** Forwards streams from one sender to several destinations. */
export class Broadcaster {
  readonly log = new Logger('broadcast');
  /** Streams forwarded so far. */
  streams = 0;
  #stopped = new AbortController();
  #loop: Promise<void> | undefined;

  private constructor(
    readonly receiver: FrameReceiver,
    readonly senders: FrameSender[],
  ) {}

  static async create(options: BroadcastOptions): Promise<Broadcaster> {
    if (!options?.from || !Array.isArray(options.to) || options.to.length === 0)
      throw new OptionError(
        'broadcast needs { from: endpoint, to: [{ endpoint, mode }, …] } with at least one destination',
      );
    const senders: FrameSender[] = [];
    const curve = (endpoint: string, keys: CurveOptions | undefined) => (isShmEndpoint(endpoint) ? undefined : keys);
    try {
      for (const t of options.to)
        senders.push(
          await createSender({ mode: t.mode, bind: t.endpoint, curve: curve(t.endpoint, options.curve?.server) }),
        );
      const receiver = await createReceiver({
        mode: options.input ?? 'pull',
        connect: options.from,
        curve: curve(options.from, options.curve?.client),
      });
      const b = new Broadcaster(receiver, senders);
      b.#loop = b.#run();
      return b;
    } catch (error) {
      for (const s of senders) s.close();
      throw error;
    }
  }

  /** Where each destination listens. */
  get endpoints(): string[] {
    return this.senders.map((s) => `${s.mode}:${s.endpoint}`);
  }

  async #run(): Promise<void> {
    const signal = this.#stopped.signal;
    while (!signal.aborted) {
      try {
        let frames = 0;
        for await (const frame of this.receiver.stream({ signal })) {
          await Promise.all(this.senders.map((s) => s.send(frame, { signal })));
          frames++;
        }
        await Promise.all(this.senders.map((s) => s.end({ signal }).catch(() => undefined)));
        this.streams++;
        this.log.info(`stream ${this.streams} forwarded: ${frames} frames`);
      } catch (error) {
        if (signal.aborted) return;
        this.log.error(`forwarding failed: ${errorMessage(error)}`, error);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Per destination: frames sent and dropped. */
  counters(): Array<{ endpoint: string; sent: number; dropped: number }> {
    return this.senders.map((s) => ({ endpoint: `${s.mode}:${s.endpoint}`, ...s.counters }));
  }

  async stop(): Promise<void> {
    this.#stopped.abort();
    await this.#loop?.catch(() => undefined);
    this.receiver.close();
    for (const s of this.senders) s.close();
  }
}
