/**
 * Cancellation. Every long operation (move, record, wait, run) gets an `AbortSignal` that fires
 * when the caller's signal fires, when the ambient scope is aborted (Ctrl-C in the REPL aborts
 * the scope of the command it interrupts), or when {@link abortAll} is called.
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { setMaxListeners } from 'node:events';
import { abortError } from './errors.js';

const scope = new AsyncLocalStorage<AbortSignal>();

/** What is known of a running operation. */
export interface RunningOperation {
  /** Increases with every operation started: lower ids started earlier. */
  readonly id: number;
  /** What it is, e.g. `experiment.run()` or `set flatMotor.position` (undefined: a part of another). */
  readonly label: string | undefined;
}

const running = new Map<AbortController, RunningOperation>();
let nextId = 1;

/** Runs `fn` with `signal` as the ambient abort signal of every operation it starts. */
export function withAbortScope<T>(signal: AbortSignal, fn: () => T): T {
  // Every operation started in the scope listens to it (a device snapshot reads dozens of
  // parameters at once): that is not a leak.
  setMaxListeners(0, signal);
  return scope.run(signal, fn);
}

/** The ambient abort signal, if any (set by {@link withAbortScope}). */
export function ambientSignal(): AbortSignal | undefined {
  return scope.getStore();
}

/** A running operation: its combined signal, and `done()` to call when it ends. */
export interface Operation {
  readonly signal: AbortSignal;
  done(): void;
}

/**
 * Starts tracking an operation whose signal fires on `signal`, the ambient scope (if it is not
 * aborted already), or {@link abortAll}. Always call `done()` (in a `finally`). `label` says what
 * it is in messages (`abort()`, Ctrl-C, quitting with work running).
 */
export function startOperation(signal?: AbortSignal, label?: string): Operation {
  const { controller, unlink } = linkedController(signal);
  running.set(controller, { id: nextId++, label });
  return {
    signal: controller.signal,
    done() {
      running.delete(controller);
      unlink();
    },
  };
}

/**
 * A controller that aborts when `signal` or the ambient scope (if it is not aborted already)
 * fires, and `unlink()` to remove its listeners.
 */
function linkedController(signal: AbortSignal | undefined): { controller: AbortController; unlink(): void } {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  // An ambient scope that is already aborted does not stop new operations: they are the cleanup
  // (finally blocks restoring positions, closing shutters) of the operations it interrupted.
  const ambient = ambientSignal();
  const sources = [signal, ambient?.aborted ? undefined : ambient].filter((s): s is AbortSignal => s !== undefined);
  const unlinks: Array<() => void> = [];
  for (const source of sources) {
    if (source.aborted) {
      controller.abort(source.reason);
      break;
    }
    const onAbort = () => controller.abort(source.reason);
    source.addEventListener('abort', onAbort, { once: true });
    unlinks.push(() => source.removeEventListener('abort', onAbort));
  }
  return {
    controller,
    unlink() {
      for (const u of unlinks) u();
    },
  };
}

/**
 * The same operation run many times in a row, one run at a time (each grab of a camera's
 * stream): its signal (firing on `signal`, the ambient scope as it was when it was made, or
 * {@link abortAll}) is made once, and each run is tracked (`abortAll()`, `runningOperations()`)
 * only while it runs, as a fresh {@link startOperation} would be, without a new controller and
 * listeners per run. Call `dispose()` once done.
 */
export interface RepeatedOperation {
  readonly signal: AbortSignal;
  /** Runs `fn` as one tracked run. @throws the signal's reason if it has fired. */
  run<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T>;
  dispose(): void;
}

/** Makes a {@link RepeatedOperation}. */
export function repeatedOperation(signal?: AbortSignal, label?: string): RepeatedOperation {
  const { controller, unlink } = linkedController(signal);
  return {
    signal: controller.signal,
    async run(fn) {
      controller.signal.throwIfAborted();
      running.set(controller, { id: nextId++, label });
      try {
        return await fn(controller.signal);
      } finally {
        running.delete(controller);
      }
    },
    dispose() {
      running.delete(controller);
      unlink();
    },
  };
}

/** Runs `fn` as a tracked operation (see {@link startOperation}). */
export async function operation<T>(
  signal: AbortSignal | undefined,
  fn: (signal: AbortSignal) => Promise<T>,
  label?: string,
): Promise<T> {
  const op = startOperation(signal, label);
  try {
    op.signal.throwIfAborted();
    return await fn(op.signal);
  } finally {
    op.done();
  }
}

/** Aborts every running operation. Returns how many were aborted. */
export function abortAll(reason: unknown = abortError('aborted by abortAll()')): number {
  const all = [...running.keys()];
  for (const c of all) c.abort(reason);
  return all.length;
}

/** How many operations are running now. */
export function runningOperations(): number {
  return running.size;
}

/** The operations running now, oldest first. */
export function runningOperationList(): RunningOperation[] {
  return [...running.values()];
}

/** The id the next operation will get: operations with this id or higher start after this call. */
export function nextOperationId(): number {
  return nextId;
}

/**
 * Names the labelled operations of `list` for a message: `experiment.run(), set flatMotor.position`
 * (each label once, with a count when repeated), plus how many unlabelled parts there are.
 */
export function describeOperations(list: readonly RunningOperation[]): string {
  const counts = new Map<string, number>();
  for (const op of list) if (op.label !== undefined) counts.set(op.label, (counts.get(op.label) ?? 0) + 1);
  const named = [...counts].map(([label, n]) => (n > 1 ? `${label} ×${n}` : label));
  if (named.length === 0) return `${list.length} operation${list.length === 1 ? '' : 's'}`;
  return named.join(', ');
}
