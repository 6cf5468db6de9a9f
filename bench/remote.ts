/**
 * Remote data path benchmark (issue 5), against raw zeromq.js measured in the same run:
 *  1. 2048×2048 uint16 frames: remote camera server → benchmarker server (counting only), in an
 *     experiment driven from this process, vs raw PUSH/PULL of the same messages between two
 *     processes (target ≥ 0.9);
 *  2. the same with 512×512 frames (msg/s);
 *  3. live-view latency (send → receive) median with PUB HWM 1 and a viewer taking 20 ms/frame;
 *  4. 2048×2048 frames camera server → benchmarker server over shared memory (`shm://`) against
 *     the same servers over ZeroMQ ipc, in the same run.
 * Run: `npx tsx bench/remote.ts`. Every process it starts is stopped at the end.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Pull, Push } from 'zeromq';
import { makeFrame } from '../core/index.js';
import { RemoteCamera } from '../devices/cameras/remote.js';
import { Experiment, remoteAcquisition } from '../experiments/index.js';
import { Benchmarker, spawnServer, type ServerProcess } from '../addons/remote/index.js';
import { encodeEnd, encodeFrame, freePort, tcpEndpoint, ZmqReceiver, ZmqSender } from '../transport/zmq/index.js';
import { shmAvailable, uniqueShmEndpoint } from '../transport/index.js';
import { printResult } from './result.js';
import { preciseNow as now } from '../core/clock.js';

const self = fileURLToPath(import.meta.url);

/** Child: raw PULL, counts until the end marker, prints frames/s from the first frame on. */
async function rawPullChild(endpoint: string): Promise<void> {
  const pull = new Pull({ linger: 0, receiveHighWaterMark: 16 });
  pull.connect(endpoint);
  console.log('ready');
  let first = 0;
  let count = 0;
  for (;;) {
    const parts = await pull.receive();
    if (parts.length === 1) break;
    if (count++ === 0) first = performance.now();
  }
  console.log(JSON.stringify({ fps: ((count - 1) * 1000) / (performance.now() - first), count }));
  pull.close();
}

/** Raw zeromq.js PUSH from this process to a PULL child, same messages as the camera sends. */
async function raw(size: number, n: number): Promise<number> {
  const endpoint = tcpEndpoint(await freePort());
  const push = new Push({ linger: 2000, sendHighWaterMark: 16 });
  await push.bind(endpoint);
  const child = spawn(process.execPath, ['--import', 'tsx', self, '--raw-child', endpoint], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await new Promise<void>((r) => child.stdout.on('data', () => out.includes('ready') && r()));
  const frame = makeFrame(new Uint16Array(size * size), [size, size]);
  for (let i = 0; i < n; i++) await push.send(encodeFrame({ ...frame, metadata: { frameNumber: i, timestamp: 0 } }));
  await push.send(encodeEnd());
  await new Promise((r) => child.once('exit', r));
  push.close();
  return (JSON.parse(out.trim().split('\n').pop()!) as { fps: number }).fps;
}

/** Remote camera → benchmarker server, driven by an experiment in this process. */
async function ours(size: number, n: number, servers: ServerProcess[], data?: string): Promise<number> {
  const [cam, bench] = await Promise.all([
    spawnServer('camera', { width: size, height: size, frameRate: 1e6, simulate: false, loglevel: 'warn' }),
    spawnServer('benchmarker', { loglevel: 'warn' }),
  ]);
  servers.push(cam, bench);
  const camera = await RemoteCamera.create({ endpoint: cam.endpoint });
  const exp = await Experiment.create([await remoteAcquisition('frames', camera, n)]);
  const b = await Benchmarker.create(exp, {
    server: bench.endpoint,
    data: data ?? tcpEndpoint(await freePort()),
    camera,
  });
  await exp.run();
  const t = (await b.timings()).at(-1)!;
  await b.close();
  await camera.disconnect();
  return t.fps;
}

/** Live view: PUB HWM 1 from this process, a SUB child taking 20 ms per frame; median age. */
async function liveChild(endpoint: string): Promise<void> {
  const receiver = await ZmqReceiver.create({ mode: 'sub', connect: endpoint });
  console.log('ready');
  const ages: number[] = [];
  try {
    for await (const f of receiver.stream({ idleTimeoutMs: 3000 })) {
      if (f.metadata.frameNumber > 5) ages.push(now() - (f.metadata.sentAt as number));
      const end = performance.now() + 20;
      while (performance.now() < end); // a viewer busy drawing for 20 ms
      if (ages.length >= 60) break;
    }
  } catch {
    // idle: the sender stopped
  }
  ages.sort((a, b) => a - b);
  console.log(JSON.stringify({ median: ages[Math.floor(ages.length / 2)], n: ages.length }));
  receiver.close();
}

async function live(): Promise<number> {
  const sender = await ZmqSender.create({ mode: 'pub', bind: tcpEndpoint(await freePort()) });
  const child = spawn(process.execPath, ['--import', 'tsx', self, '--live-child', sender.endpoint], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await new Promise<void>((r) => child.stdout.on('data', () => out.includes('ready') && r()));
  await new Promise((r) => setTimeout(r, 200));
  const data = new Uint16Array(512 * 512);
  let exited = false;
  child.once('exit', () => (exited = true));
  for (let i = 0; !exited && i < 100_000; i++) {
    await sender.send(makeFrame(data, [512, 512], { frameNumber: i, sentAt: now() }));
    await new Promise((r) => setTimeout(r, 2));
  }
  sender.close();
  return (JSON.parse(out.trim().split('\n').pop()!) as { median: number }).median;
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

async function main(): Promise<void> {
  const servers: ServerProcess[] = [];
  const deadline = setTimeout(() => {
    console.error('bench/remote.ts: deadline passed, stopping');
    for (const s of servers) s.child.kill('SIGKILL');
    process.exit(1);
  }, 240_000);
  try {
    console.log(`${'benchmark'.padEnd(56)} ${'ours'.padStart(14)} ${'raw zeromq'.padStart(14)} ${'ratio'.padStart(7)}`);
    for (const [size, n] of [
      [2048, 150],
      [512, 3000],
    ] as const) {
      const r: number[] = [];
      const o: number[] = [];
      for (let k = 0; k < 2; k++) {
        r.push(await raw(size, n));
        o.push(await ours(size, n, servers));
        await Promise.all(servers.splice(0).map((s) => s.stop()));
      }
      const label = `${size}² u16 remote camera → server (${((size * size * 2) / 2 ** 20).toFixed(1)} MiB)`;
      console.log(
        `${label.padEnd(56)} ${(median(o).toFixed(0) + ' fps').padStart(14)} ${(median(r).toFixed(0) + ' fps').padStart(14)} ` +
          `${(median(o) / median(r)).toFixed(3).padStart(7)}`,
      );
    }
    if (shmAvailable()) {
      // the same two servers, the frames through shared memory or ZeroMQ ipc (alternating order)
      const [shm, ipc]: number[][] = [[], []];
      for (let k = 0; k < 4; k++) {
        const ipcEndpoint = () => `ipc:///tmp/concert-bench-${process.pid}-${k}.ipc`;
        for (const kind of k % 2 ? ['ipc', 'shm'] : ['shm', 'ipc']) {
          const fps = await ours(2048, 150, servers, kind === 'shm' ? uniqueShmEndpoint('bench') : ipcEndpoint());
          (kind === 'shm' ? shm : ipc).push(fps);
          await Promise.all(servers.splice(0).map((s) => s.stop()));
        }
      }
      const label = '2048² u16 camera server → server over shm:// (vs ipc://)';
      console.log(
        `${label.padEnd(56)} ${(median(shm).toFixed(0) + ' fps').padStart(14)} ` +
          `${(median(ipc).toFixed(0) + ' ipc').padStart(14)} ${(median(shm) / median(ipc)).toFixed(3).padStart(7)}   ` +
          `rounds shm ${shm.map((x) => x.toFixed(0))} ipc ${ipc.map((x) => x.toFixed(0))}`,
      );
      printResult({
        name: 'remote camera server → server, 8 MiB frames over shm:// (whole path)',
        value: median(shm),
        unit: 'frames/s',
        baseline: median(ipc),
        baselineName: 'the same servers over ZeroMQ ipc',
      });
    } else console.log('shm:// row skipped: the optional package shm-typed-array is not installed');
    const age = await live();
    console.log(
      `${'live view frame age, PUB HWM 1, 20 ms viewer (median)'.padEnd(56)} ${(age.toFixed(1) + ' ms').padStart(14)} ` +
        `${'Python 189 ms'.padStart(14)}`,
    );
  } finally {
    clearTimeout(deadline);
    await Promise.all(servers.map((s) => s.stop()));
  }
}

const mode = process.argv[2];
if (mode === '--raw-child') await rawPullChild(process.argv[3]!);
else if (mode === '--live-child') await liveChild(process.argv[3]!);
else await main();
process.exit(0);
