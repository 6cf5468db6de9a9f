/**
 * What experiments and directors share about a run in progress: one at a time, a handle that is
 * a promise and can `cancel()`, `pause()` and `resume()`, and the running/paused states.
 * @module
 * @internal
 */
import { abortError, startOperation, TransitionNotAllowed, type State } from '../core/index.js';
import { Gate } from './gate.js';

/** A run in progress: a promise of its result that can also `cancel()`, `pause()` and `resume()`. */
export interface RunHandle<R> extends Promise<R> {
  /** Stops the run and resolves when its cleanup is done. */
  cancel(): Promise<void>;
  /** Holds the run at its next pause point (between frames, between iterations). */
  pause(): void;
  resume(): void;
  /** Settles with the run (like awaiting the handle). */
  readonly done: Promise<R>;
}

type RunState = 'standby' | 'running' | 'paused' | 'cancelled' | 'error';

/** Runs one thing at a time for an owner with a `running`/`paused` state. */
export class RunControl<R> {
  #run: { controller: AbortController; gate: Gate; done: Promise<R> } | undefined;

  /** `owner`: whose runs these are (its name, read when needed: sessions rename experiments). */
  constructor(
    readonly owner: { readonly name: string },
    readonly state: State<RunState>,
    /** Told when a run pauses (true) or resumes (false), e.g. to show it on the progress bar. */
    readonly onPause?: (paused: boolean) => void,
  ) {}

  get name(): string {
    return this.owner.name;
  }

  get running(): boolean {
    return this.#run !== undefined;
  }

  /**
   * Starts `execute` as a tracked operation (Ctrl-C and `abort()` cancel it) and returns its handle.
   * @throws TransitionNotAllowed while a run is in progress.
   */
  start(signal: AbortSignal | undefined, execute: (signal: AbortSignal, gate: Gate) => Promise<R>): RunHandle<R> {
    if (this.#run)
      throw new TransitionNotAllowed(`${this.name}.run() is not allowed while it is running`, this.state.current);
    const controller = new AbortController();
    const gate = new Gate();
    const op = startOperation(
      signal ? AbortSignal.any([signal, controller.signal]) : controller.signal,
      `${this.name}.run()`,
    );
    const done = execute(op.signal, gate).finally(() => {
      op.done();
      this.#run = undefined;
    });
    done.catch(() => undefined);
    this.#run = { controller, gate, done };
    return Object.assign(done, {
      done,
      cancel: () => this.#cancel(controller, done),
      pause: () => this.#pause(gate),
      resume: () => this.#resume(gate),
    });
  }

  /** Pauses the current run, if any. */
  pause(): void {
    if (this.#run) this.#pause(this.#run.gate);
  }

  /** Resumes a paused run. */
  resume(): void {
    if (this.#run) this.#resume(this.#run.gate);
  }

  /** Cancels the current run (if any) and waits for its cleanup. */
  async cancel(): Promise<void> {
    if (this.#run) await this.#cancel(this.#run.controller, this.#run.done);
  }

  async #cancel(controller: AbortController, done: Promise<R>): Promise<void> {
    controller.abort(abortError(`${this.name} was cancelled`));
    await done.catch(() => undefined);
  }

  #pause(gate: Gate): void {
    gate.close();
    if (this.state.current === 'running') this.state.enter('paused');
    this.onPause?.(true);
  }

  #resume(gate: Gate): void {
    gate.open();
    if (this.state.current === 'paused') this.state.enter('running');
    this.onPause?.(false);
  }
}
