/**
 * The walk of a dry run: each acquisition's plan in run order, each addon's estimate of it, the
 * experiment's own steps before and after, then the free space of every file system written to.
 * @module
 * @internal
 */
import { errorMessage, type Logger } from '../core/index.js';
import type { Acquisition, AcquisitionResult } from './acquisition.js';
import type { ExperimentAddon } from './addon.js';
import {
  ExperimentEstimate,
  PlanContext,
  type AcquisitionEstimate,
  type AcquisitionPlan,
  type AddonEstimate,
} from './estimate.js';

/** What the walk needs of the experiment. */
export interface EstimateSubject {
  readonly name: string;
  readonly acquisitions: readonly Acquisition[];
  readonly addons: readonly ExperimentAddon[];
  /** The experiment's steps before the first acquisition (ms). */
  before(context: PlanContext): Promise<number>;
  /** The experiment's steps after the last acquisition (ms). */
  after(context: PlanContext): Promise<number>;
}

/** Walks `subject` without moving anything and reports what a run would do. */
export async function walkEstimate(subject: EstimateSubject): Promise<ExperimentEstimate> {
  const started = performance.now();
  const context = new PlanContext();
  let overheadMs = await subject.before(context);
  const acquisitions: AcquisitionEstimate[] = [];
  for (const acquisition of subject.acquisitions) {
    let plan: AcquisitionPlan;
    try {
      plan = await acquisition.plan(context);
    } catch (error) {
      context.limit(acquisition.name, `acquisition '${acquisition.name}' cannot be planned: ${errorMessage(error)}`);
      plan = { frames: acquisition.expectedFrames ?? 0, durationMs: 0 };
    }
    for (const reason of plan.unknown ?? []) context.note(reason);
    const addons: Record<string, AddonEstimate> = {};
    for (const addon of subject.addons) {
      if (!addon.estimate) continue;
      if (addon.acquisitions && !addon.acquisitions.includes(acquisition)) continue;
      let estimate: AddonEstimate | undefined;
      try {
        estimate = await addon.estimate(acquisition, plan, context);
      } catch (error) {
        context.limit(addon.name, `${addon.name}: cannot estimate '${acquisition.name}': ${errorMessage(error)}`);
        estimate = { bytes: undefined, exact: false, note: errorMessage(error) };
      }
      if (!estimate) continue;
      addons[addon.name] = estimate;
      if (estimate.storage !== undefined && estimate.bytes !== undefined)
        context.store(estimate.storage, estimate.bytes, addon.name);
    }
    acquisitions.push({ name: acquisition.name, frames: plan.frames, durationMs: plan.durationMs, addons });
  }
  overheadMs += await subject.after(context);
  await context.checkStorage();
  return new ExperimentEstimate(
    subject.name,
    acquisitions,
    overheadMs,
    context.limits,
    context.notes,
    performance.now() - started,
  );
}

/** What a run did, beside what its estimate said (`run.result.actual`). */
export interface RunActuals {
  frames: number;
  durationMs: number;
  /** Bytes written per addon (undefined where the addon does not count them). */
  bytes: Record<string, number | undefined>;
  /** Per acquisition: frames, and bytes per addon. */
  acquisitions: Record<string, { frames: number; durationMs: number; bytes: Record<string, number | undefined> }>;
}

/** The relative error of each estimated figure: (actual − estimate) / estimate (0: exact). */
export interface EstimateErrors {
  framesError: number;
  durationError: number;
  /** Per addon; undefined where either figure is unknown. */
  bytesError: Record<string, number | undefined>;
}

/** The actuals of a run from its acquisition results and the addons' own counts. */
export async function runActuals(
  results: Record<string, AcquisitionResult>,
  addons: readonly ExperimentAddon[],
  durationMs: number,
): Promise<RunActuals> {
  const acquisitions: RunActuals['acquisitions'] = {};
  for (const [name, r] of Object.entries(results))
    acquisitions[name] = { frames: r.frames, durationMs: r.durationMs, bytes: {} };
  const bytes: Record<string, number | undefined> = {};
  for (const addon of addons) {
    let actuals: Record<string, { frames: number; bytes?: number }> | undefined;
    try {
      actuals = await addon.actuals?.();
    } catch {
      actuals = undefined; // a server gone after the run: its bytes are unknown
    }
    if (!actuals) continue;
    let total: number | undefined = 0;
    for (const [name, a] of Object.entries(actuals)) {
      if (acquisitions[name]) acquisitions[name].bytes[addon.name] = a.bytes;
      total = total === undefined || a.bytes === undefined ? undefined : total + a.bytes;
    }
    bytes[addon.name] = total;
  }
  const frames = Object.values(results).reduce((n, r) => n + r.frames, 0);
  return { frames, durationMs, bytes, acquisitions };
}

/** The errors of `estimate` against `actual`. */
export function estimateErrors(estimate: ExperimentEstimate, actual: RunActuals): EstimateErrors {
  const total = estimate.total;
  const relative = (a: number | undefined, e: number | undefined) =>
    a === undefined || e === undefined ? undefined : e === 0 ? (a === 0 ? 0 : Infinity) : (a - e) / e;
  const bytesError: Record<string, number | undefined> = {};
  for (const name of new Set([...Object.keys(total.bytes), ...Object.keys(actual.bytes)]))
    bytesError[name] = relative(actual.bytes[name], total.bytes[name]);
  return {
    framesError: relative(actual.frames, total.frames) ?? 0,
    durationError: relative(actual.durationMs, total.durationMs) ?? 0,
    bytesError,
  };
}

/** The dry run at the start of a run: limits are logged as warnings; a failure is logged, never fails the run. */
export async function startEstimate(experiment: {
  estimate(): Promise<ExperimentEstimate>;
  readonly log: Logger;
}): Promise<ExperimentEstimate | undefined> {
  try {
    const estimate = await experiment.estimate();
    for (const limit of estimate.limits)
      experiment.log.warn(`the estimate says the run would hit a limit: ${limit.message}`);
    return estimate;
  } catch (error) {
    experiment.log.warn(`no estimate for this run: ${errorMessage(error)}`);
    return undefined;
  }
}

/** `duration +4.0 %, writer bytes exact` for the log. */
export function describeErrors(errors: EstimateErrors): string {
  const percent = (e: number) => (e === 0 ? 'exact' : `${e > 0 ? '+' : ''}${(e * 100).toFixed(1)} %`);
  return [
    `duration ${percent(errors.durationError)}`,
    ...(errors.framesError !== 0 ? [`frames ${percent(errors.framesError)}`] : []),
    ...Object.entries(errors.bytesError)
      .filter((e): e is [string, number] => e[1] !== undefined)
      .map(([name, e]) => `${name} bytes ${percent(e)}`),
  ].join(', ');
}
