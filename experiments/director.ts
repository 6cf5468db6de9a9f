/**
 * Directors run an experiment several times: once per sample, per position of a scan, … Each
 * iteration runs in its own directory (`iteration_0000`, …), and the next sample is prepared as
 * soon as the experiment sets `readyToPrepareNextSample`, while the rest of the run (readout,
 * writing) still goes on.
 * @module
 */
import {
  abortError,
  checkSignalOptions,
  isAbortError,
  OptionError,
  parseOptions,
  ParameterError,
  Parameterizable,
  q,
  toNumber,
  z,
  zfunction,
  zinstance,
  zquantity,
  type OptionsSchema,
  type Quantity,
  errorMessage,
} from '../core/index.js';
import { Motor } from '../devices/motors/index.js';
import { Experiment, type ExperimentResult } from './experiment.js';
import type { Checkpoint, PauseControl } from './pause.js';
import { RunControl, type RunHandle } from './run-control.js';

/** Director states. */
export type DirectorState = 'standby' | 'running' | 'paused' | 'cancelled' | 'error';

/** The options of {@link Director.create}. */
export const DIRECTOR_OPTIONS = z.strictObject({
  /** Name in messages and logs (default `director`). */
  name: z.string().optional(),
  /** How many times the experiment runs (default 1). */
  numberOfIterations: z.number().int().min(0).optional(),
  /**
   * Prepares the sample of `iteration` (exchange it, move it, change parameters). Called for
   * iteration 0 before the first run, and for iteration i + 1 as soon as run i allows it.
   */
  prepareNextSample: zfunction<(iteration: number, signal: AbortSignal) => Promise<void> | void>().optional(),
  /** Directory name of an iteration (default `iteration_0000`, …). */
  iterationName: zfunction<(iteration: number) => string>().optional(),
});

/** Options of {@link Director.create}. */
export type DirectorOptions = z.input<typeof DIRECTOR_OPTIONS>;

/** What a director run did. */
export interface DirectorResult {
  /** The results of the experiment runs, in order. */
  iterations: ExperimentResult[];
  /** The directory names of the iterations. */
  names: string[];
}

/**
 * A director run in progress: await it, or `cancel()` it (the experiment run and the preparation
 * in progress), `pause()` (holds the next iteration; the running one finishes) or `resume()` it.
 */
export type DirectorRun = RunHandle<DirectorResult>;

/**
 * Runs an experiment `numberOfIterations` times, each in its own directory of the experiment's
 * walker (the director names the directories, so the experiment's `separateScans` is off while it
 * runs).
 * @example
 * ```ts
 * const director = await Director.create(experiment, {
 *   numberOfIterations: 3,
 *   prepareNextSample: async (i, signal) => { await changer.setSlot(i, { signal }); },
 * });
 * await director.run();
 * ```
 */
export class Director extends Parameterizable {
  /** The schema of the options `create()` accepts; subclasses extend it. */
  static readonly options: OptionsSchema = DIRECTOR_OPTIONS;

  /** standby, running, paused (the next iteration waits for `resume()`), cancelled or error. */
  readonly state = this.stateParameter<DirectorState>({ initial: 'standby' });
  /** How many times the experiment runs. */
  readonly numberOfIterations = this.parameter<number>('numberOfIterations', {
    help: 'how many times the experiment runs',
    read: () => this.countIterations(),
    write: (v) => this.writeIterations(v),
    validate: (v) => {
      if (!Number.isSafeInteger(v) || v < 0)
        throw new ParameterError(`${this.name}.numberOfIterations must be an integer ≥ 0, got ${v}`);
    },
  });
  /** The iteration running now (or last). */
  readonly currentIteration = this.parameter<number>('currentIteration', {
    help: 'the iteration running now',
    read: () => this.#current,
  });
  /** Directory name of the current iteration. */
  readonly currentIterationName = this.parameter<string>('currentIterationName', {
    help: 'directory of the current iteration',
    read: () => this.#currentName,
  });

  readonly experiment: Experiment;
  readonly #options: DirectorOptions;
  #iterations: number;
  #current = 0;
  #currentName = '';
  readonly #control = new RunControl<DirectorResult>(this, this.state);

  /**
   * Makes a director for `experiment`.
   * @throws OptionError for unknown options or bad values.
   */
  static async create<T extends Director, O>(
    this: (new (experiment: Experiment, options: O) => T) & { readonly options: OptionsSchema; readonly name: string },
    experiment: Experiment,
    options?: O,
  ): Promise<T> {
    if (!(experiment instanceof Experiment))
      throw new OptionError(`${this.name}.create: the first argument must be an Experiment`);
    parseOptions(`${this.name}.create`, this.options, options);
    return new this(experiment, (options ?? {}) as O);
  }

  constructor(experiment: Experiment, options: DirectorOptions = {}) {
    super({ name: options.name }, 'director');
    this.experiment = experiment;
    this.#options = options;
    this.#iterations = options.numberOfIterations ?? 1;
  }

  /** True while a run is in progress. */
  get running(): boolean {
    return this.#control.running;
  }

  /** Reads the state (`standby`, `running`, `paused`, `cancelled`, `error`), as devices' `getState()`. */
  async getState(): Promise<DirectorState> {
    return this.state.get() as Promise<DirectorState>;
  }

  /** The number of iterations (subclasses compute it, e.g. from a scan grid). */
  protected async countIterations(): Promise<number> {
    return this.#iterations;
  }

  /** Sets the number of iterations. */
  protected async writeIterations(n: number): Promise<void> {
    this.#iterations = n;
  }

  /** The directory name of `iteration`. */
  iterationName(iteration: number): string {
    return this.#options.iterationName?.(iteration) ?? `iteration_${String(iteration).padStart(4, '0')}`;
  }

  /** Prepares the sample of `iteration`; by default calls the `prepareNextSample` option. */
  protected async prepareRun(iteration: number, signal: AbortSignal): Promise<void> {
    await this.#options.prepareNextSample?.(iteration, signal);
  }

  /** Called once before the first iteration. */
  protected async prepare(_signal: AbortSignal): Promise<void> {}

  /** Called once after the last iteration, also after a failure or cancel. */
  protected async finish(_signal: AbortSignal): Promise<void> {}

  /**
   * Starts the iterations and returns the run's handle.
   * @throws TransitionNotAllowed while running.
   */
  run(options: { signal?: AbortSignal } = {}): DirectorRun {
    checkSignalOptions(() => `${this.name}.run`, options);
    return this.#control.start(options.signal, (signal, pause) => this.#execute(signal, pause));
  }

  /**
   * Holds the next iteration until {@link resume} (the running one finishes, and its `finish()`
   * leaves the hardware safe); resolves when held, with the iteration it holds before.
   */
  pause(): Promise<Checkpoint | undefined> {
    return this.#control.pause();
  }

  /** Lets a paused director go on. */
  resume(): Promise<void> {
    return this.#control.resume();
  }

  /** Cancels the current run (if any) and waits for its cleanup. */
  cancel(): Promise<void> {
    return this.#control.cancel();
  }

  async #execute(signal: AbortSignal, pause: PauseControl): Promise<DirectorResult> {
    this.state.enter('running');
    const experiment = this.experiment;
    const walker = experiment.walker;
    const result: DirectorResult = { iterations: [], names: [] };
    const locked = this.parameters().filter((p) => p.writable && !p.locked);
    let failure: unknown;
    await experiment.separateScans.stash();
    try {
      await experiment.separateScans.set(false);
      for (const p of locked) p.lock();
      await this.prepare(signal);
      const n = await this.countIterations();
      this.#note(walker, `${this.name}: ${n} iteration(s) of ${experiment.name}`);
      if (n > 0) await this.prepareRun(0, signal);
      for (let i = 0; i < n; i++) {
        if (pause.requested) {
          this.#note(walker, `paused before iteration ${i}`);
          const first = experiment.acquisitions[0]?.name ?? '';
          await pause.hold({ acquisition: first, frames: 0, restarts: false, iteration: i }, signal);
        }
        signal.throwIfAborted();
        this.#current = i;
        this.#currentName = this.iterationName(i);
        result.names.push(this.#currentName);
        this.#note(walker, `iteration ${i} (${this.#currentName}) started`);
        result.iterations.push(await this.#iteration(i, n, signal));
        this.#note(walker, `iteration ${i} (${this.#currentName}) finished`);
      }
    } catch (error) {
      failure = error;
    } finally {
      for (const p of locked) if (p.locked) p.unlock();
      await experiment.separateScans.restore().catch((error: unknown) => void (failure ??= error));
      await this.finish(new AbortController().signal).catch((error: unknown) => void (failure ??= error));
    }
    const outcome: DirectorState = failure === undefined ? 'standby' : isAbortError(failure) ? 'cancelled' : 'error';
    if (failure !== undefined) this.#note(walker, `${this.name} ended: ${outcome} (${errorMessage(failure)})`);
    this.state.enter(outcome, failure);
    if (failure !== undefined) throw failure;
    return result;
  }

  /** Runs iteration `i` in its directory and prepares the next sample as soon as allowed. */
  async #iteration(i: number, n: number, signal: AbortSignal): Promise<ExperimentResult> {
    const walker = this.experiment.walker;
    const local = new AbortController();
    const both = AbortSignal.any([signal, local.signal]);
    if (walker) {
      await walker.runStarting();
      await walker.descend(this.#currentName);
    }
    try {
      const run = this.experiment.run({ signal: both });
      let preparing: Promise<void> | undefined;
      try {
        // The flag is cleared when the run starts and always set when it ends.
        await this.experiment.readyToPrepareNextSample.wait(both);
        if (i + 1 < n) preparing = this.prepareRun(i + 1, both);
      } catch (error) {
        local.abort(abortError('iteration failed'));
        await run.done.catch(() => undefined);
        throw error;
      }
      // Whichever fails first stops the other.
      const stop = (error: unknown) => {
        local.abort(abortError(`iteration ${i} failed`));
        throw error;
      };
      const [ran, prepared] = await Promise.allSettled([run.done.catch(stop), preparing?.catch(stop)]);
      if (prepared.status === 'rejected' && !isAbortError(prepared.reason)) throw prepared.reason;
      if (ran.status === 'rejected') throw ran.reason;
      if (prepared.status === 'rejected') throw prepared.reason;
      return ran.value;
    } finally {
      if (walker) await walker.ascend();
    }
  }

  /** Logs a line and appends it to `director.log` in the walker's top directory. */
  #note(walker: Experiment['walker'], line: string): void {
    this.log.info(line);
    if (walker && !this.#inIteration(walker))
      void walker.appendText('director.log', `${new Date().toISOString()} ${line}\n`).catch(() => undefined);
  }

  #inIteration(walker: NonNullable<Experiment['walker']>): boolean {
    return this.#currentName !== '' && walker.current.endsWith(this.#currentName);
  }
}

/** The options of {@link XYScan.create}. */
export const XY_SCAN_OPTIONS = DIRECTOR_OPTIONS.extend({
  /** The motor of the x axis. */
  xMotor: zinstance(Motor),
  /** The motor of the y axis (changes fastest). */
  yMotor: zinstance(Motor),
  /** First x position. */
  xMin: zquantity,
  /** Last x position (inclusive). */
  xMax: zquantity,
  /** Step along x (> 0). */
  xStep: zquantity,
  /** First y position. */
  yMin: zquantity,
  /** Last y position (inclusive). */
  yMax: zquantity,
  /** Step along y (> 0). */
  yStep: zquantity,
});

/** Options of {@link XYScan.create}. */
export type XYScanOptions = z.input<typeof XY_SCAN_OPTIONS>;

type GridKey = 'xMin' | 'xMax' | 'xStep' | 'yMin' | 'yMax' | 'yStep';

/** Positions from `min` to `max` (inclusive, within rounding) in steps of `step`. */
export function gridPositions(min: number, max: number, step: number): number[] {
  if (!(step > 0)) throw new ParameterError(`a scan step must be > 0, got ${step}`);
  if (max < min) throw new ParameterError(`a scan range must not end (${max}) before it starts (${min})`);
  const n = Math.floor((max - min) / step + 1e-9) + 1;
  return Array.from({ length: n }, (_, i) => min + i * step);
}

/**
 * Scans a sample over an x/y grid: one iteration per point, y changing fastest, in directories
 * `iteration_<x index>_<y index>`. The motors move to the next point as soon as the experiment
 * allows it.
 */
export class XYScan extends Director {
  static override readonly options: OptionsSchema = XY_SCAN_OPTIONS;
  readonly xMotor: Motor;
  readonly yMotor: Motor;
  readonly xMin: Quantity;
  readonly xMax: Quantity;
  readonly xStep: Quantity;
  readonly yMin: Quantity;
  readonly yMax: Quantity;
  readonly yStep: Quantity;
  readonly #grid: Record<GridKey, number> = { xMin: 0, xMax: 0, xStep: 1, yMin: 0, yMax: 0, yStep: 1 };
  /** Points along x and y (read-only). */
  readonly xNum = this.parameter<number>('xNum', {
    help: 'points along x',
    read: async () => (await this.positions()).x.length,
  });
  readonly yNum = this.parameter<number>('yNum', {
    help: 'points along y',
    read: async () => (await this.positions()).y.length,
  });

  constructor(experiment: Experiment, options: XYScanOptions) {
    super(experiment, options);
    const need = <K extends keyof XYScanOptions>(key: K): NonNullable<XYScanOptions[K]> => {
      const v = options?.[key];
      if (v === undefined) throw new OptionError(`${this.kind}.create: option '${key}' is required`);
      return v as NonNullable<XYScanOptions[K]>;
    };
    this.xMotor = need('xMotor');
    this.yMotor = need('yMotor');
    const grid = this.#grid;
    const setting = (name: GridKey, motor: Motor): Quantity => {
      grid[name] = toNumber(need(name), motor.position.unit, `${this.name}.${name}`);
      return this.quantity(name, {
        unit: motor.position.unit,
        help: `scan ${name}`,
        read: () => grid[name],
        write: (v) => void (grid[name] = v),
      });
    };
    this.xMin = setting('xMin', this.xMotor);
    this.xMax = setting('xMax', this.xMotor);
    this.xStep = setting('xStep', this.xMotor);
    this.yMin = setting('yMin', this.yMotor);
    this.yMax = setting('yMax', this.yMotor);
    this.yStep = setting('yStep', this.yMotor);
  }

  /** The grid positions along x and y, in the motors' units. @throws ParameterError for a bad range. */
  async positions(): Promise<{ x: number[]; y: number[] }> {
    return this.#positions();
  }

  #positions(): { x: number[]; y: number[] } {
    const g = this.#grid;
    return { x: gridPositions(g.xMin, g.xMax, g.xStep), y: gridPositions(g.yMin, g.yMax, g.yStep) };
  }

  /** The grid indices of `iteration` (y fastest). */
  async indices(iteration: number): Promise<{ x: number; y: number }> {
    const ny = (await this.positions()).y.length;
    return { x: Math.floor(iteration / ny), y: iteration % ny };
  }

  protected override async countIterations(): Promise<number> {
    const { x, y } = await this.positions();
    return x.length * y.length;
  }

  protected override async writeIterations(): Promise<void> {
    throw new ParameterError(
      `${this.name}.numberOfIterations follows from the scan grid; set xMin/xMax/xStep and yMin/yMax/yStep instead`,
    );
  }

  /** `iteration_<x index>_<y index>`. @throws ParameterError for a bad grid. */
  override iterationName(iteration: number): string {
    const ny = this.#positions().y.length;
    const pad = (n: number) => String(n).padStart(4, '0');
    return `iteration_${pad(Math.floor(iteration / ny))}_${pad(iteration % ny)}`;
  }

  /** Moves both motors to the grid point of `iteration` (in parallel), then calls `prepareNextSample`. */
  protected override async prepareRun(iteration: number, signal: AbortSignal): Promise<void> {
    const { x, y } = await this.positions();
    const i = await this.indices(iteration);
    await Promise.all([
      this.xMotor.setPosition(q(x[i.x]!, this.xMotor.position.unit), { signal }),
      this.yMotor.setPosition(q(y[i.y]!, this.yMotor.position.unit), { signal }),
    ]);
    await super.prepareRun(iteration, signal);
  }
}
