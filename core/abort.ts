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
const running = new Set<AbortController>();

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
 * aborted already), or {@link abortAll}. Always call `done()` (in a `finally`).
 */
export function startOperation(signal?: AbortSignal): Operation {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  // An ambient scope that is already aborted does not stop new operations: they are the cleanup
  // (finally blocks restoring positions, closing shutters) of the operations it interrupted.
  const ambient = ambientSignal();
  const sources = [signal, ambient?.aborted ? undefined : ambient].filter((s): s is AbortSignal => s !== undefined);
  const unlink: Array<() => void> = [];
  for (const source of sources) {
    if (source.aborted) {
      controller.abort(source.reason);
      break;
    }
    const onAbort = () => controller.abort(source.reason);
    source.addEventListener('abort', onAbort, { once: true });
    unlink.push(() => source.removeEventListener('abort', onAbort));
  }
  running.add(controller);
  return {
    signal: controller.signal,
    done() {
      running.delete(controller);
      for (const u of unlink) u();
    },
  };
}

/** Runs `fn` as a tracked operation (see {@link startOperation}). */
export async function operation<T>(
  signal: AbortSignal | undefined,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const op = startOperation(signal);
  try {
    op.signal.throwIfAborted();
    return await fn(op.signal);
  } finally {
    op.done();
  }
}

/** Aborts every running operation. Returns how many were aborted. */
export function abortAll(reason: unknown = abortError('aborted by abortAll()')): number {
  const all = [...running];
  for (const c of all) c.abort(reason);
  return all.length;
}

/** How many operations are running now. */
export function runningOperations(): number {
  return running.size;
}
