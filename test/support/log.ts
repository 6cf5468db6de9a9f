/**
 * Captures Concert's log lines during a test (`setLogSink`), restoring the previous sink after.
 * @module
 */
import { setLogLevel, setLogSink, type LogLevel } from '../../core/index.js';

export interface CapturedLine {
  level: LogLevel;
  source: string;
  message: string;
}

/** Runs `fn` with a log sink that records every line (`fn` sees them as they come); returns the lines. */
export async function captureLog(
  fn: (lines: readonly CapturedLine[]) => Promise<unknown> | unknown,
  level: LogLevel = 'debug',
): Promise<CapturedLine[]> {
  const lines: CapturedLine[] = [];
  const previous = setLogSink((l, source, message) => lines.push({ level: l, source, message }));
  setLogLevel(level);
  try {
    await fn(lines);
  } finally {
    setLogSink(previous);
    setLogLevel('info');
  }
  return lines;
}
