/**
 * The terminal progress bar the REPL installs (through `core/progress.ts`, which library code
 * reports to): `label [#####.....] 12/100  5.2/s  ETA 17s`.
 *
 * The bar has a line of its own. While a command runs it is the last line of the screen; whatever
 * else prints (results, messages, log lines on stderr) clears it first and it is drawn again below.
 * When the prompt comes back with a run still going (`const r = experiment.run()`), the bar sits on
 * the line above the prompt and is redrawn there, so it never mixes with what is typed.
 * @module
 */

import type { ProgressRenderer, ProgressState } from '../core/progress.js';

export {
  progress,
  setProgressRenderer,
  type Progress,
  type ProgressRenderer,
  type ProgressState,
} from '../core/progress.js';

/** Rate and ETA are shown once this many items are done and this much time passed (a first sample lies). */
export const RATE_AFTER_ITEMS = 5;
export const RATE_AFTER_MS = 500;

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One line of progress: `label [#####.....] 12/100  5.2/s  ETA 17s` (or `… 12/100  paused`). */
export function formatProgress(s: ProgressState, width = 80): string {
  let tail = ` ${s.done}/${s.total || '?'}`;
  if (s.status) tail += `  ${s.status}`;
  else if (s.done >= RATE_AFTER_ITEMS && s.elapsedMs >= RATE_AFTER_MS) {
    const rate = (s.done * 1000) / s.elapsedMs;
    const eta = s.total > 0 ? (s.total - s.done) / rate : Infinity;
    tail += `  ${rate >= 100 ? rate.toFixed(0) : rate.toFixed(1)}/s`;
    if (s.total > 0) tail += `  ETA ${duration(eta)}`;
  }
  const barWidth = Math.max(10, Math.min(40, width - s.label.length - tail.length - 4));
  const fraction = s.total > 0 ? Math.min(1, s.done / s.total) : 0;
  const filled = Math.round(fraction * barWidth);
  const line = `${s.label} [${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]${tail}`;
  // Never wider than the terminal: a wrapped bar could not be redrawn in place.
  return line.length < width ? line : line.slice(0, Math.max(1, width - 1));
}

const CLEAR_LINE = '\r\x1b[2K';
/** Save the cursor, go up one line, clear it; the bar follows, then restore the cursor. */
const ABOVE = '\x1b7\x1b[1A\r\x1b[2K';
const RESTORE = '\x1b8';

type Write = (chunk: unknown, ...rest: unknown[]) => boolean;

/** The prompt a {@link TerminalRenderer} shares the terminal with. */
export interface PromptLine {
  /** True while the prompt waits for input (no command runs). */
  idle(): boolean;
  /** Draws the prompt and what was typed again, on the current line. */
  refresh(): void;
}

/** A progress renderer for a terminal. */
export interface TerminalRenderer extends ProgressRenderer {
  /** Lets a bar that starts while the prompt waits move the prompt down a line and sit above it. */
  attachPrompt(prompt: PromptLine): void;
  /** Gives the streams their own `write` back. */
  dispose(): void;
}

/** Options of {@link terminalRenderer}. */
export interface TerminalRendererOptions {
  /** Redraw at most this often (ms, default 100). */
  intervalMs?: number;
  /** Other streams on the same terminal (stderr) whose writes must clear the bar first. */
  alsoGuard?: NodeJS.WriteStream[];
}

/**
 * A renderer that keeps the bar on a line of its own on `stream` (a terminal), wrapping the writes
 * of `stream` (and `alsoGuard`) so that anything printed clears the bar first. `dispose()` undoes it.
 */
export function terminalRenderer(stream: NodeJS.WriteStream, options: TerminalRendererOptions = {}): TerminalRenderer {
  const intervalMs = options.intervalMs ?? 100;
  const streams = [stream, ...(options.alsoGuard ?? [])];
  const originals = new Map<NodeJS.WriteStream, Write>();
  const out = (text: string) => originals.get(stream)!.call(stream, text);

  let state: ProgressState | undefined; // the bar being shown (undefined: none)
  let shown: 'none' | 'inline' | 'above' = 'none';
  let atLineStart = true;
  let last = 0;
  let prompt: PromptLine | undefined;

  const bar = () => formatProgress(state!, stream.columns ?? 80);
  const drawInline = () => {
    out(`${CLEAR_LINE}${bar()}`);
    shown = 'inline';
  };
  const hide = (chunkHasNewline: boolean) => {
    if (shown === 'inline') {
      out(CLEAR_LINE);
      shown = 'none';
    } else if (shown === 'above' && chunkHasNewline) {
      out(`${ABOVE}${RESTORE}`);
      shown = 'none';
    }
  };

  for (const s of streams) {
    const original = s.write as unknown as Write;
    originals.set(s, original);
    (s as unknown as { write: Write }).write = function (chunk: unknown, ...rest: unknown[]): boolean {
      const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
      if (text === '' || state === undefined) {
        if (text) atLineStart = text.endsWith('\n');
        return original.call(s, chunk, ...rest);
      }
      hide(text.includes('\n'));
      // A prompt (text that does not end the line) while the bar is up: the bar goes above it.
      if (shown === 'none' && atLineStart && !text.includes('\n')) {
        out(`${CLEAR_LINE}${bar()}\n`);
        shown = 'above';
      }
      const result = original.call(s, chunk, ...rest);
      atLineStart = text.endsWith('\n');
      if (shown === 'none' && atLineStart) drawInline();
      return result;
    };
  }

  const redraw = () => {
    if (shown === 'inline') drawInline();
    else if (shown === 'above') out(`${ABOVE}${bar()}${RESTORE}`);
    else if (atLineStart) drawInline();
    else if (prompt?.idle()) {
      // The prompt is up (a run started in the background): the bar takes its line, the prompt
      // and what was typed move one line down.
      out(`${CLEAR_LINE}${bar()}\n`);
      shown = 'above';
      atLineStart = true;
      prompt.refresh();
    }
  };

  return {
    update(s) {
      const statusChanged = s.status !== state?.status;
      state = s;
      const now = performance.now();
      if (!statusChanged && now - last < intervalMs && (s.total === 0 || s.done < s.total)) return;
      last = now;
      redraw();
    },
    end() {
      if (shown === 'inline') out(CLEAR_LINE);
      else if (shown === 'above') out(`${ABOVE}${RESTORE}`);
      shown = 'none';
      state = undefined;
      last = 0;
    },
    attachPrompt(p) {
      prompt = p;
    },
    dispose() {
      for (const [s, original] of originals) (s as unknown as { write: Write }).write = original;
      originals.clear();
    },
  };
}
