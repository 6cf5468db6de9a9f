/**
 * Fuzz of every server kind (issue 10): ≥ 10⁵ malformed messages to each of the writer, live,
 * benchmarker, camera and reco servers — malformed data messages on the data socket of the
 * stream servers, malformed control requests on every control socket — then checks that the
 * server process is alive, answers, and takes a new valid stream in full (the camera: still grabs).
 * Rows: crashes (goal 0) and the server's resident memory after the fuzz against before it
 * (goal ratio ≤ 1.2; "before" is measured after a warm-up with a third as many of the same messages).
 *
 * Run: `npx tsx bench/remote-fuzz.ts [--messages 100000] [--only writer,camera]`.
 * @module
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dealer, Push } from 'zeromq';
import { errorMessage, makeFrame, sleep } from '../core/index.js';
import {
  ServerClient,
  spawnServer,
  type ServerKind,
  type ServerProcess,
  type StreamStatus,
} from '../addons/remote/index.js';
import { ControlClient, encodeEnd, encodeFrame, freePort, tcpEndpoint } from '../transport/zmq/index.js';
import { malformedControl, malformedFrames } from '../test/support/malformed.js';
import { printResult } from './result.js';

/** The parameters each control method reads (methods without any are valid whatever is sent). */
const STREAM_METHODS = {
  connect: ['endpoint', 'mode'],
  'stream.start': ['name', 'id'],
  'stream.cancel': ['id'],
  status: [],
  'stream.status': [],
} as const;
const METHODS: Record<ServerKind, Record<string, readonly string[]>> = {
  writer: {
    ...STREAM_METHODS,
    'walker.configure': ['root', 'dsetname', 'startIndex', 'bytesPerFile', 'format'],
    'walker.descend': ['name', 'at'],
    'walker.exists': ['path', 'at'],
    'walker.writeText': ['name', 'text', 'at'],
    'walker.appendText': ['name', 'text', 'at'],
  },
  live: STREAM_METHODS,
  benchmarker: STREAM_METHODS,
  reco: {
    ...STREAM_METHODS,
    'reco.configure': ['parameters', 'number', 'names', 'directory', 'workers'],
    'reco.findAxis': ['centers', 'metric'],
    'reco.rereconstruct': ['region', 'centerPositionX'],
  },
  camera: {
    'param.get': ['name'],
    'param.set': ['name', 'value'],
    'endpoint.register': ['endpoint', 'mode', 'sendHighWaterMark'],
    'endpoint.unregister': ['endpoint'],
    'grabSend.start': ['count', 'end', 'stream'],
  },
};
const KINDS: ServerKind[] = ['writer', 'live', 'benchmarker', 'camera', 'reco'];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Resident memory of a process (bytes), from /proc. */
async function rss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

function alive(server: ServerProcess): boolean {
  return server.child.exitCode === null && server.child.signalCode === null;
}

/** Sends `messages` on a raw socket, a few hundred at a time, draining replies. */
async function blast(send: (parts: Buffer[]) => Promise<void>, messages: Buffer[][]): Promise<void> {
  for (const parts of messages) await send(parts.map((b) => Buffer.from(b)));
}

interface Outcome {
  kind: ServerKind;
  sent: number;
  crashed: boolean;
  before: number;
  after: number;
  healthy: string;
}

async function fuzz(kind: ServerKind, total: number, root: string): Promise<Outcome> {
  const server = await spawnServer(
    kind,
    { loglevel: 'error', ...(kind === 'writer' || kind === 'reco' ? { root } : {}) },
    90_000,
  );
  const pid = server.child.pid!;
  const dealer = new Dealer({ linger: 0, sendHighWaterMark: 1000, receiveHighWaterMark: 100_000 });
  dealer.connect(server.endpoint);
  let replies = 0;
  const draining = (async () => {
    try {
      for (;;) {
        await dealer.receive();
        replies++;
      }
    } catch {
      // closed
    }
  })();
  const push = new Push({ linger: 0, sendHighWaterMark: 1000 });
  const data = tcpEndpoint(await freePort());
  await push.bind(data);
  const client = await ServerClient.create(server.endpoint, { timeoutMs: 20_000 }).catch(() => undefined);
  const streaming = kind !== 'camera';
  const streamName = kind === 'reco' ? 'darks' : 'fuzz';
  try {
    if (streaming) {
      await client!.connectData(data, 'pull');
      await client!.startStream(streamName, { id: 'fuzz' });
    }
    const dataShare = streaming ? 0.6 : 0;
    const frames = malformedFrames(Math.round(total * dataShare), 11);
    const control = malformedControl(total - frames.length, METHODS[kind], 13);
    // V8 grows its heap to a working size before it settles: warm up with a third as many
    const warm = Math.round(total / 3);
    // warm-up with the same kinds of messages, then "before"
    await blast((p) => push.send(p), frames.slice(0, Math.round(warm * dataShare)));
    await blast((p) => dealer.send(p), control.slice(0, warm - Math.round(warm * dataShare)));
    await sleep(2000);
    const before = await rss(pid);
    let sent = 0;
    const t0 = performance.now();
    const chunk = 5000;
    for (let i = 0; i < Math.max(frames.length, control.length); i += chunk) {
      await blast((p) => push.send(p), frames.slice(i, i + chunk));
      await blast((p) => dealer.send(p), control.slice(i, i + chunk));
      sent = Math.min(frames.length, i + chunk) + Math.min(control.length, i + chunk);
      if (!alive(server)) break;
      if ((i / chunk) % 4 === 0)
        process.stdout.write(
          `   ${kind}: ${sent} sent, ${replies} error replies (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`,
        );
    }
    await sleep(3000);
    const crashed = !alive(server);
    const after = crashed ? Number.NaN : await rss(pid);
    // still healthy: answers, and takes a valid stream (the camera: grabs)
    let healthy = 'ok';
    try {
      if (crashed) throw new Error(`exited: ${server.output().slice(-500)}`);
      const check = await ControlClient.create({ connect: server.endpoint, timeoutMs: 20_000 });
      try {
        if (streaming) {
          // the fuzzed stream may have ended meanwhile (30 s without a valid frame is idle): drop
          // it as an addon would, then a new stream must be taken and confirmed in full
          const status = await check.request<StreamStatus>('stream.status');
          if (status.state === 'running') await check.request('stream.cancel', { id: 'fuzz' });
          const start = performance.now() + 20_000;
          for (;;) {
            try {
              await check.request('stream.start', { name: streamName, id: 'after-fuzz' });
              break;
            } catch (error) {
              // a cancelled stream is still closing: ask again
              if (performance.now() > start) throw error;
              await sleep(200);
            }
          }
          const frame = makeFrame(new Uint16Array(64).fill(3), [8, 8], { frameNumber: 0 });
          for (let i = 0; i < 3; i++)
            await push.send(
              encodeFrame({ ...frame, metadata: { frameNumber: i, timestamp: 0 } }, { stream: 'after-fuzz' }),
            );
          await push.send(encodeEnd({ stream: 'after-fuzz', frames: 3 }));
          const end = performance.now() + 20_000;
          for (;;) {
            const s = await check.request<StreamStatus>('stream.status');
            if (s.id === 'after-fuzz' && s.state === 'done' && s.frames === 3) break;
            if ((s.id === 'after-fuzz' && s.state !== 'running') || performance.now() > end)
              throw new Error(`the stream after the fuzz ended '${s.state}' with ${s.frames} frames`);
            await sleep(100);
          }
        } else {
          await check.request('camera.startRecording');
          await check.request('camera.grab');
          await check.request('camera.stopRecording');
        }
      } finally {
        check.close();
      }
    } catch (error) {
      healthy = errorMessage(error);
    }
    return { kind, sent, crashed, before, after, healthy };
  } finally {
    client?.close();
    dealer.close();
    push.close();
    await draining;
    await server.stop('SIGKILL');
  }
}

async function main(): Promise<void> {
  const total = Number(arg('messages') ?? 100_000);
  const kinds = (arg('only')?.split(',') as ServerKind[] | undefined) ?? KINDS;
  const root = await mkdtemp(join(tmpdir(), 'concert-fuzz-'));
  try {
    for (const kind of kinds) {
      const o = await fuzz(kind, total, root);
      console.log(
        `${kind}: ${o.sent} malformed messages, ${o.crashed ? 'CRASHED' : 'alive'}, memory ` +
          `${(o.before / 2 ** 20).toFixed(1)} → ${(o.after / 2 ** 20).toFixed(1)} MiB, afterwards: ${o.healthy}`,
      );
      printResult({
        name: `fuzz ${kind} server (${o.sent} malformed messages): crashes or unhealthy after`,
        value: o.crashed || o.healthy !== 'ok' ? 1 : 0,
        unit: 'crashes',
        goal: { of: 'value', atMost: 0 },
      });
      printResult({
        name: `fuzz ${kind} server: memory after the fuzz`,
        value: o.after / 2 ** 20,
        unit: 'MiB',
        baseline: o.before / 2 ** 20,
        baselineName: 'before the fuzz',
        goal: { of: 'ratio', atMost: 1.2 },
      });
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
