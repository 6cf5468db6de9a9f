/**
 * Experiments: an ordered list of acquisitions run one after another, with a walker that gives
 * each run its own scan directory, a log, and JSON snapshots of every device before and after.
 * @module
 */
import {
  checkSignalOptions,
  isAbortError,
  parseOptions,
  Parameterizable,
  progress,
  soft,
  type Frame,
  type Progress,
  type OptionsSchema,
  z,
  zfunction,
  errorMessage,
} from '../core/index.js';
import { formatFileName, zwalker, type Walker } from '../walkers/index.js';
import { Acquisition, type AcquisitionResult } from './acquisition.js';
import type { ExperimentAddon } from './addon.js';
import { ExperimentError } from './errors.js';
import { Flag } from './flag.js';
import type { Checkpoint, PauseControl } from './pause.js';
import { runSnapshot, teeLog } from './run-record.js';
import type { ExperimentEstimate, PlanContext } from './estimate.js';
import {
  describeErrors,
  estimateErrors,
  runActuals,
  startEstimate,
  walkEstimate,
  type EstimateErrors,
  type RunActuals,
} from './estimate-walk.js';
import { RunControl, type RunHandle } from './run-control.js';
import { Suspender, Suspenders, type Suspension, type SuspendCondition, type SuspendOptions } from './suspender.js';

/** Experiment states. */
export type ExperimentState = 'standby' | 'running' | 'paused' | 'cancelled' | 'error';

/**
 * How a run ended, as `experiment_finish.json` records it (`outcome`, with `error` holding the
 * message of a failure or cancellation).
 */
export type RunOutcome = 'complete' | 'cancelled' | 'error';

/** The options of {@link Experiment.create}; imaging experiments extend them. */
export const EXPERIMENT_OPTIONS = z.strictObject({
  /** Name in messages, logs and snapshots (default `experiment`). */
  name: z.string().optional(),
  /** Where data, logs and snapshots go (default: nowhere). */
  walker: zwalker.optional(),
  /** Give each run its own directory named by `nameFmt` (default true). */
  separateScans: z.boolean().optional(),
  /** Directory name of a run, with one index placeholder (default `scan_{:04}`). */
  nameFmt: z.string().optional(),
  /** Called before the first acquisition of each run. */
  prepare: zfunction<(signal: AbortSignal) => Promise<void>>().optional(),
  /** Called after the last acquisition of each run, also after a failure or cancel. */
  finish: zfunction<(signal: AbortSignal) => Promise<void>>().optional(),
  /**
   * Called when a paused run is held at `checkpoint`: bring the hardware into a safe, resumable
   * state (close the shutter, stop the motors). `pause()` resolves after it.
   */
  enterSafeState: zfunction<(signal: AbortSignal, checkpoint: Checkpoint) => Promise<void>>().optional(),
  /** Called on `resume()` before the run goes on from `checkpoint`: bring the hardware back. */
  leaveSafeState: zfunction<(signal: AbortSignal, checkpoint: Checkpoint) => Promise<void>>().optional(),
});

/** Options of {@link Experiment.create}. */
export type ExperimentOptions = z.input<typeof EXPERIMENT_OPTIONS>;

/** What a finished run reports. */
export interface ExperimentResult {
  iteration: number;
  directory: string | undefined;
  acquisitions: Record<string, AcquisitionResult>;
  durationMs: number;
  /** Every time a suspender held the run, with its cause and duration (also in `experiment_finish.json`). */
  suspensions: Suspension[];
  /** The dry run made when the run started (undefined if it failed; its error is logged). */
  estimate: ExperimentEstimate | undefined;
  /** What the run did: frames, bytes written per addon, duration (from after the estimate to after `finish`). */
  actual: RunActuals;
  /** The relative error of each estimated figure (`durationError: 0.04`: the run took 4 % longer). */
  errors: EstimateErrors | undefined;
}

/**
 * A run in progress: a promise of its result that can also `cancel()` (the producer stops,
 * motors stop, writers close; resolves when cleanup is done), `pause()` (held at the next frame
 * or acquisition, the hardware brought into its safe state; see {@link Experiment.pause}) and
 * `resume()`.
 */
export type ExperimentRun = RunHandle<ExperimentResult>;

/** An experiment: `await Experiment.create([darks, flats, radios], { walker })`. */
export class Experiment extends Parameterizable {
  /** The schema of the options `create()` accepts; subclasses extend it. */
  static readonly options: OptionsSchema = EXPERIMENT_OPTIONS;
  readonly state = this.stateParameter<ExperimentState>({ initial: 'standby' });
  /** Index of the next run (skips existing scan directories). */
  readonly iteration = this.parameter<number>('iteration', {
    ...soft(0, 'index of the next run'),
    validate: (v) => checkIndex(this.name, v),
  });
  readonly separateScans = this.parameter<boolean>('separateScans', soft(true, 'a directory per run'));
  readonly nameFmt = this.parameter<string>('nameFmt', {
    ...soft('scan_{:04}', 'name of the directory of a run'),
    validate: (v) => void formatFileName(v, 0),
  });
  /** Directory name of the current (or last) run. */
  readonly currentName = this.parameter<string>('currentName', {
    read: () => this.#currentName,
    help: 'directory of the current run',
  });
  /** Set when the sample may be changed: after a run's last acquisition. */
  readonly readyToPrepareNextSample = new Flag(true);

  readonly walker: Walker | undefined;
  #acquisitions: Acquisition[] = [];
  readonly #addons = new Set<ExperimentAddon>();
  readonly #hooks: Pick<ExperimentOptions, 'prepare' | 'finish' | 'enterSafeState' | 'leaveSafeState'>;
  /** The acquisition running now, if any. */
  #current: Acquisition | undefined;
  #currentName = '';
  readonly #control: RunControl<ExperimentResult>;
  readonly #suspenders = new Suspenders();
  /** The progress bar of the current run. */
  #bar: Progress | undefined;

  /** Makes an experiment from acquisitions (run in this order). @throws OptionError */
  static async create(acquisitions: Acquisition[], options: ExperimentOptions = {}): Promise<Experiment> {
    parseOptions('Experiment.create', EXPERIMENT_OPTIONS, options);
    return new Experiment(acquisitions, options);
  }

  constructor(acquisitions: Acquisition[] = [], options: ExperimentOptions = {}) {
    super({ name: options.name }, lowerFirst(new.target.name));
    this.#control = new RunControl(
      this,
      this.state,
      {
        enter: (checkpoint, signal) => this.#safely('enter', () => this.enterSafeState(signal, checkpoint)),
        leave: (checkpoint, signal) => this.#safely('leave', () => this.leaveSafeState(signal, checkpoint)),
        refusal: () => {
          const why = this.pauseRefusal(this.#current);
          return why === undefined ? undefined : new ExperimentError(`${this.name} cannot be paused now: ${why}`);
        },
        stillHeld: (n) =>
          this.log.warn(
            `resume(): still suspended by ${this.#suspenders.causes() || `${n} suspender(s)`}; ` +
              'the run goes on when the condition clears',
          ),
      },
      (paused) => this.#bar?.status(paused ? 'paused' : undefined),
    );
    if (!Array.isArray(acquisitions))
      throw new ExperimentError(`Experiment.create: acquisitions must be an array of Acquisition`);
    for (const a of acquisitions) this.add(a);
    this.walker = options.walker;
    this.#hooks = {
      prepare: options.prepare,
      finish: options.finish,
      enterSafeState: options.enterSafeState,
      leaveSafeState: options.leaveSafeState,
    };
    if (options.separateScans !== undefined) void this.separateScans.set(options.separateScans);
    if (options.nameFmt !== undefined) {
      formatFileName(options.nameFmt, 0);
      void this.nameFmt.set(options.nameFmt);
    }
  }

  /** The acquisitions, in run order. */
  get acquisitions(): readonly Acquisition[] {
    return this.#acquisitions;
  }

  /** The attached addons (an addon that detached itself is dropped). */
  get addons(): readonly ExperimentAddon[] {
    this.#forgetDetached();
    return [...this.#addons];
  }

  /**
   * The printed form: `ContinuousTomography experiment (standby) { iteration: 0, acquisitions:
   * darks (10), radios (200), addons: writer }` (`ddoc(experiment)` lists every parameter).
   */
  protected override inspectFields(): string[] {
    const acquisitions = this.#acquisitions.map((a) =>
      a.expectedFrames === undefined ? a.name : `${a.name} (${a.expectedFrames})`,
    );
    return [
      `iteration: ${this.iteration.lastValue === undefined ? '?' : this.iteration.describe(this.iteration.lastValue)}`,
      `acquisitions: ${acquisitions.join(', ') || 'none'}`,
      `addons: ${this.addons.map((a) => a.name).join(', ') || 'none'}`,
    ];
  }

  #forgetDetached(): void {
    for (const addon of this.#addons) if (!addon.attached) this.#addons.delete(addon);
  }

  /** True while a run is in progress. */
  get running(): boolean {
    return this.#control.running;
  }

  /** Reads the state (`standby`, `running`, `paused`, `cancelled`, `error`), as devices' `getState()`. */
  async getState(): Promise<ExperimentState> {
    return this.state.get() as Promise<ExperimentState>;
  }

  /** Adds an acquisition at the end; attached addons attach to it too. */
  add(acquisition: Acquisition): void {
    if (!(acquisition instanceof Acquisition))
      throw new ExperimentError(`${this.name}.add: expected an Acquisition, got ${typeof acquisition}`);
    if (this.#acquisitions.some((a) => a.name === acquisition.name))
      throw new ExperimentError(`${this.name} already has an acquisition named '${acquisition.name}'`);
    this.#acquisitions.push(acquisition);
    for (const addon of this.addons) addon.attach([acquisition]);
  }

  /** Removes an acquisition. */
  remove(acquisition: Acquisition | string): void {
    const a = this.getAcquisition(typeof acquisition === 'string' ? acquisition : acquisition.name);
    this.#acquisitions = this.#acquisitions.filter((x) => x !== a);
  }

  /** Swaps the run order of two acquisitions. */
  swap(first: Acquisition | string, second: Acquisition | string): void {
    const a = this.#acquisitions.indexOf(this.getAcquisition(typeof first === 'string' ? first : first.name));
    const b = this.#acquisitions.indexOf(this.getAcquisition(typeof second === 'string' ? second : second.name));
    [this.#acquisitions[a], this.#acquisitions[b]] = [this.#acquisitions[b]!, this.#acquisitions[a]!];
  }

  /** The acquisition called `name`. @throws ExperimentError listing the names that exist. */
  getAcquisition(name: string): Acquisition {
    const a = this.#acquisitions.find((x) => x.name === name);
    if (!a)
      throw new ExperimentError(
        `${this.name} has no acquisition '${name}' (it has: ${this.#acquisitions.map((x) => x.name).join(', ') || 'none'})`,
      );
    return a;
  }

  /**
   * Attaches an addon to every acquisition (and to those added later); a no-op if attached.
   * @throws AddonError (from the addon) if it cannot consume them; it is not attached then.
   */
  async attach(addon: ExperimentAddon): Promise<void> {
    this.#forgetDetached();
    if (this.#addons.has(addon)) return;
    addon.attach(this.#acquisitions);
    this.#addons.add(addon);
  }

  /** Detaches an addon; during a run its consumers finish cleanly. */
  async detach(addon: ExperimentAddon): Promise<void> {
    if (!this.#addons.delete(addon)) return;
    await addon.detach();
  }

  /**
   * A dry run: what a run would do — frames, bytes per addon and duration, per acquisition and
   * in total — and every limit it would hit (a motor target outside its limits, a ROI beyond the
   * sensor, too little free space, a server that does not answer), without moving hardware or
   * taking frames. Bad configuration is reported as a limit; the report prints as a table.
   * @example
   * ```ts
   * const plan = await experiment.estimate();
   * plan.total.durationMs; plan.limits; console.log(String(plan));
   * ```
   */
  async estimate(): Promise<ExperimentEstimate> {
    return walkEstimate({
      name: this.name,
      acquisitions: this.#acquisitions,
      addons: this.addons,
      before: (context) => this.planBefore(context),
      after: (context) => this.planAfter(context),
    });
  }

  /** The dry run of what {@link prepare} does (ms); subclasses that move hardware there extend it. */
  protected async planBefore(_context: PlanContext): Promise<number> {
    return 0;
  }

  /** The dry run of what {@link finish} does (ms): imaging experiments move the motors back. */
  protected async planAfter(_context: PlanContext): Promise<number> {
    return 0;
  }

  /** Called before the first acquisition of each run; subclasses extend it. */
  protected async prepare(signal: AbortSignal): Promise<void> {
    await this.#hooks.prepare?.(signal);
  }

  /** Called after the last acquisition, also after a failure or cancel; subclasses extend it. */
  protected async finish(signal: AbortSignal): Promise<void> {
    await this.#hooks.finish?.(signal);
  }

  /**
   * Brings the hardware into a safe, resumable state once a paused run is held at `checkpoint`
   * (a restartable acquisition's producer is closed by then). Default: the `enterSafeState`
   * option. Imaging experiments stop the exposure, the camera and the motors.
   */
  protected async enterSafeState(signal: AbortSignal, checkpoint: Checkpoint): Promise<void> {
    await this.#hooks.enterSafeState?.(signal, checkpoint);
  }

  /**
   * Brings the hardware back before a paused run goes on from `checkpoint` (a restartable
   * producer then restarts at `checkpoint.frames` and sets up its own positions). Default: the
   * `leaveSafeState` option.
   */
  protected async leaveSafeState(signal: AbortSignal, checkpoint: Checkpoint): Promise<void> {
    await this.#hooks.leaveSafeState?.(signal, checkpoint);
  }

  /**
   * Why a run cannot be paused while `current` runs (`undefined` if it can; between acquisitions
   * `current` is undefined). By default a remote acquisition cannot be paused: its frames go from
   * the camera server straight to the remote addons and cannot be held between two frames.
   */
  protected pauseRefusal(current: Acquisition | undefined): string | undefined {
    if (current && !current.local)
      return (
        `acquisition '${current.name}' sends its frames from the camera server straight to remote addons, which ` +
        `cannot be held between two frames; cancel() the run instead, or pause between acquisitions`
      );
    return undefined;
  }

  async #safely(step: 'enter' | 'leave', hook: () => Promise<void>): Promise<void> {
    try {
      await hook();
      this.log.info(step === 'enter' ? 'paused: the hardware is in its safe state' : 'resumed');
    } catch (error) {
      if (isAbortError(error)) throw error;
      throw new ExperimentError(
        `${this.name}: ${step === 'enter' ? 'bringing the hardware into its safe state' : 'leaving the safe state'} ` +
          `failed: ${errorMessage(error)}`,
        { cause: error },
      );
    }
  }

  /**
   * Starts a run and returns its handle: `await exp.run()`, or keep the handle to `cancel()`,
   * `pause()` or `resume()` it. Ctrl-C in the REPL and `abort()` cancel it too.
   * @throws TransitionNotAllowed if a run is in progress.
   */
  run(options: { signal?: AbortSignal } = {}): ExperimentRun {
    checkSignalOptions(() => `${this.name}.run`, options);
    return this.#control.start(options.signal, (signal, pause) => this.#execute(signal, pause));
  }

  /**
   * Pauses the current run: it holds before its next frame (a restartable acquisition is
   * interrupted at once) or before its next acquisition, then {@link enterSafeState} brings the
   * hardware into its safe state. Resolves with where the run is held (`undefined` if it ended
   * first). The state is `paused` from the call on.
   * @throws ExperimentError at once when the run cannot be paused now, saying why.
   */
  pause(): Promise<Checkpoint | undefined> {
    return this.#control.pause();
  }

  /** Resumes a paused run from where it is held; resolves when it goes on. */
  resume(): Promise<void> {
    return this.#control.resume();
  }

  /** Where a paused run is held (`undefined` while it is not). */
  get checkpoint(): Checkpoint | undefined {
    return this.#control.checkpoint;
  }

  /** Cancels the current run (if any) and waits for its cleanup. */
  cancel(): Promise<void> {
    return this.#control.cancel();
  }

  /**
   * Suspends every run while `condition` is true: the run is paused (the hardware in its safe
   * state, see {@link pause}) and goes on from where it was held once the condition has been
   * false for `resumeAfter`, after `beforeResume` (if given). Each suspension is logged and kept
   * in the result and in `experiment_finish.json`, with its cause and duration. A suspender
   * never resumes a run the user paused.
   * @example
   * ```ts
   * exp.suspendWhen({ parameter: ring.current, when: (c: Unit) => c.toNumber('mA') < 100 },
   *   { cause: 'ring current below 100 mA', resumeAfter: q('30 s') });
   * exp.suspendWhen(ringDevice.subscribe('current', 'change').pipe(map((r) => Number(r.value) < 100)),
   *   { cause: 'beam lost', beforeResume: async (signal) => { await refreshFlats(signal); } });
   * ```
   * @returns the suspender; `remove()` stops it.
   * @throws OptionError for a condition of none of the kinds, unknown options or bad values.
   */
  suspendWhen(condition: SuspendCondition, options: SuspendOptions = {}): Suspender {
    return this.#suspenders.add(new Suspender(this.name, condition, options));
  }

  /** The registered suspenders. */
  get suspenders(): readonly Suspender[] {
    return this.#suspenders.list;
  }

  async #execute(signal: AbortSignal, pause: PauseControl): Promise<ExperimentResult> {
    const started = performance.now();
    this.state.enter('running');
    this.readyToPrepareNextSample.clear();
    const estimate = await startEstimate(this);
    const measured = performance.now();
    const walker = this.walker;
    await walker?.runStarting();
    const iteration = await this.#chooseIteration();
    const separate = await this.separateScans.get();
    this.#currentName = separate ? formatFileName(await this.nameFmt.get(), iteration) : '';
    const results: Record<string, AcquisitionResult> = {};
    const suspensions: Suspension[] = [];
    let stopSuspenders: (() => void) | undefined;
    let descended = false;
    let restoreLog: (() => Promise<void>) | undefined;
    let failure: unknown;
    try {
      if (walker && separate) {
        await walker.descend(this.#currentName);
        descended = true;
      }
      if (walker) restoreLog = teeLog(walker);
      this.log.info(`run ${iteration} started${walker ? ` in ${walker.current}` : ''}`);
      if (walker)
        await walker.writeText('experiment_start.json', await runSnapshot(this, this.#acquisitions, iteration));
      await this.prepare(signal);
      const control = this.#control;
      stopSuspenders = this.#suspenders.watch(
        {
          hold: (holder) => control.hold(holder),
          release: (holder) => control.release(holder),
          fail: (error) => control.fail(error),
          get checkpoint() {
            return control.checkpoint;
          },
          signal,
          log: this.log,
        },
        suspensions,
      );
      const total = this.#acquisitions.reduce((n, a) => n + (a.expectedFrames ?? 0), 0);
      const bar = progress(`${this.name} ${this.#currentName}`.trim(), total || undefined);
      this.#bar = bar;
      try {
        let before = 0;
        for (const acquisition of this.#acquisitions) {
          signal.throwIfAborted();
          if (pause.requested) await pause.hold({ acquisition: acquisition.name, frames: 0, restarts: false }, signal);
          this.log.info(`acquisition '${acquisition.name}' started`);
          this.#current = acquisition;
          const base = before;
          try {
            results[acquisition.name] = await acquisition.run({
              signal,
              pause,
              onFrame: (n) => bar.advanceTo(base + n),
            });
          } finally {
            this.#current = undefined;
          }
          before += results[acquisition.name]!.frames;
          this.log.info(`acquisition '${acquisition.name}' finished: ${results[acquisition.name]!.frames} frames`);
        }
      } finally {
        this.#bar = undefined;
        bar.done();
      }
    } catch (error) {
      failure = error;
    } finally {
      stopSuspenders?.();
    }
    // Cleanup always runs, with a signal of its own (the run's may be aborted).
    const cleanup = new AbortController().signal;
    try {
      await this.finish(cleanup);
    } catch (error) {
      failure ??= error;
    }
    const actual = await runActuals(results, this.addons, performance.now() - measured);
    const errors = estimate && failure === undefined ? estimateErrors(estimate, actual) : undefined;
    if (errors) this.log.info(`estimate vs run: ${describeErrors(errors)}`);
    try {
      await Promise.all(this.addons.map((a) => a.runFinished?.()));
    } catch (error) {
      failure ??= error;
    }
    const outcome: RunOutcome = failure === undefined ? 'complete' : isAbortError(failure) ? 'cancelled' : 'error';
    if (outcome === 'error') this.log.error(`run ${iteration} failed: ${errorMessage(failure)}`, failure);
    try {
      if (walker) {
        this.log.info(
          `run ${iteration} ended: ${outcome}${failure !== undefined ? ` (${errorMessage(failure)})` : ''}`,
        );
        await walker.writeText(
          'experiment_finish.json',
          await runSnapshot(this, this.#acquisitions, iteration, outcome, failure, {
            suspensions,
            estimate: estimate?.toJSON(),
            actual,
            errors,
          }),
        );
        await walker.flush();
      }
    } catch (error) {
      failure ??= error;
    } finally {
      await restoreLog?.();
      this.readyToPrepareNextSample.set();
      if (descended) await walker!.ascend().catch((error) => void (failure ??= error));
      await this.iteration.set(iteration + 1);
    }
    this.state.enter(failure === undefined ? 'standby' : isAbortError(failure) ? 'cancelled' : 'error', failure);
    if (failure !== undefined) throw failure;
    return {
      iteration,
      directory: descended ? this.#currentName : undefined,
      acquisitions: results,
      durationMs: performance.now() - started,
      suspensions,
      estimate,
      actual,
      errors,
    };
  }

  /** The next iteration whose scan directory does not exist yet. */
  async #chooseIteration(): Promise<number> {
    let i = await this.iteration.get();
    if (this.walker && (await this.separateScans.get())) {
      const fmt = await this.nameFmt.get();
      while (await this.walker.exists(formatFileName(fmt, i))) i++;
    }
    return i;
  }
}

function lowerFirst(s: string): string {
  return s.length ? s[0]!.toLowerCase() + s.slice(1) : s;
}

function checkIndex(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0)
    throw new ExperimentError(`${name}.iteration must be an integer ≥ 0, got ${v}`);
}

export type { Frame };
