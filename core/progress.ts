/**
 * Progress of long operations (experiment runs, multi-frame acquisitions). Libraries report
 * through {@link progress}; the session installs a renderer (a terminal bar) or none.
 * @module
 */

/** One long operation's progress. */
export interface ProgressTask {
  /** Adds `n` (default 1) to the work done. */
  tick(n?: number): void;
  /** Sets the total when it becomes known. */
  setTotal(total: number | undefined): void;
  /** Ends the task (removes its bar). */
  done(): void;
}

/** Draws progress; the session's terminal bar implements it. */
export interface ProgressRenderer {
  start(label: string, total: number | undefined): ProgressTask;
}

const silent: ProgressTask = { tick() {}, setTotal() {}, done() {} };
let renderer: ProgressRenderer | undefined;

/** Installs (or removes, with undefined) the progress renderer. Returns the previous one. */
export function setProgressRenderer(next: ProgressRenderer | undefined): ProgressRenderer | undefined {
  const previous = renderer;
  renderer = next;
  return previous;
}

/** Starts reporting the progress of `label` (`total` units of work, if known). */
export function progress(label: string, total?: number): ProgressTask {
  return renderer ? renderer.start(label, total) : silent;
}
