/**
 * Remote benchmarker: times each acquisition's stream on a benchmarker server.
 * @module
 */
import type { StreamTiming } from './server/benchmarker.js';
import { RemoteAddon } from './addon.js';

/** Lossless: counts every frame and times the stream on the server. */
export class Benchmarker extends RemoteAddon {
  protected readonly lossless = true;

  /** The server's timings of every stream so far. */
  timings(): Promise<StreamTiming[]> {
    return this.server.request('timings');
  }
}
