/**
 * Remote image writer: `await ImageWriter.create(exp, { server, data })` from
 * `concert/addons/remote`. The writer server writes each acquisition through its own walker
 * (drive it with `RemoteDirectoryWalker`).
 * @module
 */
import type { Acquisition } from '../../experiments/acquisition.js';
import { RemoteDirectoryWalker } from '../../walkers/index.js';
import { RemoteAddon } from './addon.js';

/**
 * Lossless: the camera waits when the writer is behind; every frame is counted at the end.
 * When the experiment's walker is a `RemoteDirectoryWalker` of the same server, each stream
 * carries the walker's position and dataset layout, so a server restarted mid-run still writes
 * the dataset into the run's scan directory.
 */
export class ImageWriter extends RemoteAddon {
  protected readonly lossless = true;

  protected override streamParams(_acquisition: Acquisition): Record<string, unknown> {
    const walker = this.experiment.walker;
    if (!(walker instanceof RemoteDirectoryWalker) || walker.client.endpoint !== this.server.endpoint) return {};
    return { at: walker.at, layout: walker.layout };
  }
}
