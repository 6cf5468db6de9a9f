/**
 * Suspenders: a condition that holds a run while it is true (the beam is lost, an interlock is
 * open, a detector is too warm) and lets it go on once it has been false for a hold-off time.
 *
 * A suspended run is paused (see `pause.ts`): the interrupted acquisition holds at a checkpoint,
 * the experiment brings the hardware into its safe state, and on resume the acquisition goes on
 * from the checkpoint — no frame twice, none missing. A suspender never resumes a run the user
 * paused, and a run several suspenders hold goes on only when every one has cleared.
 *
 * Its timers (polling, hold-off, retries) keep the process alive: they exist only while a run is
 * watched, and that run waits for them — a script awaiting a suspended run must not exit.
 * @module
 */
import {
  errorMessage,
  OptionError,
  parseOptions,
  startInterval,
  startTimer,
  toNumber,
  z,
  zfunction,
  zq,
  type AnyParameter,
  type Logger,
  type Timer,
} from '../core/index.js';
import type { Checkpoint } from './pause.js';

/** Something that pushes values (an RxJS Observable: `dev.subscribe('current', 'change')`, `param.observe()`). */
export interface Subscribable<T> {
  subscribe(observer: { next(value: T): void; error(error: unknown): void; complete?(): void }): {
    unsubscribe(): void;
  };
}

/**
 * What a suspender watches:
 * - a function, polled every `interval`: `() => ring.current.get().then((c) => c.toNumber('mA') < 100)`;
 * - `{ parameter, when }`: the parameter is read every `interval` and `when(value)` decides;
 * - a stream of booleans (change events): `dev.subscribe('current', 'change').pipe(map((r) => r.value < 100))`.
 *
 * `true` means "suspend". A check that throws, or a stream that fails, counts as `true`: a
 * condition that cannot be checked is not known to be safe.
 */
export type SuspendCondition =
  | (() => boolean | Promise<boolean>)
  | { readonly parameter: AnyParameter; readonly when: (value: never) => boolean }
  | Subscribable<boolean>;

/** What a suspension was: written to the experiment's log and finish record. */
export interface Suspension {
  /** The suspender's cause (`options.cause`). */
  readonly cause: string;
  /** When the condition became true (ISO time). */
  readonly start: string;
  /** When the run went on (or ended, if it ended while suspended). */
  readonly end: string;
  /** From `start` to `end`, in ms. */
  readonly durationMs: number;
  /** Where the run was held (undefined if it ended before it reached a pause point). */
  readonly checkpoint: Checkpoint | undefined;
  /**
   * How it ended: `resumed`; `ended` (the run ended, failed or was cancelled while suspended);
   * `removed` (the suspender was removed, and let the run go on).
   */
  readonly outcome: 'resumed' | 'ended' | 'removed';
}

/** The options of `experiment.suspendWhen()`. */
export const SUSPEND_OPTIONS = z.strictObject({
  /** What the condition means, for the log and the finish record (default: the condition's text). */
  cause: z.string().min(1).optional(),
  /** How long the condition must stay false before the run goes on (default 0 s). */
  resumeAfter: zq('s', { min: '0 s' }).optional(),
  /** How often a polled condition is checked (default 0.5 s). */
  interval: zq('s', { min: '1 ms' }).optional(),
  /**
   * Runs after the hold-off, before the run goes on (the hardware is still in its safe state):
   * re-take the flats, wait for the optics to settle. A failure ends the run with its error.
   */
  beforeResume: zfunction<(signal: AbortSignal, suspension: PendingResume) => Promise<void> | void>().optional(),
});

/** Options of `experiment.suspendWhen()`. */
export type SuspendOptions = z.input<typeof SUSPEND_OPTIONS>;

/** What `beforeResume` is told. */
export interface PendingResume {
  readonly cause: string;
  readonly checkpoint: Checkpoint | undefined;
  /** How long the run has been suspended, in ms. */
  readonly suspendedMs: number;
}

/** What a suspender needs of the run it watches. @internal */
export interface SuspendTarget {
  /** Holds the run for `holder`; resolves with the checkpoint once the hardware is safe. @throws if it cannot be paused now. */
  hold(holder: object): Promise<Checkpoint | undefined>;
  /** Lets the run go on once no holder is left. */
  release(holder: object): Promise<void>;
  /** Ends the run with `error`. */
  fail(error: Error): void;
  /** Where the run is held now, if it is. */
  readonly checkpoint: Checkpoint | undefined;
  readonly signal: AbortSignal;
  readonly log: Logger;
}

/** A condition registered with `experiment.suspendWhen()`; `remove()` stops it. */
export class Suspender {
  readonly cause: string;
  readonly #condition: SuspendCondition;
  readonly #resumeAfterMs: number;
  readonly #intervalMs: number;
  readonly #beforeResume: SuspendOptions['beforeResume'];
  #watch: Watch | undefined;
  #removed = false;
  /** Called by the owner when removed. @internal */
  onRemove: (() => void) | undefined;

  /** @throws OptionError for a condition that is none of the kinds or bad options. */
  constructor(owner: string, condition: SuspendCondition, options: SuspendOptions = {}) {
    parseOptions(`${owner}.suspendWhen`, SUSPEND_OPTIONS, options);
    if (!isCondition(condition))
      throw new OptionError(
        `${owner}.suspendWhen: the condition must be a function returning a boolean, ` +
          `{ parameter, when }, or a stream of booleans (subscribe()), got ${describeValue(condition)}`,
      );
    this.#condition = condition;
    this.cause = options.cause ?? describeCondition(condition);
    this.#resumeAfterMs = options.resumeAfter ? toNumber(options.resumeAfter, 's') * 1000 : 0;
    this.#intervalMs = options.interval ? toNumber(options.interval, 's') * 1000 : 500;
    this.#beforeResume = options.beforeResume;
  }

  /** True while it holds the current run. */
  get suspended(): boolean {
    return this.#watch?.suspended ?? false;
  }

  /** Stops watching; a run it holds goes on (unless something else holds it). */
  remove(): void {
    if (this.#removed) return;
    this.#removed = true;
    this.onRemove?.();
  }

  /**
   * Watches the condition during one run, suspending it through `target`; returns a function
   * that stops watching and gives the suspensions of the run. @internal
   */
  watch(target: SuspendTarget, record: (s: Suspension) => void): () => void {
    const watch = new Watch(this, target, record, this.#resumeAfterMs, this.#beforeResume);
    this.#watch = watch;
    const stopChecks = this.#subscribe((value) => watch.update(value));
    return () => {
      stopChecks();
      watch.end(this.#removed ? 'removed' : 'ended');
      if (this.#watch === watch) this.#watch = undefined;
    };
  }

  /** Feeds condition values to `update` until the returned function is called. */
  #subscribe(update: (value: boolean, error?: unknown) => void): () => void {
    const condition = this.#condition;
    if (isSubscribable(condition)) {
      let retry: Timer | undefined;
      let subscription: { unsubscribe(): void } | undefined;
      let stopped = false;
      const start = () => {
        subscription = condition.subscribe({
          next: (v) => update(Boolean(v)),
          error: (e) => {
            update(true, e);
            // Subscribe again after the polling interval (a Tango server that restarts).
            if (!stopped) retry = startTimer(this.#intervalMs, start);
          },
        });
      };
      start();
      return () => {
        stopped = true;
        retry?.cancel();
        subscription?.unsubscribe();
      };
    }
    const check = async () => {
      try {
        if (typeof condition === 'function') update(Boolean(await condition()));
        else update(Boolean(condition.when((await condition.parameter.get()) as never)));
      } catch (error) {
        update(true, error);
      }
    };
    void check();
    const timer = startInterval(this.#intervalMs, check);
    return () => timer.cancel();
  }
}

/** The suspenders of an experiment, and the run they watch. @internal */
export class Suspenders {
  readonly #all = new Set<Suspender>();
  readonly #stops = new Map<Suspender, () => void>();
  #watching: { target: SuspendTarget; suspensions: Suspension[] } | undefined;

  get list(): Suspender[] {
    return [...this.#all];
  }

  /** The causes of those that hold the run now. */
  causes(): string {
    return this.list
      .filter((s) => s.suspended)
      .map((s) => s.cause)
      .join(', ');
  }

  /** Registers `suspender`; added during a run, it watches that run too. */
  add(suspender: Suspender): Suspender {
    this.#all.add(suspender);
    suspender.onRemove = () => {
      this.#all.delete(suspender);
      this.#stops.get(suspender)?.();
      this.#stops.delete(suspender);
    };
    if (this.#watching) this.#watchOne(suspender, this.#watching);
    return suspender;
  }

  /** Starts every suspender on a run (suspensions are appended to `suspensions`); returns what stops them. */
  watch(target: SuspendTarget, suspensions: Suspension[]): () => void {
    const watching = (this.#watching = { target, suspensions });
    for (const s of this.#all) this.#watchOne(s, watching);
    return () => {
      this.#watching = undefined;
      for (const stop of this.#stops.values()) stop();
      this.#stops.clear();
    };
  }

  #watchOne(s: Suspender, watching: { target: SuspendTarget; suspensions: Suspension[] }): void {
    const stop = s.watch(watching.target, (record) => watching.suspensions.push(record));
    this.#stops.set(s, stop);
  }
}

/** One suspender watching one run. */
class Watch {
  #since: number | undefined;
  #startIso = '';
  #held: Promise<Checkpoint | undefined> | undefined;
  #holdOff: Timer | undefined;
  #retry: Timer | undefined;
  #resuming = false;
  #ended = false;
  #last = false;
  #reported: string | undefined;

  constructor(
    readonly suspender: Suspender,
    readonly target: SuspendTarget,
    readonly record: (s: Suspension) => void,
    readonly resumeAfterMs: number,
    readonly beforeResume: SuspendOptions['beforeResume'],
  ) {}

  get suspended(): boolean {
    return this.#since !== undefined;
  }

  update(value: boolean, error?: unknown): void {
    if (this.#ended) return;
    if (error !== undefined) {
      const why = `${this.suspender.cause}: the condition could not be checked (${errorMessage(error)})`;
      if (this.#reported !== why) this.target.log.warn(`${why}; treated as true`);
      this.#reported = why;
    } else this.#reported = undefined;
    const changed = value !== this.#last;
    this.#last = value;
    if (value) {
      if (this.#holdOff) {
        this.#holdOff.cancel();
        this.#holdOff = undefined;
        this.target.log.warn(`${this.suspender.cause} again: still suspended`);
      }
      if (!this.suspended) this.#suspend();
    } else if (changed && this.suspended && !this.#resuming) {
      this.target.log.info(
        `${this.suspender.cause} cleared; resuming in ${(this.resumeAfterMs / 1000).toFixed(1)} s unless it returns`,
      );
      this.#holdOff = startTimer(this.resumeAfterMs, () => {
        this.#holdOff = undefined;
        void this.#resume();
      });
    }
  }

  #suspend(): void {
    this.#since = performance.now();
    this.#startIso = new Date().toISOString();
    this.target.log.warn(`suspended: ${this.suspender.cause}`);
    this.#tryHold();
  }

  /** Holds the run; while it cannot be paused (a remote acquisition), tries again every 100 ms. */
  #tryHold(): void {
    if (this.#ended || !this.suspended) return;
    try {
      this.#held = this.target.hold(this);
    } catch (error) {
      if (this.#reported !== errorMessage(error))
        this.target.log.warn(`${this.suspender.cause}: ${errorMessage(error)}; suspends as soon as it can`);
      this.#reported = errorMessage(error);
      this.#retry = startTimer(100, () => this.#tryHold());
      return;
    }
    this.#held.catch(() => undefined);
  }

  async #resume(): Promise<void> {
    if (this.#ended || !this.suspended || this.#last) return;
    this.#retry?.cancel();
    this.#resuming = true;
    try {
      const checkpoint = await this.#held?.catch(() => undefined);
      if (this.#ended) return;
      if (this.beforeResume) {
        try {
          await this.beforeResume(this.target.signal, {
            cause: this.suspender.cause,
            checkpoint,
            suspendedMs: performance.now() - this.#since!,
          });
        } catch (error) {
          const failure = new Error(`${this.suspender.cause}: beforeResume failed: ${errorMessage(error)}`, {
            cause: error,
          });
          this.target.log.error(failure.message, error);
          this.#finish('ended', checkpoint);
          this.target.fail(failure);
          return;
        }
        if (this.#ended) return;
        // The condition came back during beforeResume: stay suspended (a new hold-off starts when it clears).
        if (this.#last) return;
      }
      this.#finish('resumed', checkpoint);
      await this.target.release(this).catch(() => undefined);
    } finally {
      this.#resuming = false;
    }
  }

  #finish(outcome: Suspension['outcome'], checkpoint: Checkpoint | undefined): void {
    const durationMs = performance.now() - this.#since!;
    this.#since = undefined;
    this.#held = undefined;
    const s: Suspension = {
      cause: this.suspender.cause,
      start: this.#startIso,
      end: new Date().toISOString(),
      durationMs,
      checkpoint,
      outcome,
    };
    this.record(s);
    const where = checkpoint ? ` (held in '${checkpoint.acquisition}' after ${checkpoint.frames} frames)` : '';
    const what = { resumed: 'resumed', ended: 'run ended while suspended', removed: 'suspender removed' }[outcome];
    this.target.log.info(`${what} after ${(durationMs / 1000).toFixed(1)} s: ${this.suspender.cause}${where}`);
  }

  /** The run ended (or the suspender was removed): a suspension in progress is recorded and let go. */
  end(why: 'ended' | 'removed'): void {
    if (this.#ended) return;
    this.#holdOff?.cancel();
    this.#retry?.cancel();
    if (this.suspended) {
      this.#finish(why, this.target.checkpoint);
      void this.target.release(this).catch(() => undefined);
    }
    this.#ended = true;
  }
}

function isSubscribable(c: unknown): c is Subscribable<boolean> {
  return typeof (c as Subscribable<boolean> | undefined)?.subscribe === 'function';
}

function isCondition(c: unknown): c is SuspendCondition {
  if (typeof c === 'function' || isSubscribable(c)) return true;
  const p = c as { parameter?: AnyParameter; when?: unknown } | undefined;
  return typeof p?.parameter?.get === 'function' && typeof p.when === 'function';
}

function describeCondition(c: SuspendCondition): string {
  if (typeof c === 'function') return c.toString().replace(/\s+/g, ' ').slice(0, 80);
  if ('parameter' in c) return `${c.parameter.fullName}: ${c.when.toString().replace(/\s+/g, ' ').slice(0, 60)}`;
  return 'a suspend condition';
}

function describeValue(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}
