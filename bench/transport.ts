/**
 * Transport benchmark (`npx tsx bench/transport.ts [--quick] [--live]`): two processes on one host.
 *
 * 1. ZeroMQ over tcp loopback, 2048² (8 MiB) and 512² (0.5 MiB) uint16 frames, in rounds that
 *    alternate: Python Concert's ZmqSender/ZmqReceiver and raw pyzmq (its own bench_zmq.py, see
 *    bench/anchors.ts), raw zeromq.js PUSH/PULL of the same `[JSON header, payload]` messages, and
 *    our ZmqSender/ZmqReceiver (the receiving child started as our servers are, with
 *    addons/remote/server-runtime.ts's settings; the raw zeromq.js child with Node's defaults).
 *    Frames/s at the receiver (first message to end marker; Python Concert's script counts from
 *    the sender's start, the same within one frame); medians.
 * 2. Frames between processes on one host, 8 MiB: our ZeroMQ over ipc against our shared-memory
 *    transport (shm://), the receiver lent each frame from the ring (as the writer, reco and
 *    benchmarker servers are) and copying it out; and the memcpy rate measured here, the limit of
 *    the one copy into the ring.
 * 3. Live view: PUB (HWM 1) → SUB, a free-running sender of 512×512 uint16 frames and a viewer
 *    taking 20 ms per frame (busy, then awaiting); frame age = receive time − send time.
 *
 * Rows for `npm run bench` (BENCH_RESULT lines) carry the goals of issue 16. `--quick`: fewer
 * frames and one round; `--live`: the live-view part only; `--tcp`, `--shm`: that part only. Every child is killed at the end or
 * after a global deadline.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Pull, Push } from 'zeromq';
import { serverProcess } from '../addons/remote/index.js';
import { makeFrame } from '../core/frame.js';
import {
  encodeEnd,
  ShmReceiver,
  ShmSender,
  shmAvailable,
  tcpEndpoint,
  uniqueIpcEndpoint,
  uniqueShmEndpoint,
  ZmqReceiver,
  ZmqSender,
} from '../transport/index.js';
import { runAnchor } from './anchors.js';
import { printResult, type BenchResult } from './result.js';
import { preciseNow as now } from '../core/clock.js';

const self = fileURLToPath(import.meta.url);
type Impl = 'raw' | 'ours';

// ---------------------------------------------------------------- children
async function childThroughput(impl: Impl, endpoint: string): Promise<void> {
  let first = 0;
  let count = 0;
  let bytes = 0;
  if (impl === 'raw') {
    const pull = new Pull({ linger: 0 });
    pull.connect(endpoint);
    console.log('ready');
    for (;;) {
      const parts = await pull.receive();
      if (parts.length === 1) break;
      if (count++ === 0) first = performance.now();
      bytes += parts[1]!.length;
    }
    pull.close();
  } else {
    const receiver = await ZmqReceiver.create({ mode: 'pull', connect: endpoint });
    console.log('ready');
    for await (const frame of receiver.stream({ idleTimeoutMs: 20_000 })) {
      if (count++ === 0) first = performance.now();
      bytes += frame.data.byteLength;
    }
    receiver.close();
  }
  const seconds = (performance.now() - first) / 1000;
  console.log(JSON.stringify({ fps: (count - 1) / seconds, count, bytes }));
}

async function childShm(endpoint: string, borrow: boolean): Promise<void> {
  const receiver = await ShmReceiver.create({ mode: 'pull', connect: endpoint });
  await receiver.waitConnected(20_000);
  console.log('ready');
  let first = 0;
  let count = 0;
  for await (const _ of receiver.stream({ idleTimeoutMs: 20_000, borrow }))
    if (count++ === 0) first = performance.now();
  const seconds = (performance.now() - first) / 1000;
  console.log(JSON.stringify({ fps: (count - 1) / seconds, count }));
  receiver.close();
}

async function childLiveView(endpoint: string, viewer: 'busy' | 'async', frames: number): Promise<void> {
  const receiver = await ZmqReceiver.create({ mode: 'sub', connect: endpoint });
  console.log('ready');
  const ages: number[] = [];
  for await (const frame of receiver.stream({ idleTimeoutMs: 20_000 })) {
    const age = now() - (frame.metadata.sentAt as number);
    if (frame.metadata.frameNumber > 0) ages.push(age); // skip the subscription warm-up
    if (viewer === 'busy') {
      const until = performance.now() + 20;
      while (performance.now() < until); // a viewer that keeps the CPU (rendering) for 20 ms
    } else await new Promise((resolve) => setTimeout(resolve, 20)); // a viewer that awaits (encoding in a worker)
    if (ages.length === frames) console.log('enough');
  }
  console.log(JSON.stringify({ ages, counters: receiver.counters }));
  receiver.close();
}

// ---------------------------------------------------------------- parent
const children = new Set<ChildProcess>();

/**
 * Starts this file as a child with `args`. `ours`: a receiver of ours, started as our servers are
 * (addons/remote/server-runtime.ts); the raw zeromq.js child keeps Node's defaults.
 */
function startChild(
  args: string[],
  ours = true,
): { ready: Promise<void>; lines: AsyncIterator<string>; exited: Promise<void> } {
  const { nodeOptions, env } = serverProcess(ours);
  const child = spawn(process.execPath, [...nodeOptions, '--import', 'tsx', self, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env,
  });
  children.add(child);
  const exited = new Promise<void>((resolve) =>
    child.on('exit', () => {
      children.delete(child);
      resolve();
    }),
  );
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const ready = lines.next().then((line) => {
    if (line.value !== 'ready') throw new Error(`child did not start: ${String(line.value)}`);
  });
  return { ready, lines, exited };
}

async function lastJson(lines: AsyncIterator<string>): Promise<Record<string, unknown>> {
  let last = '';
  for (let line = await lines.next(); !line.done; line = await lines.next()) last = line.value;
  return JSON.parse(last) as Record<string, unknown>;
}

async function throughput(impl: Impl, transport: 'tcp' | 'ipc', side: number, count: number): Promise<number> {
  const payload = new Uint16Array(side * side).fill(7);
  const endpoint = transport === 'tcp' ? tcpEndpoint() : uniqueIpcEndpoint('bench');
  if (impl === 'raw') {
    const push = new Push({ linger: 1000 });
    await push.bind(endpoint);
    const child = startChild(['child-throughput', impl, push.lastEndpoint!], false);
    await child.ready;
    const body = Buffer.from(payload.buffer);
    for (let i = 0; i < count; i++) {
      const header = Buffer.from(
        JSON.stringify({ dtype: 'uint16', shape: [side, side], frameNumber: i, timestamp: Date.now(), version: 1 }),
      );
      await push.send([header, body]);
    }
    await push.send(encodeEnd());
    const result = await lastJson(child.lines);
    await child.exited;
    push.close();
    return result.fps as number;
  }
  const sender = await ZmqSender.create({ mode: 'push', bind: endpoint });
  return sendToChild(sender, ['child-throughput', impl, sender.endpoint], payload, side, count);
}

/** Sends `count` frames of `payload` to a child started with `args`, then the end; the child's frames/s. */
async function sendToChild(
  sender: ZmqSender | ShmSender,
  args: string[],
  payload: Uint16Array,
  side: number,
  count: number,
): Promise<number> {
  const child = startChild(args);
  await child.ready;
  for (let i = 0; i < count; i++) await sender.send(makeFrame(payload, [side, side], { frameNumber: i }));
  await sender.end();
  const result = await lastJson(child.lines);
  await child.exited;
  sender.close();
  return result.fps as number;
}

/** Shared memory, this process sending, the child receiving (lent or copied frames). */
async function shmThroughput(side: number, count: number, borrow: boolean): Promise<number> {
  const payload = new Uint16Array(side * side).fill(7);
  const sender = await ShmSender.create({ mode: 'push', bind: uniqueShmEndpoint('bench') });
  return sendToChild(sender, ['child-shm', sender.endpoint, borrow ? 'borrow' : 'copy'], payload, side, count);
}

/** Buffer.copy of `bytes` into a buffer that is reused (no page faults): GB/s. */
function memcpyRate(bytes: number): number {
  const src = Buffer.alloc(bytes, 7);
  const dst = Buffer.alloc(bytes);
  for (let i = 0; i < 5; i++) src.copy(dst);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 500) {
    src.copy(dst);
    n++;
  }
  return (n * bytes) / ((performance.now() - t0) / 1000) / 1e9;
}

async function liveView(
  viewer: 'busy' | 'async',
  frames: number,
): Promise<{ median: number; p90: number; shown: number; sent: number; dropped: number; superseded: number }> {
  const sender = await ZmqSender.create({ mode: 'pub', bind: tcpEndpoint() });
  const child = startChild(['child-live', sender.endpoint, viewer, String(frames)]);
  await child.ready;
  const data = new Uint16Array(512 * 512).fill(3);
  let enough = false;
  void child.lines.next().then(() => (enough = true)); // 'enough'
  let i = 0;
  const deadline = Date.now() + 30_000;
  while (!enough && Date.now() < deadline) {
    await sender.send(makeFrame(data, [512, 512], { frameNumber: i++, sentAt: now() }));
    await new Promise(setImmediate);
  }
  await sender.end();
  const result = await lastJson(child.lines);
  await child.exited;
  const { sent, dropped } = sender.counters;
  sender.close();
  const ages = (result.ages as number[]).sort((a, b) => a - b);
  const counters = result.counters as { superseded: number };
  return {
    median: ages[ages.length >> 1]!,
    p90: ages[Math.floor(ages.length * 0.9)]!,
    shown: ages.length,
    sent,
    dropped,
    superseded: counters.superseded,
  };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!;

type Anchor = Record<string, number> | { missing: string };
const fps = (a: Anchor): number | undefined => ('fps' in a ? a.fps : undefined);
const why = (a: Anchor): string | undefined => ('missing' in a ? String(a.missing) : undefined);

/** A row against a reference that may be missing (median of the rounds that measured it). */
function row(
  name: string,
  value: number,
  unit: string,
  refs: Anchor[],
  refName: string,
  goal?: BenchResult['goal'],
): BenchResult {
  const values = refs.map(fps).filter((x): x is number => x !== undefined);
  const missing = values.length === 0 ? (refs.map(why).find((x) => x) ?? 'not measured') : undefined;
  return {
    name,
    value,
    unit,
    baseline: values.length ? median(values) : undefined,
    baselineName: refName,
    goal,
    missing,
  };
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const reps = quick ? 1 : 3;
  const guard = setTimeout(() => {
    console.error('bench/transport: global deadline reached, stopping');
    for (const child of children) child.kill('SIGKILL');
    process.exit(2);
  }, 600_000);
  const rows: BenchResult[] = [];
  console.log(
    `# transport bench: Node ${process.version}, ${reps} round(s), median frames/s at the receiver; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  const only = ['--live', '--tcp', '--shm'].filter((f) => process.argv.includes(f));
  const part = (flag: string) => only.length === 0 || only.includes(flag);
  if (part('--tcp')) {
    console.log('| tcp loopback | Python Concert | raw pyzmq | raw zeromq.js | ours | ours / Python Concert |');
    console.log('|---|---|---|---|---|---|');
    for (const [side, count, label, goal] of [
      [2048, quick ? 100 : 200, '8 MiB', 1.2],
      [512, quick ? 1000 : 3000, '0.5 MiB', 2.4],
    ] as const) {
      const concert: Anchor[] = [];
      const pyzmq: Anchor[] = [];
      const raw: number[] = [];
      const ours: number[] = [];
      for (let r = 0; r < reps; r++) {
        concert.push(await runAnchor(['zmq', String(side), String(count)]));
        pyzmq.push(await runAnchor(['zmq', String(side), String(count), 'raw']));
        raw.push(await throughput('raw', 'tcp', side, count));
        ours.push(await throughput('ours', 'tcp', side, count));
      }
      const b = median(ours);
      const pc = row(`ZeroMQ tcp loopback, ${label} frames`, b, 'frames/s', concert, 'Python Concert', {
        of: 'ratio',
        atLeast: goal,
      });
      const f = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(0));
      console.log(
        `| ${label} | ${f(pc.baseline)} | ${f(median(pyzmq.map(fps).filter((x): x is number => x !== undefined)))} ` +
          `| ${f(median(raw))} | ${f(b)} | ${pc.baseline ? (b / pc.baseline).toFixed(2) : pc.missing} |`,
      );
      rows.push(pc);
      rows.push(row(`ZeroMQ tcp loopback, ${label} frames, against raw pyzmq`, b, 'frames/s', pyzmq, 'raw pyzmq'));
      rows.push({
        name: `ZeroMQ tcp loopback, ${label} frames, against raw zeromq.js`,
        value: b,
        unit: 'frames/s',
        baseline: median(raw),
        baselineName: 'raw zeromq.js',
      });
    }
  }
  if (part('--shm')) {
    // Frames between processes on one host: ZeroMQ ipc against shared memory, 8 MiB frames.
    const side = 2048;
    const count = quick ? 100 : 200;
    const ipc: number[] = [];
    const lent: number[] = [];
    const copied: number[] = [];
    const shm = shmAvailable();
    for (let r = 0; r < reps; r++) {
      ipc.push(await throughput('ours', 'ipc', side, count));
      if (shm) {
        lent.push(await shmThroughput(side, count, true));
        copied.push(await shmThroughput(side, count, false));
      }
    }
    const memcpy = memcpyRate(side * side * 2);
    const frameGB = (side * side * 2) / 1e9;
    const missing = shm ? undefined : 'the optional package shm-typed-array is not installed';
    console.log(
      '\n| one host, 8 MiB | ZeroMQ ipc | shared memory, lent | shared memory, copied | memcpy |\n|---|---|---|---|---|\n' +
        `| frames/s | ${median(ipc).toFixed(0)} | ${shm ? median(lent).toFixed(0) : '–'} | ` +
        `${shm ? median(copied).toFixed(0) : '–'} | ${(memcpy / frameGB).toFixed(0)} (${memcpy.toFixed(2)} GB/s) |`,
    );
    if (shm) {
      rows.push({
        name: 'frames between processes, 8 MiB: shared memory (lent from the ring)',
        value: median(lent),
        unit: 'frames/s',
        baseline: median(ipc),
        baselineName: 'ZeroMQ ipc',
        goal: { of: 'ratio', atLeast: 2 },
      });
      rows.push({
        name: 'frames between processes, 8 MiB: shared memory (copied out)',
        value: median(copied),
        unit: 'frames/s',
        baseline: median(ipc),
        baselineName: 'ZeroMQ ipc',
      });
      rows.push({
        name: 'shared memory 8 MiB (lent) against one memcpy of the frame',
        value: median(lent) * frameGB,
        unit: 'GB/s',
        baseline: memcpy,
        baselineName: 'memcpy (Buffer.copy)',
      });
    } else rows.push({ name: 'frames between processes, 8 MiB: shared memory', value: 0, unit: 'frames/s', missing });
  }
  if (part('--live')) {
    console.log(
      '\n# live view: PUB HWM 1 → SUB, 512² u16, free-running sender, viewer 20 ms/frame (target median ≤ 30 ms)',
    );
    console.log('| viewer | frame age median | p90 | frames shown | sent | dropped at PUB | superseded at SUB |');
    console.log('|---|---|---|---|---|---|---|');
    for (const viewer of ['busy', 'async'] as const) {
      const r = await liveView(viewer, quick ? 40 : 100);
      console.log(
        `| ${viewer} | ${r.median.toFixed(1)} ms | ${r.p90.toFixed(1)} ms | ${r.shown} | ${r.sent} | ${r.dropped} | ${r.superseded} |`,
      );
    }
  }
  console.log(
    `load average at end: ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  for (const r of rows) printResult(r);
  clearTimeout(guard);
}

const [role, ...rest] = process.argv.slice(2);
if (role === 'child-throughput') await childThroughput(rest[0] as Impl, rest[1]!);
else if (role === 'child-live') await childLiveView(rest[0]!, rest[1] as 'busy' | 'async', Number(rest[2]));
else if (role === 'child-shm') await childShm(rest[0]!, rest[1] === 'borrow');
else
  await main().finally(() => {
    for (const child of children) child.kill('SIGKILL');
  });
