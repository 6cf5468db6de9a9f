/**
 * `concert tango benchmarker`: the Tango device of Python Concert's `TangoBenchmarker`
 * (concert/ext/tangoservers/benchmarking.py): `start_timer(name)` receives one stream and times
 * it, `get_duration(name)` gives the seconds it took, `reset` forgets them.
 * @module
 */
import { DevFailed, defineDevice, type DeviceDefinition, type TangoDevice } from '../../../tango/server/index.js';
import { StreamReception, type StreamReceptionOptions } from './processing.js';

/** The TangoBenchmarker device class. */
export function benchmarkerDevice(options: StreamReceptionOptions = {}): DeviceDefinition {
  let device: TangoDevice | undefined;
  const stream = new StreamReception(() => device!, options);
  const durations = new Map<string, { seconds: number; frames: number; bytes: number }>();
  return defineDevice({
    className: 'TangoBenchmarker',
    description: 'Tango device timing ZeroMQ streams (Concert for TypeScript)',
    initialState: 'STANDBY',
    init: async (d) => {
      device = d;
      await stream.close();
      durations.clear();
    },
    delete: () => stream.close(),
    attributes: {
      ...stream.attributes(),
      last_throughput: {
        type: 'DevDouble',
        unit: 'MB/s',
        description: 'throughput of the last timed stream',
        read: () => {
          const last = [...durations.values()].at(-1);
          return last && last.seconds > 0 ? last.bytes / 1e6 / last.seconds : 0;
        },
      },
    },
    commands: {
      ...stream.commands(),
      get_duration: {
        in: 'DevString',
        out: 'DevDouble',
        handler: (name: string) => {
          const d = durations.get(name);
          if (!d)
            throw new DevFailed(
              'KeyError',
              `no duration of '${name}' (timed: ${[...durations.keys()].join(', ') || 'none'})`,
            );
          return d.seconds;
        },
      },
      start_timer: {
        in: 'DevString',
        handler: async (name: string) => {
          const t0 = performance.now();
          let bytes = 0;
          const frames = await stream.run(name, (frame) => void (bytes += frame.data.byteLength));
          durations.set(name, { seconds: (performance.now() - t0) / 1000, frames, bytes });
        },
      },
      reset: { handler: () => durations.clear() },
    },
  });
}
