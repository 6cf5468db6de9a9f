/**
 * Progress for the one-shot commands (`concert movie`, `concert recording …`): the terminal bar on
 * a terminal, otherwise one line every few seconds (logs stay readable).
 * @module
 */
import { OptionError, setProgressRenderer, type ProgressState } from '../../core/index.js';
import { parseContrastArgument, type ContrastSpec } from '../../video/index.js';
import { formatProgress, terminalRenderer } from '../progress.js';

/** Installs a progress renderer on stderr for the rest of the command. */
export function showProgress(stream: NodeJS.WriteStream = process.stderr, everyMs = 5000): void {
  if (stream.isTTY) {
    setProgressRenderer(terminalRenderer(stream));
    return;
  }
  let last = 0;
  const line = (s: ProgressState) => stream.write(`${formatProgress(s, 100)}\n`);
  setProgressRenderer({
    update(s) {
      if (performance.now() - last < everyMs) return;
      last = performance.now();
      line(s);
    },
    end(s) {
      line(s);
    },
  });
}

/** Parses a positive number option (`--fps 30`). @throws OptionError naming the option. */
export function positiveNumber(option: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new OptionError(`${option} must be a number > 0, got '${text}'`);
  return n;
}

/** Parses `--contrast auto|frame|MIN,MAX` into the form the API takes. */
export function contrastOption(text: string | undefined): ContrastSpec | undefined {
  if (text === undefined) return undefined;
  const c = parseContrastArgument(text);
  return c.mode === 'fixed' ? { min: c.min, max: c.max } : c.mode === 'frame' ? 'frame' : 'auto';
}
