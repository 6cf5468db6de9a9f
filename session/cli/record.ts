/**
 * `concert record SOURCE OUT.clog [--duration 10s] [--mode pull|sub] [--until-end]`: records a
 * ZeroMQ stream (a camera server's PUSH or PUB endpoint) or a websocket (`ws://…`) into a
 * recording, until the duration is over, the stream ends (`--until-end`) or SIGINT/SIGTERM.
 * @module
 */
import { OptionError, sleep } from '../../core/index.js';
import { StreamRecorder } from '../../recording/index.js';

/** The options of `concert record` as commander parses them. */
export interface RecordCliOptions {
  duration?: string;
  mode?: string;
  untilEnd?: boolean;
}

/** Parses `10s`, `500ms`, `2m`, `1h` or a plain number of seconds into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*$/.exec(text);
  if (!m) throw new OptionError(`--duration must be like 10s, 500ms, 2m or 1h, got '${text}'`);
  const scale = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 }[m[2] ?? 's']!;
  return Number(m[1]) * scale;
}

/** Runs `concert record`. */
export async function record(source: string, out: string, o: RecordCliOptions): Promise<void> {
  const durationMs = o.duration === undefined ? undefined : parseDuration(o.duration);
  if (o.mode !== undefined && o.mode !== 'pull' && o.mode !== 'sub')
    throw new OptionError(`--mode must be pull or sub, got '${o.mode}'`);
  const rec = await StreamRecorder.create({ source, mode: o.mode as 'pull' | 'sub' | undefined, recordTo: out });
  try {
    const until = [
      durationMs === undefined ? `SIGINT/SIGTERM` : `${o.duration}`,
      o.untilEnd ? 'the end of the stream' : undefined,
    ].filter(Boolean);
    console.log(`recording ${rec.source.description} to ${out} until ${until.join(' or ')}`);
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const deadline = durationMs === undefined ? Infinity : Date.now() + durationMs;
      while (!controller.signal.aborted && Date.now() < deadline && !(o.untilEnd && rec.counters.ends > 0))
        await sleep(Math.max(0, Math.min(50, deadline - Date.now())), controller.signal).catch(() => undefined);
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    const result = await rec.stop();
    console.log(
      `recorded ${result.frames} frames (${result.records} records, ${(result.bytes / 1e6).toFixed(2)} MB) to ${result.path}`,
    );
  } finally {
    await rec.close();
  }
}
