/**
 * Leaving a session with work still running (Ctrl-D or `.exit` while an experiment runs in the
 * background, the end of piped input, SIGTERM, SIGHUP): everything running is cancelled the way
 * Ctrl-C cancels it — motors stop, shutters close, writers close their files, the experiment
 * writes its finish record and logs "run ended: cancelled" — and the process leaves once that
 * cleanup is done (or after `timeoutMs`).
 * @module
 */
import { abortAll, abortError, describeOperations, runningOperationList, sleep } from '../core/index.js';

/** Options of {@link stopRunning}. */
export interface StopRunningOptions {
  /** Why, for the messages and the AbortError (e.g. `the session is quitting`). */
  reason: string;
  /** Where to say what is cancelled (nothing is printed when nothing runs). */
  print?: (text: string) => void;
  /** Give up waiting for the cleanup after this long (ms, default 15000). */
  timeoutMs?: number;
}

/**
 * Cancels every running operation and waits until they have all ended. Resolves true when they
 * did, false when `timeoutMs` passed first. Returns at once when nothing runs.
 */
export async function stopRunning(options: StopRunningOptions): Promise<boolean> {
  const running = runningOperationList();
  if (running.length === 0) return true;
  const print = options.print ?? (() => {});
  print(`Cancelling what is still running before leaving (${describeOperations(running)})…`);
  const reason = abortError(`cancelled: ${options.reason}`);
  // A promise of what is cancelled here that nobody awaits (`void motor.setPosition(…)` at the end
  // of a session file) rejects with `reason`: that is this cancellation, not a crash to report.
  const ignoreOurs = (error: unknown) => {
    if (error !== reason) throw error;
  };
  process.on('unhandledRejection', ignoreOurs);
  try {
    abortAll(reason);
    const deadline = performance.now() + (options.timeoutMs ?? 15_000);
    while (runningOperationList().length > 0) {
      if (performance.now() > deadline) {
        print(`Gave up waiting for ${describeOperations(runningOperationList())} to end; leaving anyway`);
        return false;
      }
      await sleep(20);
    }
    await sleep(0); // rejections of the last operations are reported after a turn
    print('Everything is stopped.');
    return true;
  } finally {
    process.off('unhandledRejection', ignoreOurs);
  }
}
