/**
 * Progress bars for long operations (experiment runs, multi-frame acquisitions). Library code
 * calls {@link progress}; nothing is drawn unless a session REPL installed a renderer (it does so
 * on a terminal, unless started with `--no-progress`).
 * @module
 */

/** A running progress report. */
export interface Progress {
  /** Counts `n` (default 1) more items as done. */
  tick(n?: number): void;
  /** Ends the report (clears the bar). Safe to call twice. */
  done(): void;
}

/** Draws progress: called on every change (the renderer throttles). */
export interface ProgressRenderer {
  update(state: ProgressState): void;
  end(state: ProgressState): void;
}

/** What a renderer draws. */
export interface ProgressState {
  readonly label: string;
  readonly total: number;
  readonly done: number;
  /** Milliseconds since the report started. */
  readonly elapsedMs: number;
}

let renderer: ProgressRenderer | undefined;

/** Installs (or removes, with undefined) the renderer. Returns the previous one. @internal */
export function setProgressRenderer(next: ProgressRenderer | undefined): ProgressRenderer | undefined {
  const previous = renderer;
  renderer = next;
  return previous;
}

const noop: Progress = { tick() {}, done() {} };

/**
 * Starts a progress report of `total` items.
 * @example
 * ```ts
 * const bar = progress('radios', 1000);
 * try { for await (const frame of frames) { …; bar.tick(); } } finally { bar.done(); }
 * ```
 */
export function progress(label: string, total: number): Progress {
  const r = renderer;
  if (!r) return noop;
  const start = performance.now();
  let count = 0;
  let ended = false;
  const state = (): ProgressState => ({ label, total, done: count, elapsedMs: performance.now() - start });
  return {
    tick(n = 1) {
      if (ended) return;
      count += n;
      r.update(state());
    },
    done() {
      if (ended) return;
      ended = true;
      r.end(state());
    },
  };
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One line of progress: `label [#####.....] 12/100  5.2/s  ETA 17s`. */
export function formatProgress(s: ProgressState, width = 80): string {
  const rate = s.elapsedMs > 0 ? (s.done * 1000) / s.elapsedMs : 0;
  const eta = rate > 0 ? (s.total - s.done) / rate : Infinity;
  const tail = ` ${s.done}/${s.total}  ${rate >= 100 ? rate.toFixed(0) : rate.toFixed(1)}/s  ETA ${duration(eta)}`;
  const barWidth = Math.max(10, Math.min(40, width - s.label.length - tail.length - 4));
  const fraction = s.total > 0 ? Math.min(1, s.done / s.total) : 0;
  const filled = Math.round(fraction * barWidth);
  return `${s.label} [${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]${tail}`;
}

/** A renderer that redraws one line of `stream` at most every `intervalMs`. */
export function terminalRenderer(stream: NodeJS.WriteStream, intervalMs = 100): ProgressRenderer {
  let last = 0;
  const draw = (s: ProgressState) => stream.write(`\r\x1b[2K${formatProgress(s, stream.columns ?? 80)}`);
  return {
    update(s) {
      const now = performance.now();
      if (now - last < intervalMs && s.done < s.total) return;
      last = now;
      draw(s);
    },
    end() {
      last = 0;
      stream.write('\r\x1b[2K');
    },
  };
}
