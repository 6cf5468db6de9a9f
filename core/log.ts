/**
 * A small logger. Libraries log through `logger`; the session decides where lines go
 * (`concert.log`, stderr, or nowhere) with {@link setLogSink} and {@link setLogLevel}.
 * @module
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ranks: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Receives every line at or above the current level. */
export type LogSink = (level: LogLevel, source: string, message: string, error?: unknown) => void;

let sink: LogSink | undefined;
let threshold = ranks.info;

/** Routes log lines to `next` (or drops them when undefined). Returns the previous sink. */
export function setLogSink(next: LogSink | undefined): LogSink | undefined {
  const previous = sink;
  sink = next;
  return previous;
}

/** Sets the lowest level that is logged. */
export function setLogLevel(level: LogLevel): void {
  if (!(level in ranks))
    throw new TypeError(`unknown log level '${level}' (allowed: ${Object.keys(ranks).join(', ')})`);
  threshold = ranks[level];
}

/** True if `level` is a valid log level name. */
export function isLogLevel(level: unknown): level is LogLevel {
  return typeof level === 'string' && level in ranks;
}

/** A logger bound to a source name (a device, an experiment, a module). */
export class Logger {
  constructor(readonly source: string) {}
  /** True if lines at `level` go anywhere: check it before building costly messages. */
  enabled(level: LogLevel): boolean {
    return sink !== undefined && ranks[level] >= threshold;
  }
  debug(message: string): void {
    emit('debug', this.source, message);
  }
  info(message: string): void {
    emit('info', this.source, message);
  }
  warn(message: string, error?: unknown): void {
    emit('warn', this.source, message, error);
  }
  error(message: string, error?: unknown): void {
    emit('error', this.source, message, error);
  }
}

function emit(level: LogLevel, source: string, message: string, error?: unknown): void {
  if (sink && ranks[level] >= threshold) sink(level, source, message, error);
}

const levelTags: Record<LogLevel, string> = { debug: 'DEBUG', info: 'INFO ', warn: 'WARN ', error: 'ERROR' };
/** `Date.prototype.toISOString()` costs microseconds: the part up to the second is kept. */
let isoSecond = NaN;
let isoPrefix = '';

/** `new Date(ms).toISOString()`, reusing the date and time up to the second of the last call. */
function isoTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20); // 2026-12-01T20:55:12.
  }
  return `${isoPrefix}${String(ms - second * 1000).padStart(3, '0')}Z`;
}

/** Formats one log line the way `concert.log` stores it. */
export function formatLogLine(
  level: LogLevel,
  source: string,
  message: string,
  error?: unknown,
  now: Date | number = Date.now(),
): string {
  const trace =
    error instanceof Error && error.stack ? `\n${error.stack}` : error !== undefined ? `\n${String(error)}` : '';
  const ms = typeof now === 'number' ? now : now.getTime();
  const time = Number.isFinite(ms) && ms >= 0 && ms < 253402300800000 ? isoTime(ms) : new Date(ms).toISOString();
  return `${time} ${levelTags[level]} ${source}: ${message}${trace}\n`;
}
