/**
 * Remote image writer: `await ImageWriter.create(exp, { server, data })` from
 * `concert/addons/remote`. The writer server writes each acquisition through its own walker
 * (drive it with `RemoteDirectoryWalker`).
 * @module
 */
import type { Acquisition } from '../../experiments/acquisition.js';
import {
  datasetEstimate,
  unknownBytes,
  type AcquisitionPlan,
  type AddonEstimate,
  type PlanContext,
} from '../../experiments/estimate.js';
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

  /**
   * The dataset the writer server would write: with the experiment's `RemoteDirectoryWalker` of
   * the same server, the TIFF bytes of its layout (exact) and the server's free space.
   */
  override async estimate(
    acquisition: Acquisition,
    plan: AcquisitionPlan,
    context: PlanContext,
  ): Promise<AddonEstimate | undefined> {
    if (!(await this.serverAnswers(context))) return unknownBytes('the server does not answer');
    const walker = this.experiment.walker;
    if (!(walker instanceof RemoteDirectoryWalker) || walker.client.endpoint !== this.server.endpoint)
      return unknownBytes(`the layout of ${this.server.endpoint}'s datasets is not known here`);
    return datasetEstimate(walker, acquisition.name, plan);
  }

  /** Frames and bytes on disk of each acquisition's dataset, as the server reports its last one of each. */
  async actuals(): Promise<Record<string, { frames: number; bytes: number }>> {
    const status = await this.server.request<{
      extra?: { lastDatasets?: Record<string, { frames: number; bytes: number }> };
    }>('status', undefined, { timeoutMs: 1000 });
    const last = status.extra?.lastDatasets ?? {};
    const names = new Set(this.acquisitions.map((a) => a.name));
    return Object.fromEntries(Object.entries(last).filter(([name]) => names.has(name)));
  }

  protected override streamParams(_acquisition: Acquisition): Record<string, unknown> {
    const walker = this.experiment.walker;
    if (!(walker instanceof RemoteDirectoryWalker) || walker.client.endpoint !== this.server.endpoint) return {};
    return { at: walker.at, layout: walker.layout };
  }
}
