/**
 * What an experiment needs of an addon. Experiments call addons one way, as Python Concert does:
 * `experiment.attach(addon)` → `addon.attach(acquisitions)`; an addon never calls back into the
 * experiment's attach or detach. The `Addon` base in concert/addons implements this interface.
 * @module
 */
import type { Acquisition } from './acquisition.js';
import type { AcquisitionPlan, AddonEstimate, PlanContext } from './estimate.js';

/** The part of an addon an {@link Experiment} uses: attach to acquisitions, detach, hear a run end. */
export interface ExperimentAddon {
  /** Used in messages and summaries. */
  readonly name: string;
  /** False once the addon detached itself (the experiment then forgets it). */
  readonly attached: boolean;
  /**
   * Starts consuming `acquisitions` (those the addon does not select are skipped; ones it already
   * consumes are a no-op). The experiment calls it with all its acquisitions on
   * `experiment.attach(addon)` and with each one added later.
   * @throws AddonError if the addon cannot consume them (e.g. a named acquisition is missing).
   */
  attach(acquisitions: readonly Acquisition[]): void;
  /** Stops consuming every acquisition; during a run the consumers finish cleanly first. */
  detach(): Promise<void>;
  /** Called after every experiment run (finished, failed or cancelled). */
  runFinished?(): Promise<void>;
  /** The acquisitions it consumes (a dry run asks it about these only). */
  readonly acquisitions?: readonly Acquisition[];
  /**
   * What it would write for one run of `acquisition` as `plan` describes it (dry runs); records
   * the limits it would hit (a server that does not answer) in `context`. Undefined: it writes nothing.
   */
  estimate?(acquisition: Acquisition, plan: AcquisitionPlan, context: PlanContext): Promise<AddonEstimate | undefined>;
  /**
   * What it wrote in the run that just ended, per acquisition (read before `runFinished`): frames
   * and bytes, for `run.result.actual`.
   */
  actuals?(): Promise<Record<string, { frames: number; bytes?: number }>>;
}
