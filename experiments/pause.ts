/**
 * Pausing a run: the contract between a run's handle (`pause()`, `resume()`), the acquisition that
 * holds at its next pause point, and the experiment that brings the hardware into a safe,
 * resumable state while it is held.
 *
 * 1. `pause()` requests a hold. A restartable acquisition is interrupted at once (its producer is
 *    closed: the camera stops recording, a rotating motor is no longer driven); another one holds
 *    before its next frame. Between acquisitions the run holds before the next one starts.
 * 2. Held at a {@link Checkpoint}, the run calls the owner's `enter` hook (an experiment's
 *    `enterSafeState()`: close the shutter, stop the motors); then `pause()` resolves with the
 *    checkpoint.
 * 3. `resume()` calls the `leave` hook (`leaveSafeState()`), and the acquisition goes on: a
 *    restartable producer is called again as `producer(signal, { from: checkpoint.frames })`.
 * @module
 */
import { Gate } from './gate.js';

/** Where a paused run is held, and where it goes on. */
export interface Checkpoint {
  /** The acquisition held (or the next to run, when held between two acquisitions). */
  readonly acquisition: string;
  /** Frames the acquisition had handed to its consumers: a restarted producer yields frame `frames` next. */
  readonly frames: number;
  /**
   * True if the producer was closed and restarts at `frames` on resume (its hardware is free to
   * be made safe); false if it is only suspended between two frames (or held between acquisitions
   * when `frames` is 0 and no producer runs).
   */
  readonly restarts: boolean;
  /** A director's iteration held before (directors hold between iterations). */
  readonly iteration?: number;
}

/** What an acquisition asks at its pause points. */
export interface PausePoint {
  /** True while a pause is requested and not yet resumed. */
  readonly requested: boolean;
  /** Aborts when a pause is requested: a restartable producer runs under it so that it stops at once. */
  readonly interrupt: AbortSignal;
  /**
   * Holds at `checkpoint` until resumed: the owner makes the hardware safe, `pause()` resolves,
   * and after `resume()` the owner brings the hardware back. Rejects when `signal` aborts (the
   * run was cancelled while paused) or a hook fails.
   */
  hold(checkpoint: Checkpoint, signal: AbortSignal): Promise<void>;
}

/** What the owner of a run does around a hold. */
export interface PauseHooks {
  /** Brings the hardware into its safe, resumable state (the run is held at `checkpoint`). */
  enter?(checkpoint: Checkpoint, signal: AbortSignal): Promise<void>;
  /** Brings the hardware back before the run goes on from `checkpoint`. */
  leave?(checkpoint: Checkpoint, signal: AbortSignal): Promise<void>;
}

/** The pause state of one run. @internal Made by `RunControl`; acquisitions see it as a {@link PausePoint}. */
export class PauseControl implements PausePoint {
  readonly #gate = new Gate();
  #interrupt = new AbortController();
  #request: { promise: Promise<Checkpoint | undefined>; settle(c: Checkpoint | undefined | Error): void } | undefined;
  #held: Checkpoint | undefined;
  #resumed: { promise: Promise<void>; settle(error?: unknown): void } | undefined;

  constructor(readonly hooks: PauseHooks = {}) {}

  get requested(): boolean {
    return this.#request !== undefined;
  }

  get interrupt(): AbortSignal {
    return this.#interrupt.signal;
  }

  /** Where the run is held now, if it is. */
  get checkpoint(): Checkpoint | undefined {
    return this.#held;
  }

  /**
   * Requests a hold; resolves with the checkpoint once the run is held and the hardware safe, or
   * with `undefined` if the run ends (or is resumed) before it reached a pause point. Idempotent.
   */
  request(): Promise<Checkpoint | undefined> {
    if (this.#request) return this.#request.promise;
    let settle!: (c: Checkpoint | undefined | Error) => void;
    const promise = new Promise<Checkpoint | undefined>((resolve, reject) => {
      settle = (c) => (c instanceof Error ? reject(c) : resolve(c));
    });
    promise.catch(() => undefined);
    this.#request = { promise, settle };
    this.#gate.close();
    this.#interrupt.abort(new DOMException('paused', 'AbortError'));
    return promise;
  }

  /**
   * Lets the run go on; resolves when it does (after the `leave` hook). A request that was not
   * held yet is withdrawn (its promise resolves with `undefined`).
   */
  release(): Promise<void> {
    const request = this.#request;
    if (!request) return this.#resumed?.promise ?? Promise.resolve();
    this.#request = undefined;
    this.#interrupt = new AbortController();
    if (this.#held === undefined) {
      request.settle(undefined);
      this.#gate.open();
      return Promise.resolve();
    }
    let settle!: (error?: unknown) => void;
    const promise = new Promise<void>((resolve, reject) => (settle = (e) => (e === undefined ? resolve() : reject(e))));
    promise.catch(() => undefined);
    this.#resumed = { promise, settle };
    this.#gate.open();
    return promise;
  }

  /** The run ended: a pending request resolves with `undefined`. */
  end(): void {
    const request = this.#request;
    this.#request = undefined;
    request?.settle(undefined);
    this.#gate.open();
  }

  async hold(checkpoint: Checkpoint, signal: AbortSignal): Promise<void> {
    const request = this.#request;
    if (!request) return;
    this.#held = checkpoint;
    let safe = false;
    try {
      await this.hooks.enter?.(checkpoint, signal);
      safe = true;
      request.settle(checkpoint);
      await this.#gate.pass(signal);
      signal.throwIfAborted();
      await this.hooks.leave?.(checkpoint, signal);
      this.#resumed?.settle();
    } catch (error) {
      // A failed safe state fails `pause()`; a failed resume (or a cancel meanwhile) fails `resume()`.
      if (!safe) request.settle(error instanceof Error ? error : new Error(String(error)));
      this.#resumed?.settle(error);
      throw error;
    } finally {
      this.#held = undefined;
      this.#resumed = undefined;
    }
  }
}
