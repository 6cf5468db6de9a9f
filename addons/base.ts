/**
 * Addons: things attached to an experiment that consume its acquisitions' frames (writers, live
 * views, reconstructions, benchmarks…). `await X.create(experiment, options)` makes one and attaches
 * it (`experiment.attach(addon)` → `addon.attach(acquisitions)`); `addon.detach()` or
 * `experiment.detach(addon)` stops it.
 * @module
 */
import { inspect } from 'node:util';
import { OptionError, parseOptions, sessionDefaultName, show, z, type OptionsSchema } from '../core/index.js';
import type { Acquisition } from '../experiments/acquisition.js';
import { frameConsumer, type DeliveryPolicy, type FrameConsumer } from '../experiments/consumer.js';
import type { ExperimentAddon } from '../experiments/addon.js';
import type { AcquisitionPlan, AddonEstimate, PlanContext } from '../experiments/estimate.js';
import { Experiment as ExperimentClass, type Experiment } from '../experiments/experiment.js';
import { AddonError } from './errors.js';

/** The options every addon accepts; each addon extends them (`ADDON_OPTIONS.extend({...})`). */
export const ADDON_OPTIONS = z.strictObject({
  /** Only these acquisitions (default: all, including ones added later). */
  acquisitions: z.array(z.string()).optional(),
  /** Name in summaries and messages (default: the class name). */
  name: z.string().optional(),
});

/** Options every addon accepts. */
export type AddonOptions = z.input<typeof ADDON_OPTIONS>;

/** What `ddoc`-style summaries show of an addon. */
export interface AddonSummary {
  name: string;
  kind: 'local' | 'remote';
  attached: string[];
  frames: number;
  dropped: number;
  /** Addon-specific counters (bytes written, fps, …). */
  [key: string]: unknown;
}

/** A concrete addon class, as `create()` sees it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- constructors differ per addon
export type AddonClass = (new (experiment: Experiment, ...rest: any[]) => Addon) & {
  readonly options: OptionsSchema;
  readonly name: string;
};

/** The constructor parameters of an addon class after the experiment. */
type AfterExperiment<C extends AddonClass> = ConstructorParameters<C> extends [Experiment, ...infer R] ? R : never;

/** Base of all addons. Subclasses make one consumer per acquisition. */
export abstract class Addon implements ExperimentAddon {
  /** The schema of the options `create()` accepts; subclasses extend it. */
  static readonly options: OptionsSchema = ADDON_OPTIONS;
  /** Local addons get frames in this process; remote ones in a server process. */
  abstract readonly kind: 'local' | 'remote';
  readonly name: string;
  readonly #only: string[] | undefined;
  readonly #consumers = new Map<Acquisition, FrameConsumer>();
  #attached = false;

  constructor(
    readonly experiment: Experiment,
    options: AddonOptions = {},
  ) {
    const kind = this.constructor.name;
    checkExperiment(kind, experiment);
    parseOptions(`${kind}.create`, (this.constructor as typeof Addon).options, options);
    this.name = options.name ?? sessionDefaultName(kind) ?? kind;
    this.#only = options.acquisitions;
  }

  /**
   * Makes the addon and attaches it to the experiment.
   * @throws OptionError for bad options, AddonError for an acquisition the experiment lacks.
   */
  static async create<C extends AddonClass>(
    this: C,
    experiment: Experiment,
    ...rest: AfterExperiment<C>
  ): Promise<InstanceType<C>> {
    checkExperiment(this.name, experiment);
    const addon = new this(experiment, ...rest) as InstanceType<C>;
    await addon.setup();
    await experiment.attach(addon);
    return addon;
  }

  /** Prepares resources before the first attach (open connections, check options). */
  protected async setup(): Promise<void> {}

  /** Makes this addon's consumer for one acquisition. */
  protected abstract consumerFor(acquisition: Acquisition): FrameConsumer;

  /** A local consumer of `acquisition` named `<addon>:<acquisition>`. */
  protected localConsumer(
    acquisition: Acquisition,
    consume: FrameConsumer['consume'],
    options: { policy?: DeliveryPolicy; queueSize?: number } = {},
  ): FrameConsumer {
    return frameConsumer(`${this.name}:${acquisition.name}`, consume, options);
  }

  /** What the prompt prints: `ImageWriter writer (attached: darks, radios)`. */
  [inspect.custom](): string {
    const state = this.#attached
      ? `attached: ${this.acquisitions.map((a) => a.name).join(', ') || 'none'}`
      : 'detached';
    return `${this.constructor.name} ${this.name} (${state})`;
  }

  /** True while attached. */
  get attached(): boolean {
    return this.#attached;
  }

  /** The acquisitions this addon consumes. */
  get acquisitions(): Acquisition[] {
    return [...this.#consumers.keys()];
  }

  /**
   * Starts consuming `acquisitions` (those not selected by the `acquisitions` option are skipped,
   * ones already consumed are a no-op). The experiment calls it: attach an addon with
   * `await experiment.attach(addon)` (which `create()` does).
   * @throws AddonError on the first attach if a selected acquisition is not among them.
   */
  attach(acquisitions: readonly Acquisition[]): void {
    if (!this.#attached) {
      const names = acquisitions.map((a) => a.name);
      for (const wanted of this.#only ?? [])
        if (!names.includes(wanted))
          throw new AddonError(
            `${this.name}: the experiment has no acquisition '${wanted}' (it has: ${names.join(', ') || 'none'})`,
          );
      this.#attached = true;
    }
    for (const acquisition of acquisitions) {
      if (this.#consumers.has(acquisition)) continue;
      if (this.#only && !this.#only.includes(acquisition.name)) continue;
      const consumer = this.consumerFor(acquisition);
      acquisition.attach(consumer);
      this.#consumers.set(acquisition, consumer);
    }
  }

  /**
   * Stops consuming every acquisition; during a run the consumers finish cleanly first. The
   * experiment drops a detached addon from its `addons`; `experiment.attach(addon)` attaches it again.
   */
  async detach(): Promise<void> {
    if (!this.#attached) return;
    this.#attached = false;
    const consumers = [...this.#consumers];
    this.#consumers.clear();
    await Promise.all(consumers.map(([a, c]) => a.detach(c)));
  }

  /** Called after every experiment run (finished, failed or cancelled). */
  async runFinished(): Promise<void> {}

  /**
   * What this addon would write for one run of `acquisition` (dry runs, `experiment.estimate()`);
   * undefined (the default): it writes nothing. Writers override it.
   */
  async estimate(
    _acquisition: Acquisition,
    _plan: AcquisitionPlan,
    _context: PlanContext,
  ): Promise<AddonEstimate | undefined> {
    return undefined;
  }

  /** Frames seen and dropped per acquisition, plus addon-specific counters. */
  summary(): AddonSummary {
    let frames = 0;
    let dropped = 0;
    for (const [a, c] of this.#consumers) {
      const s = a.stats(c);
      frames += s?.frames ?? 0;
      dropped += s?.dropped ?? 0;
    }
    return {
      name: this.name,
      kind: this.kind,
      attached: this.acquisitions.map((a) => a.name),
      frames,
      dropped,
      ...this.counters(),
    };
  }

  /** Addon-specific counters for {@link summary}. */
  protected counters(): Record<string, unknown> {
    return {};
  }
}

/** @throws OptionError unless `experiment` is an Experiment (the first argument of every addon's `create()`). */
function checkExperiment(kind: string, experiment: unknown): asserts experiment is Experiment {
  if (!(experiment instanceof ExperimentClass))
    throw new OptionError(
      `${kind}.create: the first argument must be the Experiment to attach to (await ${kind}.create(experiment, { … })), ` +
        `got ${show(experiment)}`,
    );
}
