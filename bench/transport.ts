/**
 * Transport benchmark (`npx tsx bench/transport.ts [--quick]`): two processes over loopback.
 *
 * 1. Throughput: raw zeromq.js PUSH/PULL of `[JSON header, payload]` messages (default options)
 *    vs `ZmqSender`/`ZmqReceiver`, for 2048×2048 and 512×512 uint16 frames, over tcp and ipc.
 *    Frames/s are measured in the receiving child from the first message to the end marker;
 *    runs alternate raw/ours and the median of the repetitions is reported.
 * 2. Live view: PUB (HWM 1) → SUB, a free-running sender of 512×512 uint16 frames and a viewer
 *    taking 20 ms per frame (busy, then awaiting); frame age = receive time − send time.
 *
 * `--quick`: fewer frames and one repetition; `--live`: the live-view part only.
 * Every child is killed at the end or after a global deadline.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Pull, Push } from 'zeromq';
import { makeFrame } from '../core/frame.js';
import { encodeEnd, tcpEndpoint, uniqueIpcEndpoint, ZmqReceiver, ZmqSender } from '../transport/index.js';

const self = fileURLToPath(import.meta.url);
const now = (): number => performance.timeOrigin + performance.now();
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

function startChild(args: string[]): { ready: Promise<void>; lines: AsyncIterator<string>; exited: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', self, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
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
    const child = startChild(['child-throughput', impl, push.lastEndpoint!]);
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
  const child = startChild(['child-throughput', impl, sender.endpoint]);
  await child.ready;
  for (let i = 0; i < count; i++) await sender.send(makeFrame(payload, [side, side], { frameNumber: i }));
  await sender.end();
  const result = await lastJson(child.lines);
  await child.exited;
  sender.close();
  return result.fps as number;
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

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const reps = quick ? 1 : 3;
  const guard = setTimeout(() => {
    console.error('bench/transport: global deadline reached, stopping');
    for (const child of children) child.kill('SIGKILL');
    process.exit(2);
  }, 300_000);
  console.log(`# transport bench: Node ${process.version}, ${reps} repetition(s), median frames/s (receiver side)`);
  console.log('| transport | frame | raw zeromq.js | ZmqSender/ZmqReceiver | ratio | anchor |');
  console.log('|---|---|---|---|---|---|');
  for (const transport of process.argv.includes('--live') ? [] : (['tcp', 'ipc'] as const)) {
    for (const [side, count, label, anchor] of [
      [2048, quick ? 150 : 400, '2048² u16 (8 MiB)', 250],
      [512, quick ? 2000 : 6000, '512² u16 (0.5 MiB)', 4000],
    ] as const) {
      const raw: number[] = [];
      const ours: number[] = [];
      for (let r = 0; r < reps; r++) {
        raw.push(await throughput('raw', transport, side, count));
        ours.push(await throughput('ours', transport, side, count));
      }
      const [a, b] = [median(raw), median(ours)];
      console.log(
        `| ${transport} | ${label} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${(b / a).toFixed(2)} | ≥ ${anchor} ` +
          `${b >= anchor ? 'met' : 'missed'} |`,
      );
    }
  }
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
  clearTimeout(guard);
}

const [role, ...rest] = process.argv.slice(2);
if (role === 'child-throughput') await childThroughput(rest[0] as Impl, rest[1]!);
else if (role === 'child-live') await childLiveView(rest[0]!, rest[1] as 'busy' | 'async', Number(rest[2]));
else
  await main().finally(() => {
    for (const child of children) child.kill('SIGKILL');
  });
