/**
 * What experiments and directors share about a run in progress: one at a time, a handle that is
 * a promise and can `cancel()`, `pause()` and `resume()`, and the running/paused states.
 * @module
 * @internal
 */
import { abortError, startOperation, TransitionNotAllowed, type State } from '../core/index.js';
import { PauseControl, type Checkpoint, type PauseHooks } from './pause.js';

/** A run in progress: a promise of its result that can also `cancel()`, `pause()` and `resume()`. */
export interface RunHandle<R> extends Promise<R> {
  /** Stops the run and resolves when its cleanup is done. */
  cancel(): Promise<void>;
  /**
   * Holds the run at its next pause point and brings the hardware into its safe state; resolves
   * with where it is held once it is (or with `undefined` if the run ended first).
   * @throws ExperimentError at once when the run cannot be paused now (the message says why).
   */
  pause(): Promise<Checkpoint | undefined>;
  /** Brings the hardware back and lets the run go on from where it was held; resolves when it does. */
  resume(): Promise<void>;
  /** Settles with the run (like awaiting the handle). */
  readonly done: Promise<R>;
}

type RunState = 'standby' | 'running' | 'paused' | 'cancelled' | 'error';

/** How an owner takes part in pausing: its hooks, and why it cannot be paused now. */
export interface PauseSupport extends PauseHooks {
  /** Why a run cannot be paused now; `undefined` if it can. Thrown as the error of `pause()`. */
  refusal?(): Error | undefined;
  /** `resume()` was called while others (suspenders) still hold the run: it goes on when they let go. */
  stillHeld?(holders: number): void;
}

/** Who holds a run paused: the user (`pause()`), or a suspender. */
const USER = Object.freeze({ holder: 'user' });

interface Run<R> {
  controller: AbortController;
  pause: PauseControl;
  done: Promise<R>;
  /** Who holds it paused; it goes on when none is left. */
  holders: Set<object>;
}

/** Runs one thing at a time for an owner with a `running`/`paused` state. */
export class RunControl<R> {
  #run: Run<R> | undefined;

  /** `owner`: whose runs these are (its name, read when needed: sessions rename experiments). */
  constructor(
    readonly owner: { readonly name: string },
    readonly state: State<RunState>,
    readonly support: PauseSupport = {},
    /** Told when a run pauses (true) or resumes (false), e.g. to show it on the progress bar. */
    readonly onPause?: (paused: boolean) => void,
  ) {}

  get name(): string {
    return this.owner.name;
  }

  get running(): boolean {
    return this.#run !== undefined;
  }

  /** Where the current run is held, if it is paused there. */
  get checkpoint(): Checkpoint | undefined {
    return this.#run?.pause.checkpoint;
  }

  /**
   * Starts `execute` as a tracked operation (Ctrl-C and `abort()` cancel it) and returns its handle.
   * @throws TransitionNotAllowed while a run is in progress.
   */
  start(
    signal: AbortSignal | undefined,
    execute: (signal: AbortSignal, pause: PauseControl) => Promise<R>,
  ): RunHandle<R> {
    if (this.#run)
      throw new TransitionNotAllowed(`${this.name}.run() is not allowed while it is running`, this.state.current);
    const controller = new AbortController();
    const pause = new PauseControl(this.support);
    const op = startOperation(
      signal ? AbortSignal.any([signal, controller.signal]) : controller.signal,
      `${this.name}.run()`,
    );
    const done = execute(op.signal, pause).finally(() => {
      op.done();
      pause.end();
      this.#run = undefined;
    });
    done.catch(() => undefined);
    const run: Run<R> = { controller, pause, done, holders: new Set() };
    this.#run = run;
    return Object.assign(done, {
      done,
      cancel: () => this.#cancel(controller, done),
      pause: () => (this.#run === run ? this.#pause(run, USER) : Promise.resolve(undefined)),
      resume: () => (this.#run === run ? this.#resume(run, USER) : Promise.resolve()),
    });
  }

  /** Pauses the current run, if any (see {@link RunHandle.pause}). */
  pause(): Promise<Checkpoint | undefined> {
    return this.#run ? this.#pause(this.#run, USER) : Promise.resolve(undefined);
  }

  /** Resumes a paused run. */
  resume(): Promise<void> {
    return this.#run ? this.#resume(this.#run, USER) : Promise.resolve();
  }

  /**
   * Holds the current run for `holder` (a suspender), like `pause()`; it goes on once every
   * holder (and the user, if they paused it) let go.
   * @throws the refusal when the run cannot be paused now.
   */
  hold(holder: object): Promise<Checkpoint | undefined> {
    return this.#run ? this.#pause(this.#run, holder) : Promise.resolve(undefined);
  }

  /** `holder` lets the current run go on. */
  release(holder: object): Promise<void> {
    return this.#run ? this.#resume(this.#run, holder) : Promise.resolve();
  }

  /** Ends the current run with `error` (its cleanup runs as for a cancel). */
  fail(error: Error): void {
    this.#run?.controller.abort(error);
  }

  /** Cancels the current run (if any) and waits for its cleanup. */
  async cancel(): Promise<void> {
    if (this.#run) await this.#cancel(this.#run.controller, this.#run.done);
  }

  async #cancel(controller: AbortController, done: Promise<R>): Promise<void> {
    controller.abort(abortError(`${this.name} was cancelled`));
    await done.catch(() => undefined);
  }

  #pause(run: Run<R>, holder: object): Promise<Checkpoint | undefined> {
    const pause = run.pause;
    if (!pause.requested) {
      const refusal = this.support.refusal?.();
      if (refusal) throw refusal;
    }
    run.holders.add(holder);
    const held = pause.request();
    if (this.state.current === 'running') this.state.enter('paused');
    this.onPause?.(true);
    return held;
  }

  #resume(run: Run<R>, holder: object): Promise<void> {
    if (!run.holders.delete(holder) && holder !== USER) return Promise.resolve();
    if (run.holders.size > 0) {
      if (holder === USER) this.support.stillHeld?.(run.holders.size);
      return Promise.resolve();
    }
    const resumed = run.pause.release();
    if (this.state.current === 'paused') this.state.enter('running');
    this.onPause?.(false);
    return resumed;
  }
}
