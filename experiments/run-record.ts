/**
 * What a run leaves in its scan directory besides the data: `experiment.log` (every log line of
 * the run) and the JSON snapshots of every device before and after it.
 * @module
 * @internal
 */
import {
  errorMessage,
  formatLogLine,
  registeredDevices,
  setLogSink,
  type LogSink,
  type Parameterizable,
} from '../core/index.js';
import type { Walker } from '../walkers/index.js';

/** Copies every log line into `experiment.log` of the walker's current directory until the returned function is called. */
export function teeLog(walker: Walker): () => Promise<void> {
  let pending = Promise.resolve();
  let previous: LogSink | undefined = undefined;
  const sink: LogSink = (level, source, message, error) => {
    previous?.(level, source, message, error);
    const line = formatLogLine(level, source, message, error);
    pending = pending.then(() => walker.appendText('experiment.log', line)).catch(() => undefined);
  };
  previous = setLogSink(sink);
  return async () => {
    setLogSink(previous);
    await pending;
  };
}

/** The JSON of `experiment_start.json` (no outcome) or `experiment_finish.json`. */
export async function runSnapshot(
  experiment: Parameterizable,
  acquisitions: readonly { name: string }[],
  iteration: number,
  outcome?: string,
  failure?: unknown,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const devices: Record<string, unknown> = {};
  await Promise.all(registeredDevices().map(async (d) => void (devices[d.name] = await d.snapshot())));
  return (
    JSON.stringify(
      {
        experiment: experiment.name,
        iteration,
        time: new Date().toISOString(),
        acquisitions: acquisitions.map((a) => a.name),
        ...(outcome ? { outcome, error: failure === undefined ? undefined : errorMessage(failure) } : {}),
        ...extra,
        parameters: await experiment.snapshot(),
        devices,
      },
      null,
      2,
    ) + '\n'
  );
}
