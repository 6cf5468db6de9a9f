/**
 * The benchmarker server (`concert serve benchmarker`): counts frames and measures the rate.
 * @module
 */
import { StreamServer, type StreamServerOptions, type StreamSink } from './stream-server.js';

/** Timing of the last stream. */
export interface StreamTiming {
  name: string;
  frames: number;
  bytes: number;
  durationMs: number;
  fps: number;
}

/** Receives streams and times them. */
export class BenchmarkerServer extends StreamServer {
  readonly timings: StreamTiming[] = [];

  constructor(options: StreamServerOptions) {
    super('benchmarker', options);
  }

  protected override handlers(): Record<string, (params: unknown) => unknown> {
    return { timings: () => this.timings };
  }

  protected async openStream(name: string): Promise<StreamSink> {
    let first: number | undefined;
    let last = 0;
    let frames = 0;
    let bytes = 0;
    return {
      frame: (frame) => {
        last = performance.now();
        first ??= last;
        frames++;
        bytes += frame.data.byteLength;
      },
      close: async () => {
        const durationMs = first === undefined ? 0 : last - first;
        this.timings.push({
          name,
          frames,
          bytes,
          durationMs,
          fps: durationMs > 0 ? ((frames - 1) * 1000) / durationMs : 0,
        });
      },
    };
  }

  protected override extraStatus(): Record<string, unknown> {
    return { last: this.timings.at(-1) };
  }
}
