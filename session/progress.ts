/**
 * The terminal progress bar the REPL installs (through `core/progress.ts`, which library code
 * reports to): `label [#####.....] 12/100  5.2/s  ETA 17s`.
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
  const eta = rate > 0 && s.total > 0 ? (s.total - s.done) / rate : Infinity;
  const tail = ` ${s.done}/${s.total || '?'}  ${rate >= 100 ? rate.toFixed(0) : rate.toFixed(1)}/s  ETA ${duration(eta)}`;
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
      if (now - last < intervalMs && (s.total === 0 || s.done < s.total)) return;
      last = now;
      draw(s);
    },
    end() {
      last = 0;
      stream.write('\r\x1b[2K');
    },
  };
}
