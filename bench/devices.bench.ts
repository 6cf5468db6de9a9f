/**
 * Device-model overhead, each against a baseline measured in the same run:
 *  - parameter get/set (soft number parameter) vs a bare async function call;
 *  - quantity set (unit conversion, with and without soft limits) vs a bare async call with the
 *    same plain-number range check;
 *  - dummy camera frame rate (`simulate: false`, 1 MHz frame rate so pacing never waits, 512×512)
 *    through `stream()` vs a bare async generator yielding the same frames.
 * Run alone: `npx tsx bench/run.ts devices`.
 * @module
 */
import { Device, makeFrame, q, soft, type Frame } from '../core/index.js';
import * as cameras from '../devices/cameras/dummy.js';
import { itemsPerSecond, microsPerOp, type BenchResult } from './result.js';

class Bench extends Device {
  readonly count = this.parameter<number>('count', soft(0));
  readonly free = this.quantity('free', { unit: 'mm', ...soft(0) });
  readonly limited = this.quantity('limited', { unit: 'mm', lower: -1e9, upper: 1e9, ...soft(0) });
}

export async function run(): Promise<BenchResult[]> {
  const device = await Bench.create({ name: 'bench' });
  let stored = 0;
  const bareGet = async () => stored;
  const bareSet = async (v: number) => {
    if (!(v >= -1e9 && v <= 1e9)) throw new RangeError('out of range');
    stored = v;
  };
  const bare = await microsPerOp(() => bareGet());
  const bareWrite = await microsPerOp((i) => bareSet(i));
  const get = await microsPerOp(() => device.count.get());
  const set = await microsPerOp((i) => device.count.set(i));
  const values = Array.from({ length: 1024 }, (_, i) => q(i, 'mm'));
  const setFree = await microsPerOp((i) => device.free.set(values[i & 1023]!));
  const setLimited = await microsPerOp((i) => device.limited.set(values[i & 1023]!));

  const width = 512;
  const height = 512;
  const camera = await cameras.DummyCamera.create({
    name: 'benchCamera',
    width,
    height,
    simulate: false,
    frameRate: q('1e6 Hz'),
  });
  const pixels = new Uint16Array(width * height).fill(1);
  const bareFrames = async function* (signal: AbortSignal): AsyncGenerator<Frame> {
    for (let i = 0; !signal.aborted; i++) yield makeFrame(pixels, [height, width], { frameNumber: i });
  };
  const bareRate = await itemsPerSecond(bareFrames);
  const cameraRate = await itemsPerSecond((signal) => camera.stream({ signal }));
  await camera.disconnect();
  await device.disconnect();

  const call = 'bare async call';
  return [
    { name: 'parameter get (soft number)', value: get, unit: 'µs/op', baseline: bare, baselineName: call },
    { name: 'parameter set (soft number, logged)', value: set, unit: 'µs/op', baseline: bareWrite, baselineName: call },
    { name: 'quantity set, no limits', value: setFree, unit: 'µs/op', baseline: bareWrite, baselineName: call },
    {
      name: 'quantity set with limit check',
      value: setLimited,
      unit: 'µs/op',
      baseline: bareWrite,
      baselineName: call,
    },
    {
      name: 'dummy camera stream 512×512 (simulate: false)',
      value: cameraRate,
      unit: 'frames/s',
      baseline: bareRate,
      baselineName: 'bare async generator',
    },
  ];
}
