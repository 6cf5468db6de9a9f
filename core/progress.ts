/**
 * Progress of long operations (experiment runs, multi-frame acquisitions). Library code calls
 * {@link progress}; nothing is drawn unless a session installed a renderer (the REPL does on a
 * terminal, unless started with `--no-progress`; see `session/progress.ts`).
 * @module
 */

/** A running progress report. */
export interface Progress {
  /** Counts `n` (default 1) more items as done. */
  tick(n?: number): void;
  /** Sets how many items are done (never backwards). */
  advanceTo(done: number): void;
  /** A word shown with the bar (`paused`), or undefined to clear it. */
  status(text: string | undefined): void;
  /** Ends the report (clears the bar). Safe to call twice. */
  done(): void;
}

/** What a renderer draws. */
export interface ProgressState {
  readonly label: string;
  /** Items in all (0: unknown). */
  readonly total: number;
  readonly done: number;
  /** Milliseconds since the report started. */
  readonly elapsedMs: number;
  /** Shown with the bar, e.g. `paused`. */
  readonly status?: string;
}

/** Draws progress: called on every change (the renderer throttles). */
export interface ProgressRenderer {
  update(state: ProgressState): void;
  end(state: ProgressState): void;
}

let renderer: ProgressRenderer | undefined;

/** Installs (or removes, with undefined) the renderer. Returns the previous one. */
export function setProgressRenderer(next: ProgressRenderer | undefined): ProgressRenderer | undefined {
  const previous = renderer;
  renderer = next;
  return previous;
}

const noop: Progress = { tick() {}, advanceTo() {}, status() {}, done() {} };

/**
 * Starts a progress report of `total` items (0 or undefined: unknown).
 * @example
 * ```ts
 * const bar = progress('radios', 1000);
 * try { for await (const frame of frames) { …; bar.tick(); } } finally { bar.done(); }
 * ```
 */
export function progress(label: string, total = 0): Progress {
  const r = renderer;
  if (!r) return noop;
  const start = performance.now();
  let count = 0;
  let ended = false;
  let status: string | undefined;
  const state = (): ProgressState => ({ label, total, done: count, elapsedMs: performance.now() - start, status });
  return {
    tick(n = 1) {
      if (ended) return;
      count += n;
      r.update(state());
    },
    advanceTo(done) {
      if (ended || done <= count) return;
      count = done;
      r.update(state());
    },
    status(text) {
      if (ended || text === status) return;
      status = text;
      r.update(state());
    },
    done() {
      if (ended) return;
      ended = true;
      r.end(state());
    },
  };
}
